-- name: sheet_row_dropped
-- category: spreadsheet_middleware
-- severity: warning
-- description: >
--   A finished, billable job missing from the spreadsheet its handoff fills, on a day the sheet
--   covers (a day on which it lists at least half of the jobs finished) and not invoiced before
--   the first invoice the sheet lists: a row deleted by hand.
WITH expected AS (
  SELECT h.to_system AS sheet, h.owner, h.id AS handoff, j.*, CAST(j.completed_at AS DATE) AS day,
    EXISTS (SELECT 1 FROM records_job k WHERE k.canonical_id = j.canonical_id AND k.system = h.to_system) AS listed
  FROM config.handoffs h
  JOIN config.systems s ON s.system = h.to_system AND s.kind = 'spreadsheet'
  JOIN records_job j ON j.system = h.from_system
  WHERE h.source_entity = 'job' AND h.retired_on IS NULL AND j.state IN ('completed', 'invoice_ready', 'closed')
    AND coalesce(j.amount, 0) <> 0
), first_invoice AS (
  SELECT system AS sheet, min(CAST(issued_at AS DATE)) AS since FROM records_invoice GROUP BY ALL
), covered AS (
  SELECT sheet, day FROM expected GROUP BY ALL HAVING 2 * count(*) FILTER (WHERE listed) >= count(*)
)
SELECT [{'entity': 'job', 'system': e.system, 'source_id': e.source_id}] AS entities,
  coalesce(e.owner, e.sheet) AS owner, e.handoff,
  printf('Job %s, completed %s, is missing from %s', coalesce(e.number, e.source_id), strftime(e.completed_at, '%Y-%m-%d'),
         e.sheet) AS title
FROM expected e JOIN covered c USING (sheet, day) LEFT JOIN first_invoice f USING (sheet)
WHERE NOT e.listed AND NOT EXISTS (
  SELECT 1 FROM invoice i WHERE i.job = e.canonical_id AND CAST(i.issued_at AS DATE) < f.since)
