-- name: record_not_synced
-- category: silent_sync_failure
-- severity: warning
-- description: >
--   A record a handoff should have copied (a customer from the CRM to the ledger, say) that has no
--   counterpart in the target system past the SLA. Invoices, payments, deals that become jobs and
--   jobs that become invoices have job-to-cash checks of their own.
WITH timed AS (
  SELECT 'customer' AS entity, canonical_id, system, source_id, created_at AS since FROM records_customer
  UNION ALL SELECT 'deal', canonical_id, system, source_id, closed_at FROM records_deal
  UNION ALL SELECT 'job', canonical_id, system, source_id, coalesce(completed_at, scheduled_at) FROM records_job
  UNION ALL SELECT 'interaction', canonical_id, system, source_id, occurred_at FROM records_interaction
)
SELECT [{'entity': r.entity, 'system': r.system, 'source_id': r.source_id, 'canonical_id': r.canonical_id}] AS entities,
  coalesce(h.owner, h.to_system) AS owner, h.id AS handoff,
  printf('%s %s in %s (%s) is not in %s after %d days (SLA %s)', config.capital(r.entity), r.source_id, r.system,
         strftime(r.since, '%Y-%m-%d'), h.to_system, date_diff('day', r.since, s.as_of), h.sla) AS title
FROM config.handoffs h CROSS JOIN config.settings s
JOIN config.systems t ON t.system = h.to_system AND t.kind = 'system'
JOIN timed r ON r.system = h.from_system AND r.entity = h.source_entity
ANTI JOIN timed p ON p.entity = r.entity AND p.canonical_id = r.canonical_id AND p.system = h.to_system
WHERE h.source_entity = h.target_entity AND h.source_entity NOT IN ('invoice', 'payment') AND h.retired_on IS NULL
  AND r.since + coalesce(h.sla, INTERVAL 1 DAY) < s.as_of
