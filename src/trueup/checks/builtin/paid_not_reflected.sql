-- name: paid_not_reflected
-- category: lifecycle_mismatch
-- severity: warning
-- stake: unpaid
-- description: >
--   An invoice paid in the system that takes payments and still open in the system the payment
--   handoff should update, past its SLA. Payments caught in a stalled handoff are reported once, as
--   the stall (`handoff_stalled`).
SELECT [{'entity': 'invoice', 'system': billed_system, 'source_id': billed_id, 'canonical_id': canonical_id},
        {'entity': 'invoice', 'system': paid_system, 'source_id': paid_id, 'canonical_id': canonical_id}] AS entities,
  unreflected AS money, coalesce(owner, billed_system) AS owner, handoff,
  printf('Invoice %s was paid in %s on %s (%s); %s still shows it %s', number, paid_system,
         strftime(last_paid_at, '%Y-%m-%d'), config.money_text(unreflected), billed_system,
         coalesce(replace(billed_state, '_', ' '), 'unpaid')) AS title,
  map([paid_system, billed_system], [paid_amount, shown]) AS "values"
FROM payment_reflection
WHERE NOT reflected_ok AND NOT stalled AND last_paid_at + sla < as_of
