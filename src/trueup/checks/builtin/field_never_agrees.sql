-- name: field_never_agrees
-- category: vendor_setting
-- severity: warning
-- cause: configuration
-- description: >
--   A field another system keeps for the same real things as its owner, but almost never with the
--   owner's value: at most one in twenty of twenty or more linked records agree. Two different facts
--   mapped to one field (a ledger that numbers invoices its own way, an office phone beside a mobile),
--   so one finding for the mapping, where `field_conflict` would raise one per record.
SELECT [{'entity': entity, 'system': system, 'source_id': NULL::VARCHAR}] AS entities, field,
  entity || ':' || system AS key, system AS owner,
  printf('%s %s.%s never agrees with the owner %s: %d of %d linked records have the same value', system,
         entity, field, owner_system, agreeing, compared) AS title,
  printf('different facts: %s %s.%s is not what the owner %s keeps as %s', system, entity, field,
         owner_system, field) AS cause_reason
FROM (
  SELECT entity, field, system, any_value(owner_system) AS owner_system, count(*) AS compared,
    count(*) FILTER (WHERE agrees) AS agreeing
  FROM field_agreement GROUP BY entity, field, system
)
WHERE config.never_agrees(compared, agreeing)
