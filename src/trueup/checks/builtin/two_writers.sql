-- name: two_writers
-- category: source_of_truth_conflict
-- severity: warning
-- description: >
--   A record edited later in a system that does not own it than in the owner, while their values
--   differ: two systems are writing the same fact.
WITH touched AS (  -- customers are the entity whose records say when they were last edited
  SELECT 'customer' AS entity, canonical_id, system, source_id, updated_at FROM records_customer
  WHERE updated_at IS NOT NULL
), owner AS (
  SELECT o.entity, t.canonical_id, t.system, t.source_id, t.updated_at
  FROM touched t JOIN config.ownership o ON o.entity = t.entity AND o.field = '*' AND o.owner = t.system
), differing AS (
  SELECT DISTINCT a.entity, a.canonical_id, a.system, b.system AS other, b.source_id AS other_id
  FROM field_values a JOIN field_values b USING (entity, canonical_id, field)
  JOIN config.ownership o ON o.entity = a.entity AND o.field = '*' AND o.owner = a.system
  WHERE a.entity = 'customer' AND b.entity = 'customer'  -- the entity `touched` holds
    AND b.system <> a.system AND a.kind IN ('text', 'name', 'email', 'phone', 'address') AND a.norm <> b.norm
)
SELECT [{'entity': d.entity, 'system': w.system, 'source_id': w.source_id},
        {'entity': d.entity, 'system': t.system, 'source_id': t.source_id}] AS entities,
  t.system AS owner,
  printf('%s %s was edited in %s on %s, after its owner %s (%s)', d.entity, w.source_id, t.system,
         strftime(t.updated_at, '%Y-%m-%d'), w.system, strftime(w.updated_at, '%Y-%m-%d')) AS title
FROM differing d JOIN owner w ON w.entity = d.entity AND w.canonical_id = d.canonical_id
JOIN touched t ON t.entity = d.entity AND t.canonical_id = d.canonical_id AND t.system = d.other
  AND t.source_id = d.other_id
JOIN config.systems s ON s.system = t.system AND s.kind = 'system'
WHERE t.updated_at > w.updated_at
