-- name: load_volume_drop
-- category: silent_sync_failure
-- severity: critical
-- description: >
--   A source table that holds less than half of the rows it held at the previous run: an export
--   that was cut short or a sync that dropped records, which nothing else would report.
WITH ordered AS (
  SELECT *, lag(rows) OVER (PARTITION BY system, source_table ORDER BY started_at, run_id) AS before,
    row_number() OVER (PARTITION BY system, source_table ORDER BY started_at DESC, run_id DESC) AS recency
  FROM config.loads
)
SELECT [{'entity': 'table', 'system': system, 'source_id': source_table}] AS entities,
  system || '.' || source_table || ':' || run_id AS key, system AS owner,
  printf('%s.%s fell from %d rows to %d since the last run', system, source_table, before, rows) AS title,
  {'before': before, 'now': rows} AS "values"
FROM ordered WHERE recency = 1 AND before >= 10 AND rows * 2 < before
