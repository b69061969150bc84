-- name: invoice_not_posted
-- category: lifecycle_mismatch
-- severity: critical
-- stake: unposted
-- description: >
--   An invoice the billing system issued that never reached the ledger, past the handoff's SLA:
--   revenue nobody has booked.
SELECT [{'entity': 'invoice', 'system': h.from_system, 'source_id': i.source_id, 'canonical_id': i.canonical_id}]
    AS entities,
  a.amount AS money, coalesce(h.owner, h.to_system) AS owner, a.handoff,
  printf('Invoice %s (%s) issued %s in %s is not in %s after %d days (SLA %s)', coalesce(i.number, i.source_id),
         config.money_text(a.amount), config.local_date(a.issued_at), h.from_system, h.to_system,
         date_diff('day', a.issued_at, s.as_of), h.sla) AS title,
  {'status': i.status, 'issued_at': a.issued_at, 'amount': a.amount} AS "values"
FROM invoice_copies a JOIN config.handoffs h ON h.id = a.handoff CROSS JOIN config.settings s
JOIN records_invoice i ON i.rowid = a.invoice_row
WHERE a.copy_row IS NULL AND coalesce(a.state, '') NOT IN ('draft', 'cancelled')
  AND config.local_date(a.issued_at) + coalesce(h.sla, INTERVAL 1 DAY) < s.as_of
