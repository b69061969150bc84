-- name: retired_handoff_active
-- category: unowned_automation
-- severity: warning
-- description: >
--   A handoff declared retired that still moves records: records of its target created after the
--   retirement date and marked with its mechanism (an extra field naming it, such as created_by).
WITH marked AS (  -- invoices whose extra fields name the retired handoff's mechanism (created_by: Zapier)
  SELECT h.id, h.owner, h.to_system, h.retired_on, h.mechanism, 'invoice' AS entity, r.source_id, r.canonical_id,
    r.issued_at AS moved_at
  FROM config.handoffs h
  JOIN records_invoice r ON r.system = h.to_system
  WHERE h.target_entity = 'invoice' AND h.retired_on IS NOT NULL AND h.mechanism IS NOT NULL
    AND r.issued_at >= h.retired_on
    AND EXISTS (SELECT 1 FROM json_each(r.extra) x WHERE lower(trim(x.value ->> '$')) = lower(trim(h.mechanism)))
)
SELECT list({'entity': entity, 'system': to_system, 'source_id': source_id, 'canonical_id': canonical_id} ORDER BY source_id)
    AS entities,
  id AS key, id AS handoff, coalesce(min(owner), min(to_system)) AS owner,
  printf('%s was retired on %s and still created %d %ss in %s (%s, the latest %s)', id, min(retired_on), count(*),
         min(entity), min(to_system), min(mechanism), strftime(max(moved_at), '%Y-%m-%d')) AS title
FROM marked GROUP BY id
