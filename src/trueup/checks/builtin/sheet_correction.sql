-- name: sheet_correction
-- category: spreadsheet_middleware
-- severity: info
-- stake: misreported
-- description: >
--   A spreadsheet cell that matches none of the systems the sheet is built from: somebody corrected
--   the export by hand, and the correction lives only in the sheet.
WITH sheet_rows AS (  -- a sheet row is named by the first entity it maps (a job before its invoice)
  SELECT system, source_id, entity, _source, _row,
    first(entity) OVER w AS row_entity, first(source_id) OVER w AS row_id, first(canonical_id) OVER w AS row_canonical
  FROM (SELECT 'job' AS entity, 1 AS rank, system, source_id, canonical_id, _source, _row FROM records_job
        UNION ALL SELECT 'invoice', 2, system, source_id, canonical_id, _source, _row FROM records_invoice)
  WHERE system IN (SELECT system FROM config.systems WHERE kind = 'spreadsheet')
  WINDOW w AS (PARTITION BY system, _source, _row ORDER BY rank)
), sheet AS (
  SELECT v.*, v.rowid AS value_row, s.derived_from, m.column_name, r.row_entity, r.row_id, r.row_canonical
  FROM field_values v
  JOIN sheet_rows r ON r.system = v.system AND r.source_id = v.source_id AND r.entity = v.entity
  JOIN config.systems s ON s.system = v.system AND s.kind = 'spreadsheet'
  JOIN config.mappings m ON m.entity = v.entity AND m.system = v.system AND m.field = v.field AND NOT m.extra
  WHERE v.kind NOT IN ('reference', 'status', 'extra') AND v.field <> 'number'
), upstream AS MATERIALIZED (  -- what the systems the sheet is built from hold for the same records
  SELECT x.system AS sheet_system, u.entity, u.canonical_id, u.field, u.norm, u.system, u.value
  FROM field_values u JOIN (SELECT DISTINCT system, derived_from FROM sheet) x ON list_contains(x.derived_from, u.system)
  WHERE u.canonical_id IN (SELECT canonical_id FROM sheet)
), disagreeing AS MATERIALIZED (  -- the cells no upstream system agrees with: each beside the upstream values of
  -- its record's field, kept when none is the same (one join, as field_conflict finds its values apart)
  SELECT * FROM sheet WHERE value_row IN (
    SELECT x.value_row FROM sheet x
    JOIN upstream u ON u.sheet_system = x.system AND u.entity = x.entity AND u.canonical_id = x.canonical_id
      AND u.field = x.field
    WHERE x.norm IS NOT NULL
    GROUP BY x.value_row HAVING NOT bool_or(u.norm IS NOT DISTINCT FROM x.norm))
), measured AS (  -- for those cells alone, what the upstream systems hold: the value each is measured
  -- against, and the values as people read them
  SELECT u.sheet_system, u.entity, u.canonical_id, u.field, min(u.norm) AS upstream_norm,
    list(DISTINCT u.system || ': ' || u.value ORDER BY u.system || ': ' || u.value) AS shown
  FROM upstream u
  SEMI JOIN disagreeing x ON u.sheet_system = x.system AND u.entity = x.entity AND u.canonical_id = x.canonical_id
    AND u.field = x.field
  GROUP BY ALL
)
SELECT [{'entity': x.row_entity, 'system': x.system, 'source_id': x.row_id, 'canonical_id': x.row_canonical}]
    AS entities,
  coalesce(x.column_name, x.field) AS field, x.system AS owner,
  CASE WHEN x.kind = 'money' THEN abs(CAST(x.norm AS DECIMAL(18,2)) - CAST(u.upstream_norm AS DECIMAL(18,2))) END AS money,
  printf('%s %s, %s: the sheet says %s, %s', config.capital(x.row_entity), x.row_id, coalesce(x.column_name, x.field), x.value,
         array_to_string(u.shown, '; ')) AS title,
  {'sheet': x.value, 'upstream': u.shown} AS "values"
FROM disagreeing x JOIN measured u ON u.sheet_system = x.system AND u.entity = x.entity AND u.canonical_id = x.canonical_id
  AND u.field = x.field
