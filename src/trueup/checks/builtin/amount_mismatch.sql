-- name: amount_mismatch
-- category: lifecycle_mismatch
-- severity: warning
-- stake: mismatched
-- description: >
--   Amounts that differ beyond the tolerance (to the cent unless `tolerance.amount` says otherwise)
--   between a job and its invoices, or between an invoice and its copy in the next system.
--   Each side is compared as its system exported it, rounded to the cent.
WITH handoffs AS (  -- from jobs to invoices
  SELECT * FROM config.handoffs_in_use('job', 'invoice')
), copied AS (  -- an invoice and its copy by row: their ids and numbers are read for those apart alone
  SELECT handoff, invoice_row, copy_row, amount AS exact_a, copy_amount AS exact_b
  FROM invoice_copies WHERE copy_row IS NOT NULL
), invoiced AS (  -- what each system a job's handoff leads to invoiced for the job
  SELECT i.job AS canonical_id, i.system, sum(i.amount) AS amount
  FROM records_invoice i
  WHERE i.system IN (SELECT to_system FROM handoffs) AND i.job IS NOT NULL AND coalesce(i.state, '') <> 'cancelled'
  GROUP BY i.job, i.system
), job_sums AS (  -- the systems are filtered by themselves first: joined with the handoffs, the join was slower
  SELECT j.canonical_id, j.system AS sys_a, j.source_id AS id_a, j.number, j.amount AS exact_a,
    i.system AS sys_b, i.amount AS exact_b
  FROM records_job j JOIN invoiced i ON i.canonical_id = j.canonical_id
  WHERE j.system IN (SELECT from_system FROM handoffs)
), pairs AS (  -- a job beside what its invoices add up to, an invoice beside its copy; each with its handoff
  SELECT x.*, h.id AS handoff, h.owner, h.from_system AS fixer, 'job' AS kind
  FROM job_sums x JOIN handoffs h ON h.from_system = x.sys_a AND h.to_system = x.sys_b
  UNION ALL BY NAME
  SELECT x.*, h.owner, h.to_system AS fixer, h.from_system AS sys_a, h.to_system AS sys_b, 'invoice' AS kind
  FROM copied x JOIN config.handoffs h ON h.id = x.handoff
), apart AS (  -- the amounts are compared first; the records listed and the titles written for the pairs apart
  -- (amounts exactly equal are never apart: rounded to the cent only those that differ at all)
  SELECT p.*, round(exact_a, 2) AS amount_a, round(exact_b, 2) AS amount_b FROM pairs p CROSS JOIN config.settings s
  WHERE exact_a <> exact_b AND abs(round(exact_a, 2) - round(exact_b, 2)) > greatest(s.tolerance, 0.005)
), copy_rows AS (  -- the invoices apart from their copies, and the copies, read once
  SELECT rowid AS row, source_id, number, canonical_id FROM records_invoice
  WHERE rowid IN (SELECT invoice_row FROM apart UNION ALL SELECT copy_row FROM apart)
), named AS (  -- a job's pair came with its ids; an invoice's and its copy's are read here
  SELECT a.* REPLACE (coalesce(a.canonical_id, x.canonical_id) AS canonical_id, coalesce(a.id_a, x.source_id) AS id_a,
                      coalesce(a.number, x.number) AS number),
    y.source_id AS id_b, y.canonical_id AS canonical_b
  FROM apart a LEFT JOIN copy_rows x ON x.row = a.invoice_row LEFT JOIN copy_rows y ON y.row = a.copy_row
), listed AS (  -- a job's invoices, for the jobs whose amounts differ
  SELECT x.canonical_id, x.sys_b, list({'entity': 'invoice', 'system': i.system, 'source_id': i.source_id,
                                        'canonical_id': i.canonical_id} ORDER BY i.source_id) AS invoices
  FROM (SELECT DISTINCT canonical_id, sys_b FROM apart WHERE kind = 'job') x
  JOIN records_invoice i ON i.job = x.canonical_id AND i.system = x.sys_b
  WHERE coalesce(i.state, '') <> 'cancelled'
  GROUP BY x.canonical_id, x.sys_b
)
SELECT CASE a.kind
         WHEN 'job' THEN [{'entity': 'job', 'system': a.sys_a, 'source_id': a.id_a, 'canonical_id': a.canonical_id}]
                         || l.invoices
         ELSE [{'entity': 'invoice', 'system': a.sys_a, 'source_id': a.id_a, 'canonical_id': a.canonical_id},
               {'entity': 'invoice', 'system': a.sys_b, 'source_id': a.id_b, 'canonical_id': a.canonical_b}] END
  AS entities,
  'amount' AS field, abs(a.amount_a - a.amount_b) AS money, coalesce(a.owner, a.fixer) AS owner, a.handoff,
  printf('%s %s: %s has %s, %s has %s (%s apart)', CASE a.kind WHEN 'job' THEN 'Job' ELSE 'Invoice' END,
         coalesce(a.number, a.id_a), a.sys_a, config.money_text(a.amount_a), a.sys_b, config.money_text(a.amount_b),
         config.money_text(abs(a.amount_a - a.amount_b))) AS title,
  map([a.sys_a, a.sys_b], [a.amount_a, a.amount_b]) AS "values"
FROM named a LEFT JOIN listed l ON a.kind = 'job' AND l.canonical_id = a.canonical_id AND l.sys_b = a.sys_b
