-- name: always_empty_column
-- category: vendor_setting
-- severity: warning
-- cause: configuration
-- description: >
--   A field mapped to a source column that is empty on every record: usually the wrong column
--   (a renamed export field), so the fact silently goes missing downstream.
WITH filled AS (SELECT entity, system, field, count(*) AS n FROM field_values GROUP BY ALL),
records AS (SELECT entity, system, count(*) AS n FROM (
  SELECT DISTINCT entity, system, source_id FROM field_values) GROUP BY ALL)
SELECT [{'entity': m.entity, 'system': m.system, 'source_id': NULL::VARCHAR}] AS entities, m.field AS field,
  m.entity || ':' || m.system AS key, m.system AS owner,
  printf('%s %s.%s is mapped to %s, which is empty on all %d records', m.system, m.entity, m.field, m.expr, r.n) AS title
FROM config.mappings m JOIN records r ON r.entity = m.entity AND r.system = m.system
LEFT JOIN filled f ON f.entity = m.entity AND f.system = m.system AND f.field = m.field
WHERE f.n IS NULL AND NOT m.extra AND m.kind IS NOT NULL
