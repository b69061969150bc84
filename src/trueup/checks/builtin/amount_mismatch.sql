-- name: amount_mismatch
-- category: lifecycle_mismatch
-- severity: warning
-- stake: mismatched
-- description: >
--   Amounts that differ beyond the tolerance (to the cent unless `tolerance.amount` says otherwise)
--   between a job and its invoices, or between an invoice and its copy in the next system.
--   Each side is compared as its system exported it, rounded to the cent.
WITH invoice_copies AS (
  SELECT h.id AS handoff, h.owner, h.to_system AS fixer, a.canonical_id,
    [{'entity': 'invoice', 'system': a.system, 'source_id': a.source_id},
     {'entity': 'invoice', 'system': b.system, 'source_id': b.source_id}] AS entities,
    'invoice ' || coalesce(a.number, a.source_id) AS what, a.system AS sys_a, round(a.amount, 2) AS amount_a,
    b.system AS sys_b, round(b.amount, 2) AS amount_b, a.tax AS tax_a
  FROM config.handoffs h
  JOIN records_invoice a ON a.system = h.from_system
  JOIN records_invoice b ON b.canonical_id = a.canonical_id AND b.system = h.to_system
  WHERE h.source_entity = 'invoice' AND h.target_entity = 'invoice' AND h.retired_on IS NULL
), job_invoices AS (
  SELECT h.id AS handoff, h.owner, h.from_system AS fixer, j.canonical_id,
    [{'entity': 'job', 'system': j.system, 'source_id': j.source_id}]
      || list({'entity': 'invoice', 'system': i.system, 'source_id': i.source_id} ORDER BY i.source_id) AS entities,
    'job ' || coalesce(j.number, j.source_id) AS what, j.system AS sys_a, round(j.amount, 2) AS amount_a,
    i.system AS sys_b, round(sum(i.amount), 2) AS amount_b, NULL AS tax_a
  FROM config.handoffs h
  JOIN records_job j ON j.system = h.from_system
  JOIN records_invoice i ON i.job = j.canonical_id AND i.system = h.to_system
  WHERE h.source_entity = 'job' AND h.target_entity = 'invoice' AND h.retired_on IS NULL
    AND coalesce(i.state, '') <> 'cancelled'
  GROUP BY h.id, h.owner, h.from_system, j.canonical_id, j.system, j.source_id, j.number, j.amount, i.system
)
SELECT entities, 'amount' AS field, abs(amount_a - amount_b) AS money, coalesce(owner, fixer) AS owner, handoff,
  printf('%s: %s has %s, %s has %s (%s apart)', config.capital(what), sys_a, config.money_text(amount_a), sys_b,
         config.money_text(amount_b), config.money_text(abs(amount_a - amount_b))) AS title,
  map([sys_a, sys_b], [amount_a, amount_b]) AS "values"
FROM (SELECT * FROM invoice_copies UNION ALL BY NAME SELECT * FROM job_invoices) x CROSS JOIN config.settings s
WHERE amount_a IS NOT NULL AND amount_b IS NOT NULL AND abs(amount_a - amount_b) > greatest(s.tolerance, 0.005)
