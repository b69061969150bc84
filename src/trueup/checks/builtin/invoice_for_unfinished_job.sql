-- name: invoice_for_unfinished_job
-- category: lifecycle_mismatch
-- severity: warning
-- stake: mismatched
-- description: >
--   An invoice issued for a job that is not done yet (scheduled, in progress or on hold).
WITH handoff AS (
  SELECT * FROM config.handoffs_in_use('job', 'invoice')
  ORDER BY position LIMIT 1
)
SELECT [{'entity': 'job', 'system': rj.system, 'source_id': rj.source_id, 'canonical_id': rj.canonical_id},
        {'entity': 'invoice', 'system': ri.system, 'source_id': ri.source_id, 'canonical_id': ri.canonical_id}] AS entities,
  i.amount AS money, coalesce(h.owner, ri.system) AS owner, h.id AS handoff,
  printf('Invoice %s (%s) was issued %s for job %s, which is %s', coalesce(i.number, ri.source_id),
         config.money_text(i.amount), strftime(i.issued_at, '%Y-%m-%d'), coalesce(j.number, rj.source_id),
         replace(j.state, '_', ' ')) AS title,
  {'job_status': j.status, 'job_state': j.state, 'scheduled_at': j.scheduled_at, 'invoice_status': i.status,
   'issued_at': i.issued_at} AS "values"
FROM invoice i JOIN job j ON j.canonical_id = i.job LEFT JOIN handoff h ON true
JOIN records_job rj ON rj.canonical_id = j.canonical_id AND rj.system = coalesce(h.from_system, rj.system)
JOIN records_invoice ri ON ri.canonical_id = i.canonical_id AND ri.system = coalesce(h.to_system, ri.system)
WHERE j.state IN ('scheduled', 'in_progress', 'on_hold') AND coalesce(i.state, '') NOT IN ('cancelled', 'draft')
