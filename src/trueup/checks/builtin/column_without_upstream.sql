-- name: column_without_upstream
-- category: spreadsheet_middleware
-- severity: info
-- description: >
--   A spreadsheet column that no mapping reads as a canonical field and that people fill in on
--   on fewer than half of the rows: state kept only in the sheet, which no system has.
SELECT []::STRUCT(entity VARCHAR, system VARCHAR, source_id VARCHAR)[] AS entities, c.column_name AS field,
  c.system || ':' || c.source_table || ':' || c.column_name AS key, c.system AS owner,
  printf('%s column "%s" is in no system (filled on %d of %d rows)', c.system, c.column_name, c.filled, c.rows) AS title
FROM config.sheet_columns c
WHERE c.filled * 2 < c.rows AND NOT EXISTS (
  SELECT 1 FROM config.mappings m WHERE m.system = c.system AND m.source_table = c.source_table
    AND m.column_name = c.column_name AND NOT m.extra)
