-- name: handoff_idle
-- category: unowned_automation
-- severity: info
-- description: >
--   A live handoff that delivered nothing for longer than the look-back (30 days): either it is
--   broken and nobody noticed, or it is dead and should be retired.
WITH arrivals AS (
  SELECT 'job' AS entity, system, max(coalesce(scheduled_at, completed_at)) AS latest FROM records_job GROUP BY ALL
  UNION ALL SELECT 'invoice', system, max(coalesce(posted_at, issued_at)) FROM records_invoice GROUP BY ALL
  UNION ALL SELECT 'payment', system, max(paid_at) FROM records_payment GROUP BY ALL
  UNION ALL SELECT 'deal', system, max(closed_at) FROM records_deal GROUP BY ALL
)
SELECT [{'entity': 'handoff', 'system': NULL::VARCHAR, 'source_id': h.id}] AS entities, h.id AS key, h.id AS handoff,
  coalesce(h.owner, h.from_system) AS owner,
  printf('%s has delivered nothing to %s since %s', h.id, h.to_system, strftime(a.latest, '%Y-%m-%d')) AS title
FROM config.handoffs h CROSS JOIN config.settings s
JOIN arrivals a ON a.system = h.to_system AND a.entity = h.target_entity
WHERE h.retired_on IS NULL AND a.latest < s.as_of - s.lookback
