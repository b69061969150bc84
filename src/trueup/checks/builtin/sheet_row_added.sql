-- name: sheet_row_added
-- category: spreadsheet_middleware
-- severity: warning
-- stake: misreported
-- description: >
--   A spreadsheet row that matches no record in any system the sheet is built from: typed in by hand.
WITH sheet AS (
  SELECT r.entity, r.system, r.source_id, r.canonical_id, r._source, r._row, r.amount FROM (
    SELECT 'job' AS entity, system, source_id, canonical_id, _source, _row, amount FROM records_job
    UNION ALL SELECT 'invoice', system, source_id, canonical_id, _source, _row, amount FROM records_invoice
  ) r JOIN config.systems s ON s.system = r.system AND s.kind = 'spreadsheet'
), linked AS (
  SELECT DISTINCT x.canonical_id FROM sheet x
  JOIN (SELECT canonical_id, system FROM records_job UNION ALL SELECT canonical_id, system FROM records_invoice) u
    ON u.canonical_id = x.canonical_id
  JOIN config.systems s ON s.system = u.system AND s.kind = 'system'
)
SELECT list({'entity': entity, 'system': system, 'source_id': source_id, 'canonical_id': canonical_id} ORDER BY entity DESC)
    AS entities,
  system || ':' || _source || ':' || _row AS key, min(system) AS owner,
  max(amount) FILTER (WHERE entity = 'job') AS money,
  printf('Row %d of %s is in no system: %s', _row, _source,
         array_to_string(list(entity || ' ' || source_id ORDER BY entity DESC), ', ')) AS title
FROM sheet WHERE canonical_id NOT IN (SELECT canonical_id FROM linked)
GROUP BY system, _source, _row
