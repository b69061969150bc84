-- name: sync_lag
-- category: silent_sync_failure
-- severity: warning
-- stake: delayed
-- description: >
--   A record that reached the next system later than its handoff's SLA: a job invoiced late after
--   the work was done, an invoice posted late to the ledger. Days are counted on the calendar, in
--   the workspace's time zone.
WITH handoffs AS (  -- from jobs to invoices
  SELECT * FROM config.handoffs_in_use('job', 'invoice')
), invoiced AS (  -- finished jobs and their invoices by row and calendar day: the rest is read for the late alone
  SELECT j.rowid AS job_row, i.rowid AS invoice_row, j.system, i.system AS to_system,
    config.local_date(j.completed_at) AS started_on, config.local_date(i.issued_at) AS arrived_on
  FROM records_job j JOIN records_invoice i ON i.job = j.canonical_id
  WHERE j.system IN (SELECT from_system FROM handoffs) AND i.system IN (SELECT to_system FROM handoffs)
    AND j.state IN ('completed', 'invoice_ready', 'closed')
), late_jobs AS (  -- the pairs past their SLA first, by row; their records and titles after, for those alone
  SELECT h.id AS handoff, h.owner, h.to_system AS fixer, h.sla, x.job_row, x.invoice_row, x.started_on, x.arrived_on
  FROM invoiced x JOIN handoffs h ON h.from_system = x.system AND h.to_system = x.to_system
  WHERE x.arrived_on > x.started_on + h.sla
), late_copies AS (
  SELECT c.*, h.owner, h.from_system, h.to_system AS fixer, h.sla
  FROM (SELECT *, config.local_date(issued_at) AS started_on,
          config.local_date(coalesce(copy_posted_at, copy_issued_at)) AS arrived_on
        FROM invoice_copies WHERE copy_row IS NOT NULL) c
  JOIN config.handoffs h ON h.id = c.handoff
  WHERE c.arrived_on > c.started_on + h.sla
), invoices AS (  -- the invoices of the late pairs, read once
  SELECT rowid AS row, system, source_id, canonical_id, number, amount, issued_at FROM records_invoice
  WHERE rowid IN (SELECT invoice_row FROM late_jobs UNION ALL SELECT invoice_row FROM late_copies
                  UNION ALL SELECT copy_row FROM late_copies)
), late AS (
  SELECT x.handoff, x.owner, x.fixer, x.sla, 'job' AS entity, j.system, j.source_id, j.canonical_id,
    coalesce(j.number, j.source_id) AS number, ' completed' AS happened, j.completed_at AS started,
    'invoiced' AS verb, i.system AS to_system, i.source_id AS to_id, i.canonical_id AS to_canonical,
    i.issued_at AS arrived, x.started_on, x.arrived_on, i.amount AS money
  FROM late_jobs x JOIN records_job j ON j.rowid = x.job_row JOIN invoices i ON i.row = x.invoice_row
  UNION ALL
  SELECT c.handoff, c.owner, c.fixer, c.sla, 'invoice', c.from_system, a.source_id, a.canonical_id,
    coalesce(a.number, a.source_id), ' issued', c.issued_at, 'posted', c.fixer, b.source_id, a.canonical_id,
    coalesce(c.copy_posted_at, c.copy_issued_at), c.started_on, c.arrived_on, c.amount
  FROM late_copies c JOIN invoices a ON a.row = c.invoice_row JOIN invoices b ON b.row = c.copy_row
)
SELECT [{'entity': entity, 'system': system, 'source_id': source_id, 'canonical_id': canonical_id},
        {'entity': 'invoice', 'system': to_system, 'source_id': to_id, 'canonical_id': to_canonical}] AS entities,
  money, coalesce(owner, fixer) AS owner, handoff,
  printf('%s: %s %s%s %s, %s %s, %d days later (SLA %s)', handoff, entity, number, happened,
         started_on, verb, arrived_on, arrived_on - started_on, sla) AS title,
  {'from': started, 'to': arrived} AS "values"
FROM late
