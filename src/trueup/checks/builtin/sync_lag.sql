-- name: sync_lag
-- category: silent_sync_failure
-- severity: warning
-- stake: delayed
-- description: >
--   A record that reached the next system later than its handoff's SLA: a job invoiced late after
--   the work was done, an invoice posted late to the ledger. Days are counted on the calendar, in
--   the workspace's time zone.
WITH late AS (  -- the pairs past their SLA first; their records and titles after, for those alone
  SELECT h.id AS handoff, h.owner, h.to_system AS fixer, h.sla, 'job' AS entity, j.system, j.source_id, j.canonical_id,
    coalesce(j.number, j.source_id) AS number, ' completed' AS happened, j.completed_at AS started,
    'invoiced' AS verb, i.system AS to_system, i.source_id AS to_id, i.canonical_id AS to_canonical,
    i.issued_at AS arrived, i.amount AS money
  FROM config.handoffs h
  JOIN records_job j ON j.system = h.from_system
  JOIN records_invoice i ON i.job = j.canonical_id AND i.system = h.to_system
  WHERE h.source_entity = 'job' AND h.target_entity = 'invoice' AND h.retired_on IS NULL
    AND j.state IN ('completed', 'invoice_ready', 'closed')
    AND CAST(i.issued_at AS DATE) > CAST(j.completed_at AS DATE) + h.sla
  UNION ALL
  SELECT handoff, owner, to_system, sla, 'invoice', from_system, source_id, canonical_id, coalesce(number, source_id),
    ' issued', issued_at, 'posted', to_system, copy_id, canonical_id, coalesce(copy_posted_at, copy_issued_at), amount
  FROM invoice_copies
  WHERE copy_id IS NOT NULL AND CAST(coalesce(copy_posted_at, copy_issued_at) AS DATE) > CAST(issued_at AS DATE) + sla
)
SELECT [{'entity': entity, 'system': system, 'source_id': source_id, 'canonical_id': canonical_id},
        {'entity': 'invoice', 'system': to_system, 'source_id': to_id, 'canonical_id': to_canonical}] AS entities,
  money, coalesce(owner, fixer) AS owner, handoff,
  printf('%s: %s %s%s %s, %s %s, %d days later (SLA %s)', handoff, entity, number, happened,
         strftime(started, '%Y-%m-%d'), verb, strftime(arrived, '%Y-%m-%d'),
         date_diff('day', CAST(started AS DATE), CAST(arrived AS DATE)), sla) AS title,
  {'from': started, 'to': arrived} AS "values"
FROM late
