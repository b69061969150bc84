-- name: load_stalled
-- category: silent_sync_failure
-- severity: warning
-- description: >
--   A source table whose files have not changed for longer than the look-back (30 days) while
--   trueup kept running: an export or sync that quietly stopped delivering.
WITH newest AS (
  SELECT system, tbl AS source_table, max(loaded_at) AS loaded_at FROM ingest_files GROUP BY ALL
), runs AS (
  SELECT system, source_table, count(DISTINCT run_id) AS runs FROM config.loads GROUP BY ALL
)
SELECT [{'entity': 'table', 'system': n.system, 'source_id': n.source_table}] AS entities,
  n.system || '.' || n.source_table AS key, n.system AS owner,
  printf('%s.%s has not changed since %s, over %d runs', n.system, n.source_table, strftime(n.loaded_at, '%Y-%m-%d'),
         r.runs) AS title
FROM newest n JOIN runs r USING (system, source_table) CROSS JOIN config.settings s
WHERE n.loaded_at < now() - s.lookback AND r.runs >= 2
