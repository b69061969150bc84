-- name: field_conflict
-- category: source_of_truth_conflict
-- severity: warning
-- description: >
--   A linked record whose value differs from the owner system's, after normalising case, spacing,
--   phone and address formats. Compares descriptive fields (names, emails, phones, addresses, text);
--   money, times and states belong to the job-to-cash checks. A field another system never agrees on
--   is one finding of `field_never_agrees`, not a conflict per record.
WITH never AS (  -- the fields a system keeps as another fact than the owner's
  SELECT entity, field, system FROM field_agreement GROUP BY ALL
  HAVING config.never_agrees(count(*), count(*) FILTER (WHERE agrees))
), shown AS (  -- another system's value that none of the owner's records has (judged in field_agreement), and
  -- what that system shows
  SELECT f.entity, f.canonical_id, f.system, f.field, f.source_id, f.value, a.owner_system
  FROM field_agreement a JOIN field_values f ON f.rowid = a.value_row
  WHERE NOT a.agrees AND NOT EXISTS (
    SELECT 1 FROM never n WHERE n.entity = a.entity AND n.field = a.field AND n.system = a.system)
), owner_values AS (  -- what the owner shows, for the fields apart alone
  SELECT a.entity, a.canonical_id, a.field, min(f.source_id) AS source_id, min(f.value) AS value, min(f.system) AS system
  FROM (SELECT DISTINCT entity, canonical_id, field, owner_system FROM shown) a
  JOIN field_values f ON f.entity = a.entity AND f.canonical_id = a.canonical_id AND f.field = a.field
    AND f.system = a.owner_system
  GROUP BY ALL
)
SELECT [{'entity': c.entity, 'system': o.system, 'source_id': o.source_id, 'canonical_id': c.canonical_id},
        {'entity': c.entity, 'system': c.system, 'source_id': c.source_id, 'canonical_id': c.canonical_id}] AS entities,
  c.field AS field, c.system AS owner,
  printf('%s %s: %s has %s, the owner %s has %s', config.capital(c.entity), o.source_id, c.system, c.value, o.system, o.value) AS title,
  map([o.system, c.system], [o.value, c.value]) AS "values"
FROM shown c JOIN owner_values o USING (entity, canonical_id, field)
