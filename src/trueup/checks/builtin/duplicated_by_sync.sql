-- name: duplicated_by_sync
-- category: silent_sync_failure
-- severity: critical
-- stake: mismatched
-- description: >
--   One record that a handoff copied into several records of its target system.
SELECT [{'entity': a.entity, 'system': a.system, 'source_id': a.source_id}]
    || list({'entity': b.entity, 'system': b.system, 'source_id': b.source_id} ORDER BY b.source_id) AS entities,
  a.amount AS money, coalesce(h.owner, h.to_system) AS owner, h.id AS handoff,
  printf('%s %s in %s became %d records in %s: %s', config.capital(a.entity), coalesce(a.number, a.source_id), a.system, count(*),
         h.to_system, array_to_string(list(b.source_id ORDER BY b.source_id), ', ')) AS title
FROM config.handoffs h
JOIN (SELECT 'invoice' AS entity, canonical_id, system, source_id, number, amount FROM records_invoice) a
  ON a.system = h.from_system AND a.entity = h.source_entity
JOIN (SELECT 'invoice' AS entity, canonical_id, system, source_id FROM records_invoice) b
  ON b.canonical_id = a.canonical_id AND b.system = h.to_system
WHERE h.source_entity = h.target_entity AND h.retired_on IS NULL
  AND (SELECT count(*) FROM records_invoice x WHERE x.canonical_id = a.canonical_id AND x.system = a.system) = 1
GROUP BY a.entity, a.system, a.source_id, a.number, a.amount, h.owner, h.to_system, h.id
HAVING count(*) > 1
