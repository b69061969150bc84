-- name: amount_mismatch
-- category: lifecycle_mismatch
-- severity: warning
-- stake: mismatched
-- description: >
--   Amounts that differ beyond the tolerance (to the cent unless `tolerance.amount` says otherwise)
--   between a job and its invoices, or between an invoice and its copy in the next system.
--   Each side is compared as its system exported it, rounded to the cent.
WITH copied AS (  -- an invoice and its copy by row: their ids and numbers are read for those apart alone
  SELECT handoff, invoice_row, copy_row, amount AS exact_a, copy_amount AS exact_b
  FROM invoice_copies WHERE copy_row IS NOT NULL
), job_sums AS (  -- a job beside what its invoices in the system its handoff leads to add up to, by row
  SELECT handoff, job_row, any_value(job_amount) AS exact_a, sum(amount) AS exact_b
  FROM job_invoices WHERE coalesce(state, '') <> 'cancelled'
  GROUP BY handoff, job_row
), pairs AS (  -- a job beside its invoices, an invoice beside its copy; each with its handoff
  SELECT x.*, 'job' AS kind FROM job_sums x
  UNION ALL BY NAME
  SELECT x.*, 'invoice' AS kind FROM copied x
), apart AS (  -- the amounts are compared first; the records listed and the titles written for the pairs apart
  -- (amounts exactly equal are never apart: rounded to the cent only those that differ at all)
  SELECT p.*, h.owner, CASE p.kind WHEN 'job' THEN h.from_system ELSE h.to_system END AS fixer,
    h.from_system AS sys_a, h.to_system AS sys_b, round(exact_a, 2) AS amount_a, round(exact_b, 2) AS amount_b
  FROM pairs p JOIN config.handoffs h ON h.id = p.handoff CROSS JOIN config.settings s
  WHERE exact_a <> exact_b AND abs(round(exact_a, 2) - round(exact_b, 2)) > greatest(s.tolerance, 0.005)
), billed AS (  -- the invoices of the jobs apart that count (not cancelled), by row
  SELECT x.handoff, x.job_row, x.invoice_row FROM job_invoices x SEMI JOIN apart a USING (handoff, job_row)
  WHERE coalesce(x.state, '') <> 'cancelled'
), invoice_rows AS (  -- the invoices named, read once: beside their copies, and a job's apart
  SELECT rowid AS row, system, source_id, number, canonical_id FROM records_invoice
  WHERE rowid IN (SELECT invoice_row FROM apart UNION ALL SELECT copy_row FROM apart
                  UNION ALL SELECT invoice_row FROM billed)
), job_rows AS (
  SELECT rowid AS row, source_id, number, canonical_id FROM records_job WHERE rowid IN (SELECT job_row FROM apart)
), listed AS (  -- a job's invoices
  SELECT b.handoff, b.job_row, list({'entity': 'invoice', 'system': i.system, 'source_id': i.source_id,
                                     'canonical_id': i.canonical_id} ORDER BY i.source_id) AS invoices
  FROM billed b JOIN invoice_rows i ON i.row = b.invoice_row
  GROUP BY b.handoff, b.job_row
), named AS (  -- each record's ids and number
  SELECT a.*, coalesce(j.source_id, x.source_id) AS id_a, coalesce(j.canonical_id, x.canonical_id) AS canonical_id,
    coalesce(j.number, x.number) AS number, y.source_id AS id_b, y.canonical_id AS canonical_b, l.invoices
  FROM apart a LEFT JOIN job_rows j ON j.row = a.job_row LEFT JOIN listed l USING (handoff, job_row)
  LEFT JOIN invoice_rows x ON x.row = a.invoice_row LEFT JOIN invoice_rows y ON y.row = a.copy_row
)
SELECT CASE a.kind
         WHEN 'job' THEN [{'entity': 'job', 'system': a.sys_a, 'source_id': a.id_a, 'canonical_id': a.canonical_id}]
                         || a.invoices
         ELSE [{'entity': 'invoice', 'system': a.sys_a, 'source_id': a.id_a, 'canonical_id': a.canonical_id},
               {'entity': 'invoice', 'system': a.sys_b, 'source_id': a.id_b, 'canonical_id': a.canonical_b}] END
  AS entities,
  'amount' AS field, abs(a.amount_a - a.amount_b) AS money, coalesce(a.owner, a.fixer) AS owner, a.handoff,
  printf('%s %s: %s has %s, %s has %s (%s apart)', CASE a.kind WHEN 'job' THEN 'Job' ELSE 'Invoice' END,
         coalesce(a.number, a.id_a), a.sys_a, config.money_text(a.amount_a), a.sys_b, config.money_text(a.amount_b),
         config.money_text(abs(a.amount_a - a.amount_b))) AS title,
  map([a.sys_a, a.sys_b], [a.amount_a, a.amount_b]) AS "values"
FROM named a
