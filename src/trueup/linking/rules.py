"""Deterministic link rules: which pairs of records of two systems are the same real thing.

A rule is data: a name and a SQL condition over the features of a candidate pair (`email_eq`,
`phone_eq`, `name_sim`...). Candidates come from blocking keys (a shared email, phone, name or
postcode), so no rule ever compares every record with every other. The first rule that holds is
the link's evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from trueup.warehouse import staged_table


@dataclass(frozen=True)
class Rule:
    name: str
    condition: str  # SQL over the pair's features


# A shared phone or email alone is not enough: families share both. Each rule pairs a shared
# contact with the name, or with everything else a person is known by.
CUSTOMER_RULES = (
    Rule("email and name", "email_eq AND name_sim >= 0.88"),
    Rule("phone and name", "phone_eq AND name_sim >= 0.88"),
    Rule("name and address", "name_sim >= 0.95 AND address_eq"),
    Rule("email, phone and address", "email_eq AND phone_eq AND address_eq"),
)

# Ways to find candidate pairs, each an equality on a normal form.
CUSTOMER_BLOCKS = (
    "email_norm",
    "phone_e164",
    "name_key || '|' || postal_code",
    "address_key || '|' || postal_code",
)


def customer_pairs_sql(rules: tuple[Rule, ...] = CUSTOMER_RULES) -> str:
    """Every linked pair of customers of different systems, with its rule and features, as SQL."""
    blocks = "\nUNION\n".join(
        f"SELECT a.k AS a, b.k AS b FROM keyed a JOIN keyed b ON a.block_{i} = b.block_{i}"
        f" AND a.system < b.system"
        for i in range(len(CUSTOMER_BLOCKS))
    )
    keys = ", ".join(f"{expr} AS block_{i}" for i, expr in enumerate(CUSTOMER_BLOCKS))
    first = " ".join(f"WHEN {r.condition} THEN '{r.name}'" for r in rules)
    return f"""
WITH keyed AS (
  SELECT system || ':' || source_id AS k, system, source_id, name_key, email_norm, phone_e164,
    address_key, postal_code, {keys}
  FROM {staged_table("customer")}
  WHERE system NOT IN (SELECT system FROM _spreadsheets)
),
candidates AS ({blocks}),
features AS (
  SELECT x.system AS system_a, x.source_id AS source_a, y.system AS system_b, y.source_id AS source_b,
    coalesce(x.email_norm = y.email_norm, false) AS email_eq,
    coalesce(x.phone_e164 = y.phone_e164, false) AS phone_eq,
    coalesce(x.address_key = y.address_key, false) AS address_eq,
    coalesce(jaro_winkler_similarity(x.name_key, y.name_key), 0) AS name_sim
  FROM candidates c JOIN keyed x ON x.k = c.a JOIN keyed y ON y.k = c.b
),
judged AS (SELECT *, CASE {first} END AS rule FROM features)
SELECT system_a, source_a, system_b, source_b, rule,
  {{'email': email_eq, 'phone': phone_eq, 'address': address_eq, 'name': round(name_sim, 3)}} AS evidence
FROM judged WHERE rule IS NOT NULL
"""


def shared_id_pairs_sql(entity: str, system: str, field: str, target: str, canonical: bool) -> str:
    """Records of `system` whose `field` holds the id of a record of `target`."""
    table = staged_table(entity)
    value = f's."{field}"' if canonical else f"s.extra->>'{field}'"
    name = f"shared id ({field})"
    return f"""
SELECT CASE WHEN s.system < t.system THEN s.system ELSE t.system END AS system_a,
  CASE WHEN s.system < t.system THEN s.source_id ELSE t.source_id END AS source_a,
  CASE WHEN s.system < t.system THEN t.system ELSE s.system END AS system_b,
  CASE WHEN s.system < t.system THEN t.source_id ELSE s.source_id END AS source_b,
  '{name}' AS rule, {{'{field}': {value}}} AS evidence
FROM {table} s JOIN {table} t ON t.system = '{target}' AND t.source_id = trim({value})
WHERE s.system = '{system}'
"""
