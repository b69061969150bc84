-- name: unmapped_status
-- category: vendor_setting
-- severity: warning
-- cause: configuration
-- description: >
--   A status value a system uses that no vocabulary under `statuses` maps: those records have no
--   lifecycle state, so no check can judge them. A setting to add, not a design to change.
WITH carriers AS (
  SELECT 'job' AS entity, system, source_id, canonical_id, status FROM records_job WHERE state IS NULL AND status IS NOT NULL
  UNION ALL SELECT 'invoice', system, source_id, canonical_id, status FROM records_invoice WHERE state IS NULL AND status IS NOT NULL
  UNION ALL SELECT 'deal', system, source_id, canonical_id, status FROM records_deal WHERE state IS NULL AND status IS NOT NULL
)
SELECT list({'entity': c.entity, 'system': c.system, 'source_id': c.source_id, 'canonical_id': c.canonical_id}
            ORDER BY c.source_id) AS entities,
  c.entity || ':' || c.system || ':' || c.status AS key, 'status' AS field, c.system AS owner,
  printf('%s %s status ''%s'' is in no vocabulary (%d records)', c.system, c.entity, c.status, count(*)) AS title,
  printf('unmapped status: %s %s status ''%s'' is in no vocabulary', c.system, c.entity, c.status) AS cause_reason,
  printf('add it under statuses.%s.%s in trueup.yaml', c.entity, c.system) AS detail
FROM carriers c JOIN config.systems s ON s.system = c.system AND s.kind = 'system'
GROUP BY c.entity, c.system, c.status
