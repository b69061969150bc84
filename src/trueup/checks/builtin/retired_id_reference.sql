-- name: retired_id_reference
-- category: migration_residue
-- severity: warning
-- description: >
--   A reference (a deal's customer, an invoice's job) that points at a record by a retired
--   system's id: the link is broken for every current system.
SELECT [{'entity': m.entity, 'system': m.system, 'source_id': m.source_id}] AS entities, m.field AS field,
  m.system AS owner,
  printf('%s %s in %s refers to its %s by the retired %s id %s', config.capital(m.entity), m.source_id, m.system, m.field, m.retired,
         m.value) AS title
FROM config.retired_matches m WHERE m.how = 'reference'
