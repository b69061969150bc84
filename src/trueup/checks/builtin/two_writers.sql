-- name: two_writers
-- category: source_of_truth_conflict
-- severity: warning
-- description: >
--   A record edited later in a system that does not own it than in the owner, while their values
--   differ: two systems are writing the same fact.
WITH touched AS (  -- customers are the entity whose records say when they were last edited
  SELECT 'customer' AS entity, canonical_id, system, source_id, updated_at FROM records_customer
  WHERE updated_at IS NOT NULL
), later AS (  -- a system's record edited after its owner's record of the same customer: the candidates,
  -- found first (their values are compared after, for them alone)
  SELECT w.entity, w.canonical_id, w.system AS owner_system, w.source_id AS owner_id, w.updated_at AS owner_at,
    t.system, t.source_id, t.updated_at
  FROM touched w JOIN config.ownership o ON o.entity = w.entity AND o.field = '*' AND o.owner = w.system
  JOIN touched t ON t.entity = w.entity AND t.canonical_id = w.canonical_id AND t.system <> w.system
  JOIN config.systems s ON s.system = t.system AND s.kind = 'system'
  WHERE t.updated_at > w.updated_at
), differing AS (  -- the candidates holding a value none of the owner's values of that field is
  SELECT DISTINCT b.entity, b.canonical_id, b.system, b.source_id
  FROM (SELECT DISTINCT entity, canonical_id, system, source_id FROM later) l
  JOIN field_values b ON b.entity = l.entity AND b.canonical_id = l.canonical_id AND b.system = l.system
    AND b.source_id = l.source_id
  JOIN field_values a ON a.entity = b.entity AND a.canonical_id = b.canonical_id AND a.field = b.field
  JOIN config.ownership o ON o.entity = a.entity AND o.field = '*' AND o.owner = a.system
  WHERE a.kind IN ('text', 'name', 'email', 'phone', 'address') AND a.norm <> b.norm
)
SELECT [{'entity': l.entity, 'system': l.owner_system, 'source_id': l.owner_id, 'canonical_id': l.canonical_id},
        {'entity': l.entity, 'system': l.system, 'source_id': l.source_id, 'canonical_id': l.canonical_id}] AS entities,
  l.system AS owner,
  printf('%s %s was edited in %s on %s, after its owner %s (%s)', l.entity, l.owner_id, l.system,
         strftime(l.updated_at, '%Y-%m-%d'), l.owner_system, strftime(l.owner_at, '%Y-%m-%d')) AS title
FROM later l SEMI JOIN differing d ON d.entity = l.entity AND d.canonical_id = l.canonical_id AND d.system = l.system
  AND d.source_id = l.source_id
