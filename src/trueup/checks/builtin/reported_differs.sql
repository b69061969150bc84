-- name: reported_differs
-- category: corrected_reporting
-- severity: warning
-- description: >
--   A figure leadership was given (declared under `reported`) recomputed from the golden records:
--   revenue and invoiced are invoice amounts by issue date (or posting or payment date, by `basis`),
--   collected is payments by payment date, jobs_completed counts finished jobs. The difference is
--   explained by the spreadsheet corrections found in the same period.
WITH periods AS (
  SELECT r.*,
    CASE WHEN length(r.period) = 4 THEN make_date(CAST(r.period AS INTEGER), 1, 1)
         WHEN r.period LIKE '%Q%' THEN make_date(CAST(left(r.period, 4) AS INTEGER),
                                                  3 * CAST(right(r.period, 1) AS INTEGER) - 2, 1)
         ELSE CAST(r.period || '-01' AS DATE) END AS since,
    CASE WHEN length(r.period) = 4 THEN INTERVAL 1 YEAR WHEN r.period LIKE '%Q%' THEN INTERVAL 3 MONTH
         ELSE INTERVAL 1 MONTH END AS span
  FROM config.reported r
), recomputed AS (
  SELECT p.*, CASE
    WHEN p.metric = 'collected' THEN (SELECT sum(amount) FROM payment WHERE CAST(paid_at AS DATE) >= p.since
                                        AND CAST(paid_at AS DATE) < p.since + p.span)
    WHEN p.metric = 'jobs_completed' THEN (SELECT count(*) FROM job WHERE state IN ('completed', 'invoice_ready', 'closed')
                                        AND CAST(completed_at AS DATE) >= p.since AND CAST(completed_at AS DATE) < p.since + p.span)
    ELSE (SELECT sum(i.amount) FROM invoice i LEFT JOIN (SELECT invoice, max(paid_at) AS paid_at FROM payment GROUP BY 1) pay
            ON pay.invoice = i.canonical_id
          WHERE coalesce(i.state, '') NOT IN ('draft', 'cancelled')
            AND CAST(CASE coalesce(p.basis, 'issued') WHEN 'posted' THEN i.posted_at WHEN 'paid' THEN pay.paid_at
                     ELSE i.issued_at END AS DATE) >= p.since
            AND CAST(CASE coalesce(p.basis, 'issued') WHEN 'posted' THEN i.posted_at WHEN 'paid' THEN pay.paid_at
                     ELSE i.issued_at END AS DATE) < p.since + p.span)
    END AS truth
  FROM periods p
), explained AS (  -- what the source spreadsheet's own invoice rows add up to in the period
  SELECT r.metric, r.period, sum(i.amount) AS sheet_total FROM recomputed r
  JOIN config.systems s ON s.system = r.source AND s.kind = 'spreadsheet'
  JOIN records_invoice i ON i.system = r.source AND CAST(i.issued_at AS DATE) >= r.since
    AND CAST(i.issued_at AS DATE) < r.since + r.span
  WHERE r.metric IN ('revenue', 'invoiced')
  GROUP BY ALL
)
SELECT [{'entity': 'reported', 'system': NULL::VARCHAR, 'source_id': r.metric || ':' || r.period}] AS entities,
  r.metric || ':' || r.period AS key, r.metric AS field, 'reporting' AS owner,
  CASE WHEN r.metric = 'jobs_completed' THEN NULL ELSE abs(r.value - coalesce(r.truth, 0)) END AS money,
  printf('%s for %s was reported as %s%s; the golden records say %s', r.metric, r.period,
         CASE WHEN r.metric = 'jobs_completed' THEN CAST(r.value AS VARCHAR) ELSE config.money_text(r.value) END,
         CASE WHEN r.source IS NULL THEN '' ELSE ' from ' || r.source END,
         CASE WHEN r.metric = 'jobs_completed' THEN CAST(r.truth AS VARCHAR) ELSE config.money_text(coalesce(r.truth, 0)) END)
    AS title,
  CASE WHEN e.sheet_total IS NOT NULL THEN printf('%s''s own rows for %s add up to %s: %s of the difference comes from'
    || ' rows corrected, added or dropped by hand (see the spreadsheet_middleware findings)', r.source, r.period,
    config.money_text(e.sheet_total), config.money_text(e.sheet_total - coalesce(r.truth, 0))) END AS detail,
  {'reported': r.value, 'recomputed': r.truth} AS "values"
FROM recomputed r LEFT JOIN explained e USING (metric, period) CROSS JOIN config.settings s
WHERE abs(r.value - coalesce(r.truth, 0)) > greatest(s.tolerance, 0.005)
