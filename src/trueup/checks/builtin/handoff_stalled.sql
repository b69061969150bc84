-- name: handoff_stalled
-- category: silent_sync_failure
-- severity: critical
-- stake: unpaid
-- description: >
--   A handoff that stopped: since some moment nothing it carries has reached its target, though
--   the source kept producing, for longer than its SLA. One finding lists every record caught.
SELECT list({'entity': 'invoice', 'system': billed_system, 'source_id': billed_id, 'canonical_id': canonical_id}
            ORDER BY billed_id) AS entities,
  handoff AS key, handoff, min(owner) AS owner, sum(unreflected) AS money,
  printf('%s has moved nothing since %s: %d payments (%s) have not reached %s', handoff,
         strftime(min(stalled_since), '%Y-%m-%d'), count(*), config.money_text(sum(unreflected)),
         min(billed_system)) AS title
FROM payment_reflection WHERE stalled GROUP BY handoff
