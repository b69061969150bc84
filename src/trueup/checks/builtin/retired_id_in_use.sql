-- name: retired_id_in_use
-- category: migration_residue
-- severity: info
-- description: >
--   A record of a current system that still carries an id of a retired one (matching its
--   `id_pattern`), as its own id or in a field listed under the retired system's `fields`.
SELECT [{'entity': m.entity, 'system': m.system, 'source_id': m.source_id}] AS entities, m.field AS field,
  m.system AS owner,
  CASE m.how WHEN 'id' THEN printf('%s %s in %s has an id of the retired %s', config.capital(m.entity), m.source_id, m.system, m.retired)
    ELSE printf('%s %s in %s still carries the %s id %s (%s, retired %s)', config.capital(m.entity), m.source_id, m.system, m.retired,
                m.value, m.field, coalesce(CAST(r.retired_on AS VARCHAR), 'already')) END AS title
FROM config.retired_matches m JOIN config.retired r ON r.system = m.retired
WHERE m.how IN ('id', 'field')
