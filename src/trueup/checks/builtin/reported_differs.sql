-- name: reported_differs
-- category: corrected_reporting
-- severity: warning
-- stake: misreported
-- description: >
--   A figure leadership was given (declared under `reported`) recomputed from the golden records:
--   revenue and invoiced are invoice amounts by issue date (or posting or payment date, by `basis`),
--   collected is payments by payment date, jobs_completed counts finished jobs. The difference is
--   explained by the spreadsheet corrections found in the same period.
SELECT [{'entity': 'reported', 'system': r.source, 'source_id': r.metric || ':' || r.period}] AS entities,
  r.metric || ':' || r.period AS key, r.metric AS field, 'reporting' AS owner,
  CASE WHEN r.metric = 'jobs_completed' THEN NULL ELSE abs(r.reported - coalesce(r.recomputed, 0)) END AS money,
  printf('%s for %s was reported as %s%s; the golden records say %s', r.metric, r.period,
         CASE WHEN r.metric = 'jobs_completed' THEN CAST(r.reported AS VARCHAR) ELSE config.money_text(r.reported) END,
         CASE WHEN r.source IS NULL THEN '' ELSE ' from ' || r.source END,
         CASE WHEN r.metric = 'jobs_completed' THEN CAST(r.recomputed AS VARCHAR) ELSE config.money_text(coalesce(r.recomputed, 0)) END)
    AS title,
  CASE WHEN r.sheet_total IS NOT NULL THEN printf('%s''s own rows for %s add up to %s: %s of the difference comes from'
    || ' rows corrected, added or dropped by hand (see the spreadsheet_middleware findings)', r.source, r.period,
    config.money_text(r.sheet_total), config.money_text(r.sheet_total - coalesce(r.recomputed, 0))) END AS detail,
  {'reported': r.reported, 'recomputed': r.recomputed} AS "values"
FROM reported_figures r CROSS JOIN config.settings s
WHERE abs(r.reported - coalesce(r.recomputed, 0)) > greatest(s.tolerance, 0.005)
