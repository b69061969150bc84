-- name: job_not_invoiced
-- category: lifecycle_mismatch
-- severity: critical
-- stake: unbilled
-- description: >
--   Finished, billable work with no invoice past the job-to-invoice handoff's SLA (3 days when no
--   handoff declares one). A job is done when completed, ready to invoice or closed, and billable
--   when its amount is not zero.
WITH handoff AS (
  SELECT * FROM config.handoffs_in_use('job', 'invoice')
  ORDER BY position LIMIT 1
), uninvoiced AS MATERIALIZED (  -- the finished, billable jobs no invoice names, by row alone (carried through the
  -- join, their other columns cost 80 MB of memory on `large`)
  SELECT j.rowid AS row FROM job j ANTI JOIN invoice i ON i.job = j.canonical_id  -- (NOT EXISTS compared ids NULL-safely: slower)
  WHERE j.state IN ('completed', 'invoice_ready', 'closed') AND coalesce(j.amount, 0) <> 0
), unbilled AS (  -- those late; their records and titles after, for those alone (read by row: joined by id, the
  -- whole job table was scanned again)
  SELECT j.*, h.id AS handoff, coalesce(h.owner, h.to_system, 'billing') AS owner, h.from_system, h.sla, s.as_of
  FROM (SELECT * FROM job WHERE rowid IN (SELECT row FROM uninvoiced)) j
  CROSS JOIN config.settings s LEFT JOIN handoff h ON true
  WHERE j.completed_at + coalesce(h.sla, INTERVAL 3 DAY) < s.as_of
)
SELECT [{'entity': 'job', 'system': r.system, 'source_id': r.source_id, 'canonical_id': r.canonical_id}] AS entities,
  j.amount AS money, j.owner, j.handoff,
  printf('Job %s completed %s, no invoice after %d days (SLA %s), %s unbilled', coalesce(j.number, r.source_id),
         strftime(j.completed_at, '%Y-%m-%d'), date_diff('day', j.completed_at, j.as_of),
         coalesce(CAST(j.sla AS VARCHAR), '3 days'), config.money_text(j.amount)) AS title,
  {'status': j.status, 'state': j.state, 'completed_at': j.completed_at, 'amount': j.amount} AS "values"
FROM unbilled j
JOIN records_job r ON r.canonical_id = j.canonical_id AND r.system = coalesce(j.from_system, r.system)
