-- name: duplicated_by_sync
-- category: silent_sync_failure
-- severity: critical
-- stake: mismatched
-- description: >
--   One record that a handoff copied into several records of its target system.
WITH copied AS (  -- the real things a handoff's target holds more than once: counted first, listed after
  SELECT h.id AS handoff, h.owner, h.from_system, h.to_system, b.canonical_id
  FROM config.handoffs_in_use('invoice', 'invoice') h JOIN records_invoice b ON b.system = h.to_system
  GROUP BY ALL HAVING count(*) > 1
), once AS (  -- ...that the source holds once
  SELECT c.*, a.source_id, a.number, a.amount
  FROM copied c JOIN records_invoice a ON a.canonical_id = c.canonical_id AND a.system = c.from_system
  QUALIFY count(*) OVER (PARTITION BY c.handoff, c.canonical_id) = 1
)
SELECT [{'entity': 'invoice', 'system': a.from_system, 'source_id': a.source_id, 'canonical_id': a.canonical_id}]
    || list({'entity': 'invoice', 'system': b.system, 'source_id': b.source_id, 'canonical_id': b.canonical_id}
            ORDER BY b.source_id) AS entities,
  a.amount AS money, coalesce(a.owner, a.to_system) AS owner, a.handoff,
  printf('Invoice %s in %s became %d records in %s: %s', coalesce(a.number, a.source_id), a.from_system, count(*),
         a.to_system, array_to_string(list(b.source_id ORDER BY b.source_id), ', ')) AS title
FROM once a JOIN records_invoice b ON b.canonical_id = a.canonical_id AND b.system = a.to_system
GROUP BY a.from_system, a.source_id, a.canonical_id, a.number, a.amount, a.owner, a.to_system, a.handoff
