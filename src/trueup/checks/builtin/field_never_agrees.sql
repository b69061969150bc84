-- name: field_never_agrees
-- category: vendor_setting
-- severity: warning
-- cause: configuration
-- about: setting
-- description: >
--   A field another system keeps for the same real things as its owner, but almost never with the
--   owner's value: at most one in twenty of twenty or more linked records agree. Two different facts
--   mapped to one field (a ledger that numbers invoices its own way, an office phone beside a mobile),
--   so one finding for the mapping, where `field_conflict` would raise one per record.
WITH counted AS (
  SELECT entity, field, system, any_value(owner_system) AS owner_system, count(*) AS compared,
    count(*) FILTER (WHERE agrees) AS agreeing, min(value_row) FILTER (WHERE NOT agrees) AS example
  FROM field_agreement GROUP BY entity, field, system
), never AS (
  SELECT c.*, f.canonical_id, f.value FROM counted c JOIN field_values f ON f.rowid = c.example
  WHERE config.never_agrees(c.compared, c.agreeing)
), owner_value AS (  -- the owner's value beside the example
  SELECT n.entity, n.field, n.system, min(f.value) AS value
  FROM never n JOIN field_values f ON f.entity = n.entity AND f.canonical_id = n.canonical_id
    AND f.field = n.field AND f.system = n.owner_system
  GROUP BY ALL
)
SELECT [{'entity': n.entity, 'system': n.system, 'source_id': NULL::VARCHAR}] AS entities, n.field,
  n.entity || ':' || n.system AS key, n.system AS owner,
  printf('%s %s.%s never agrees with the owner %s: %d of %d linked records have the same value', n.system,
         n.entity, n.field, n.owner_system, n.agreeing, n.compared) AS title,
  printf('different facts: %s %s.%s is not what the owner %s keeps as %s', n.system, n.entity, n.field,
         n.owner_system, n.field) AS cause_reason,
  printf('For the same %s, %s has %s where %s has %s. Map %s''s column as an `extra:` field of its %s'
         ' mapping (a fact of its own), and %s to the column that holds %s''s value if %s keeps one; then run again.',
         n.entity, n.owner_system, o.value, n.system, n.value, n.system, n.entity, n.field, n.owner_system,
         n.system) AS detail,
  map([n.owner_system, n.system], [o.value, n.value]) AS "values"
FROM never n LEFT JOIN owner_value o USING (entity, field, system)
