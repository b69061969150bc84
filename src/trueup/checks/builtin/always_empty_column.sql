-- name: always_empty_column
-- category: vendor_setting
-- severity: warning
-- cause: configuration
-- about: setting
-- description: >
--   A field mapped to a source column that is empty on every record: usually the wrong column
--   (a renamed export field), so the fact silently goes missing downstream.
SELECT [{'entity': m.entity, 'system': m.system, 'source_id': NULL::VARCHAR}] AS entities, m.field AS field,
  m.entity || ':' || m.system AS key, m.system AS owner,
  printf('%s %s.%s is mapped to %s, which is empty on all %d records', m.system, m.entity, m.field, m.expr,
         f.records) AS title,
  printf('empty column: %s %s.%s is mapped to %s, which is always empty', m.system, m.entity, m.field, m.expr) AS cause_reason
FROM config.mappings m JOIN config.empty_fields f ON f.entity = m.entity AND f.system = m.system AND f.field = m.field
WHERE NOT m.extra
