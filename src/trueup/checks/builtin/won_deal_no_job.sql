-- name: won_deal_no_job
-- category: lifecycle_mismatch
-- severity: critical
-- stake: lost
-- description: >
--   A won deal that never became a job past the deal-to-job handoff's SLA: sold work nobody scheduled.
WITH handoff AS (
  SELECT * FROM config.handoffs_in_use('deal', 'job')
  ORDER BY position LIMIT 1
)
SELECT [{'entity': 'deal', 'system': r.system, 'source_id': r.source_id, 'canonical_id': r.canonical_id}] AS entities,
  d.amount AS money, coalesce(h.owner, h.to_system, 'dispatch') AS owner, h.id AS handoff,
  printf('Deal %s (%s) was won %s and has no job after %d days (SLA %s)', coalesce(d.name, r.source_id),
         config.money_text(d.amount), strftime(d.closed_at, '%Y-%m-%d'), date_diff('day', d.closed_at, s.as_of),
         coalesce(CAST(h.sla AS VARCHAR), '1 day')) AS title,
  {'status': d.status, 'closed_at': d.closed_at, 'amount': d.amount} AS "values"
FROM deal d ANTI JOIN job j ON j.deal = d.canonical_id  -- (NOT EXISTS compared ids NULL-safely: slower)
CROSS JOIN config.settings s LEFT JOIN handoff h ON true
JOIN records_deal r ON r.canonical_id = d.canonical_id AND r.system = coalesce(h.from_system, r.system)
WHERE d.state = 'won' AND d.closed_at + coalesce(h.sla, INTERVAL 1 DAY) < s.as_of
