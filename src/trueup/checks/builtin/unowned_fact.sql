-- name: unowned_fact
-- category: source_of_truth_conflict
-- severity: warning
-- description: >
--   An entity that two or more systems map with no owner declared for some of its fields: nobody
--   has said which value is the truth.
WITH mappers AS (
  SELECT m.entity, m.field, list(DISTINCT m.system ORDER BY m.system) AS systems
  FROM config.mappings m JOIN config.systems s ON s.system = m.system AND s.kind = 'system'
  WHERE NOT m.extra
  GROUP BY ALL HAVING count(DISTINCT m.system) > 1
), unowned AS (
  SELECT m.* FROM mappers m
  LEFT JOIN config.ownership o ON o.entity = m.entity AND o.field = m.field
  WHERE o.owner IS NULL
), per_entity AS (
  SELECT entity, list(field ORDER BY field) AS fields, flatten(list(systems)) AS systems FROM unowned GROUP BY entity
)
SELECT list_transform(list_sort(list_distinct(p.systems)), lambda s: {'entity': p.entity, 'system': s, 'source_id': NULL::VARCHAR}) AS entities,
  CASE WHEN o.owner IS NULL THEN p.entity || '.*' ELSE p.entity || '.' || array_to_string(p.fields, ', ') END AS field,
  p.entity AS key,
  printf('%s: %s all map %s and no owner is declared', p.entity, array_to_string(list_sort(list_distinct(p.systems)), ', '),
         CASE WHEN o.owner IS NULL THEN 'it' ELSE array_to_string(p.fields, ', ') END) AS title,
  'ownership' AS owner
FROM per_entity p LEFT JOIN config.ownership o ON o.entity = p.entity AND o.field = '*'
