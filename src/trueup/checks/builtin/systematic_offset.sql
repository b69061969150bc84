-- name: systematic_offset
-- category: vendor_setting
-- severity: warning
-- cause: configuration
-- description: >
--   Amount differences between an invoice and its copy that follow one rule across many records
--   (the copy carries the tax twice, or none of it): a tax setting in the receiving system, not a
--   series of separate mistakes.
WITH pairs AS (
  SELECT c.handoff, h.to_system AS system, c.copy_row, c.amount, c.copy_amount, round(c.tax, 2) AS tax,
    c.copy_issued_at AS issued_at
  FROM invoice_copies c JOIN config.handoffs h ON h.id = c.handoff WHERE c.copy_row IS NOT NULL AND c.tax > 0
), ruled AS (  -- (a copy of the same amount is passed over before anything is rounded: nearly all of them)
  SELECT *, CASE WHEN copy_amount = amount THEN NULL
                 WHEN round(copy_amount - amount, 2) = tax THEN 'carries its tax twice'
                 WHEN round(copy_amount - amount, 2) = -tax THEN 'carries no tax' END AS rule,
    round(copy_amount - amount, 2) AS delta
  FROM pairs
), patterned AS (  -- the copies' ids, read for those a rule explains alone
  SELECT r.*, i.source_id, i.canonical_id FROM ruled r JOIN records_invoice i ON i.rowid = r.copy_row
  WHERE r.rule IS NOT NULL
)
SELECT list({'entity': 'invoice', 'system': system, 'source_id': source_id, 'canonical_id': canonical_id} ORDER BY source_id)
    AS entities,
  system || ':' || rule AS key, 'amount' AS field, system AS owner, min(handoff) AS handoff, sum(abs(delta)) AS money,
  printf('%s invoices in %s issued %s to %s: each %s (%s in all), a tax setting', format('{:,}', count(*)), system,
         strftime(min(issued_at), '%Y-%m-%d'), strftime(max(issued_at), '%Y-%m-%d'), rule,
         config.money_text(sum(abs(delta)))) AS title,
  printf('tax setting in %s: an invoice copied there %s', system, rule) AS cause_reason
FROM patterned GROUP BY system, rule HAVING count(*) >= 3
