-- name: sync_lag
-- category: silent_sync_failure
-- severity: warning
-- stake: delayed
-- description: >
--   A record that reached the next system later than its handoff's SLA: a job invoiced late after
--   the work was done, an invoice posted late to the ledger. Days are counted on the calendar, in
--   the workspace's time zone.
WITH late_jobs AS (  -- finished jobs invoiced past their handoff's SLA, by row; their records and titles after,
  -- for those alone
  SELECT x.*, h.owner, h.to_system AS fixer, h.sla
  FROM (SELECT handoff, job_row, invoice_row, config.local_date(completed_at) AS started_on,
          config.local_date(issued_at) AS arrived_on
        FROM job_invoices WHERE job_state IN ('completed', 'invoice_ready', 'closed')) x
  JOIN config.handoffs h ON h.id = x.handoff
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
