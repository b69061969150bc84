-- name: field_conflict
-- category: source_of_truth_conflict
-- severity: warning
-- description: >
--   A linked record whose value differs from the owner system's, after normalising case, spacing,
--   phone and address formats. Compares descriptive fields (names, emails, phones, addresses, text);
--   money, times and states belong to the job-to-cash checks.
WITH fields AS (  -- each field a system (not a spreadsheet) maps, with its owner, declared for it or for all
  SELECT DISTINCT m.entity, m.system, m.field, o.owner AS field_owner, coalesce(o.owner, star.owner) AS owner_system
  FROM config.mappings m
  JOIN config.systems s ON s.system = m.system AND s.kind = 'system'
  LEFT JOIN config.ownership o ON o.entity = m.entity AND o.field = m.field
  LEFT JOIN config.ownership star ON star.entity = m.entity AND star.field = '*'
), compared AS MATERIALIZED (  -- field_values holds only real things two or more systems hold; the values
  -- compared and their rows in it: what people see is read for the values apart alone (the declarations
  -- joined in once, each value's field with its owner: three joins over every value took 0.35 s on `large`)
  SELECT v.rowid AS value_row, v.entity, v.canonical_id, v.system, v.field, v.norm, f.owner_system
  FROM field_values v JOIN fields f ON f.entity = v.entity AND f.system = v.system AND f.field = v.field
  WHERE v.kind IN ('text', 'name', 'email', 'phone', 'address', 'postal_code', 'country')
     OR (v.kind = 'extra' AND f.field_owner IS NOT NULL)
), owned AS (SELECT * FROM compared WHERE system = owner_system),
apart AS (  -- another system's value that none of the owner's records has: each beside the owner's values
  -- of the field, kept when none is the same (one join, where a semi and an anti join hashed every value
  -- twice: 1.5 -> 1.35 s on `large`); compared first, titled after
  SELECT * FROM compared WHERE value_row IN (
    SELECT c.value_row FROM compared c
    JOIN owned o ON o.entity = c.entity AND o.canonical_id = c.canonical_id AND o.field = c.field
    WHERE c.system <> c.owner_system AND c.norm IS NOT NULL
    GROUP BY c.value_row HAVING NOT bool_or(o.norm IS NOT DISTINCT FROM c.norm))
), shown AS (  -- what the other system shows
  SELECT a.*, f.source_id, f.value FROM apart a JOIN field_values f ON f.rowid = a.value_row
), owner_values AS (  -- what the owner shows, for the fields apart alone
  SELECT o.entity, o.canonical_id, o.field, min(f.source_id) AS source_id, min(f.value) AS value, min(o.system) AS system
  FROM owned o SEMI JOIN (SELECT DISTINCT entity, canonical_id, field FROM apart) a USING (entity, canonical_id, field)
  JOIN field_values f ON f.rowid = o.value_row
  GROUP BY ALL
)
SELECT [{'entity': c.entity, 'system': o.system, 'source_id': o.source_id, 'canonical_id': c.canonical_id},
        {'entity': c.entity, 'system': c.system, 'source_id': c.source_id, 'canonical_id': c.canonical_id}] AS entities,
  c.field AS field, c.system AS owner,
  printf('%s %s: %s has %s, the owner %s has %s', config.capital(c.entity), o.source_id, c.system, c.value, o.system, o.value) AS title,
  map([o.system, c.system], [o.value, c.value]) AS "values"
FROM shown c JOIN owner_values o USING (entity, canonical_id, field)
