"""References no system recorded, inferred from the customer, the amount and the dates.

An invoice with no job, or a payment with no invoice, is matched to the one golden record of the
same customer with the same amount (within `tolerance.amount`) whose time falls in a window
around its own: the job completed in the month before the invoice, the invoice issued in the four
months before the payment. The closest in time wins; when two are equally close nothing is
inferred. Each inferred reference is written to the golden record, to `provenance` with the
system `inferred`, and to `inferred_references` with its evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from trueup.warehouse import ident

INFERRED = "inferred_references"


@dataclass(frozen=True)
class Inference:
    entity: str  # the record missing its reference
    field: str  # the reference field, named after its target entity
    time: str  # the record's own time
    target_time: str  # the target's time
    days_before: int  # how long before the record's time the target's may fall
    days_after: int


INFERENCES = (
    Inference("invoice", "job", "issued_at", "completed_at", days_before=31, days_after=1),
    Inference("payment", "invoice", "paid_at", "issued_at", days_before=122, days_after=0),
)


def infer(con: duckdb.DuckDBPyConnection, tolerance: float) -> None:
    con.execute(
        f"CREATE OR REPLACE TABLE {INFERRED} (entity VARCHAR, canonical_id VARCHAR, field VARCHAR,"
        " target_id VARCHAR, evidence JSON)"
    )
    for rule in INFERENCES:
        source, target = ident(rule.entity), ident(rule.field)
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _guess AS
            WITH candidates AS (
              SELECT s.canonical_id, t.canonical_id AS target_id,
                abs(epoch(s.{rule.time}) - epoch(t.{rule.target_time})) AS distance,
                s.amount AS amount, t.{rule.target_time} AS target_time
              FROM {source} s JOIN {target} t ON t.customer = s.customer
                AND abs(t.amount - s.amount) <= {tolerance}
                AND t.{rule.target_time} BETWEEN s.{rule.time} - INTERVAL {rule.days_before} DAY
                                             AND s.{rule.time} + INTERVAL {rule.days_after} DAY
              WHERE s.{ident(rule.field)} IS NULL AND s.customer IS NOT NULL
            ),
            ranked AS (
              SELECT *, rank() OVER (PARTITION BY canonical_id ORDER BY distance) AS place,
                count(*) OVER (PARTITION BY canonical_id, distance) AS tied
              FROM candidates
            )
            SELECT canonical_id, target_id, amount, target_time, distance FROM ranked WHERE place = 1 AND tied = 1
            """
        )
        con.execute(
            f"UPDATE {source} SET {ident(rule.field)} = g.target_id FROM _guess g"
            f" WHERE {source}.canonical_id = g.canonical_id"
        )
        con.execute(
            f"INSERT INTO provenance SELECT '{rule.entity}', canonical_id, '{rule.field}', 'inferred', target_id,"
            " NULL, NULL FROM _guess"
        )
        con.execute(
            f"INSERT INTO {INFERRED} SELECT '{rule.entity}', canonical_id, '{rule.field}', target_id,"
            " json_object('same customer', true, 'amount', amount, 'target time', target_time,"
            " 'hours apart', round(distance / 3600, 1)) FROM _guess"
        )
