-- name: systematic_offset
-- category: vendor_setting
-- severity: warning
-- cause: configuration
-- description: >
--   Amount differences between an invoice and its copy that follow one rule across many records
--   (the copy carries the tax twice, or none of it): a tax setting in the receiving system, not a
--   series of separate mistakes.
WITH pairs AS (
  SELECT h.id AS handoff, h.to_system AS system, b.source_id, round(b.amount - a.amount, 2) AS delta, round(a.tax, 2) AS tax,
    b.issued_at
  FROM config.handoffs h
  JOIN records_invoice a ON a.system = h.from_system
  JOIN records_invoice b ON b.canonical_id = a.canonical_id AND b.system = h.to_system
  WHERE h.source_entity = 'invoice' AND h.target_entity = 'invoice' AND h.retired_on IS NULL AND a.tax > 0
), patterned AS (
  SELECT *, CASE WHEN delta = tax THEN 'carries its tax twice' WHEN delta = -tax THEN 'carries no tax' END AS rule
  FROM pairs
)
SELECT list({'entity': 'invoice', 'system': system, 'source_id': source_id} ORDER BY source_id) AS entities,
  system || ':' || rule AS key, 'amount' AS field, system AS owner, min(handoff) AS handoff, sum(abs(delta)) AS money,
  printf('%d invoices in %s issued %s to %s %s (%s in all): a tax setting', count(*), system,
         strftime(min(issued_at), '%Y-%m-%d'), strftime(max(issued_at), '%Y-%m-%d'), rule,
         config.money_text(sum(abs(delta)))) AS title
FROM patterned WHERE rule IS NOT NULL GROUP BY system, rule HAVING count(*) >= 3
