-- name: sheet_row_dropped
-- category: spreadsheet_middleware
-- severity: warning
-- description: >
--   A finished, billable job missing from the spreadsheet its handoff fills, though it falls in
--   the period the sheet covers: a row deleted by hand. A job belongs to a period when it was
--   completed or invoiced in it; the sheet's period runs from the earliest such moment of the
--   jobs it lists to the last completion it lists.
WITH handoff AS (
  SELECT h.id AS handoff, h.owner, h.from_system, h.to_system AS sheet FROM config.handoffs h
  JOIN config.systems s ON s.system = h.to_system AND s.kind = 'spreadsheet'
  WHERE h.source_entity = 'job' AND h.retired_on IS NULL
), moments AS (  -- when each job belongs to a period: the later of its completion and its first invoice
  SELECT j.canonical_id, j.completed_at, greatest(j.completed_at, coalesce(f.issued_at, j.completed_at)) AS moment
  FROM job j LEFT JOIN (SELECT job, min(issued_at) AS issued_at FROM invoice GROUP BY job) f ON f.job = j.canonical_id
), listed AS (  -- the jobs each sheet lists
  SELECT k.system AS sheet, k.canonical_id FROM records_job k WHERE k.system IN (SELECT sheet FROM handoff)
), period AS (
  SELECT h.sheet, min(m.moment) AS since, max(m.completed_at) AS until
  FROM handoff h JOIN records_job k ON k.system = h.sheet JOIN moments m ON m.canonical_id = k.canonical_id
  GROUP BY h.sheet
)
SELECT [{'entity': 'job', 'system': j.system, 'source_id': j.source_id, 'canonical_id': j.canonical_id}] AS entities,
  coalesce(h.owner, h.sheet) AS owner, h.handoff,
  printf('Job %s, completed %s, is missing from %s, which lists the jobs of %s to %s', coalesce(j.number, j.source_id),
         strftime(j.completed_at, '%Y-%m-%d'), h.sheet, strftime(p.since, '%Y-%m-%d'), strftime(p.until, '%Y-%m-%d')) AS title
FROM handoff h JOIN period p USING (sheet)
JOIN records_job j ON j.system = h.from_system
JOIN moments m ON m.canonical_id = j.canonical_id
WHERE j.state IN ('completed', 'invoice_ready', 'closed') AND coalesce(j.amount, 0) <> 0
  AND m.moment >= p.since AND j.completed_at <= p.until
  AND NOT EXISTS (SELECT 1 FROM listed k WHERE k.canonical_id = j.canonical_id AND k.sheet = h.sheet)
