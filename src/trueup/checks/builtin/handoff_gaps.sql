-- name: handoff_gaps
-- category: unowned_automation
-- severity: info
-- description: >
--   A live handoff missing an owner, a trigger, an expected output, an exception path, monitoring
--   or a way to roll back: when it fails, nobody is told and nobody is responsible.
WITH gaps AS (
  SELECT h.*, list_filter(['owner', 'trigger', 'expected', 'exceptions', 'monitoring', 'rollback'],
    lambda p: CASE p WHEN 'owner' THEN h.owner WHEN 'trigger' THEN h.trigger WHEN 'expected' THEN h.expected
               WHEN 'exceptions' THEN h.exceptions WHEN 'monitoring' THEN h.monitoring ELSE h.rollback END IS NULL)
    AS missing
  FROM config.handoffs h WHERE h.retired_on IS NULL
)
SELECT [{'entity': 'handoff', 'system': NULL::VARCHAR, 'source_id': id}] AS entities, id AS key, id AS handoff,
  array_to_string(missing, ', ') AS field, coalesce(owner, from_system) AS owner,
  printf('%s (%s → %s, %s) has no %s', id, from_system, to_system, coalesce(mechanism, 'no mechanism declared'),
         array_to_string(missing, ', ')) AS title
FROM gaps WHERE len(missing) > 0
