-- name: sync_lag
-- category: silent_sync_failure
-- severity: warning
-- stake: delayed
-- description: >
--   A record that reached the next system later than its handoff's SLA: a job invoiced late after
--   the work was done, an invoice posted late to the ledger. Days are counted on the calendar, in
--   the workspace's time zone.
WITH pairs AS (
  SELECT h.id AS handoff, h.owner, h.to_system AS fixer, h.sla,
    [{'entity': 'job', 'system': j.system, 'source_id': j.source_id},
     {'entity': 'invoice', 'system': i.system, 'source_id': i.source_id}] AS entities,
    'job ' || coalesce(j.number, j.source_id) || ' completed' AS what, j.completed_at AS started,
    'invoiced' AS verb, i.issued_at AS arrived, i.amount AS money
  FROM config.handoffs h
  JOIN records_job j ON j.system = h.from_system
  JOIN records_invoice i ON i.job = j.canonical_id AND i.system = h.to_system
  WHERE h.source_entity = 'job' AND h.target_entity = 'invoice' AND h.retired_on IS NULL
    AND j.state IN ('completed', 'invoice_ready', 'closed')
  UNION ALL
  SELECT h.id, h.owner, h.to_system, h.sla,
    [{'entity': 'invoice', 'system': a.system, 'source_id': a.source_id},
     {'entity': 'invoice', 'system': b.system, 'source_id': b.source_id}],
    'invoice ' || coalesce(a.number, a.source_id) || ' issued', a.issued_at, 'posted', coalesce(b.posted_at, b.issued_at),
    a.amount
  FROM config.handoffs h
  JOIN records_invoice a ON a.system = h.from_system
  JOIN records_invoice b ON b.canonical_id = a.canonical_id AND b.system = h.to_system
  WHERE h.source_entity = 'invoice' AND h.target_entity = 'invoice' AND h.retired_on IS NULL
)
SELECT entities, money, coalesce(owner, fixer) AS owner, handoff,
  printf('%s: %s %s, %s %s, %d days later (SLA %s)', handoff, what, strftime(started, '%Y-%m-%d'), verb,
         strftime(arrived, '%Y-%m-%d'), date_diff('day', CAST(started AS DATE), CAST(arrived AS DATE)), sla) AS title,
  {'from': started, 'to': arrived} AS "values"
FROM pairs
WHERE sla IS NOT NULL AND started IS NOT NULL AND arrived IS NOT NULL
  AND CAST(arrived AS DATE) > CAST(started AS DATE) + sla
