"""Probabilistic customer matching with Splink on DuckDB, for what the rules cannot decide.

The model is estimated without labels on every run: the chance that two records match from the
deterministic rules, the u probabilities by random sampling (seeded), the m probabilities by
expectation maximisation within two blockings. It scores pairs that share an email, a phone, a
surname and postcode, or an address; term-frequency adjustments make a common surname count for
less than a rare one. Splink works in its own in-memory DuckDB; records travel as Arrow, sorted by
key, so the result does not depend on row order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import duckdb
import pyarrow as pa

from trueup.warehouse import staged_table


def features_sql(extra: list[str]) -> str:
    """The columns Splink compares, one row per customer record, in key order."""
    extras = "".join(f", nullif(trim(extra->>'{name}'), '') AS x_{i}" for i, name in enumerate(extra))
    return f"""
SELECT system || ':' || source_id AS unique_id, system AS source_dataset, name_key, email_norm, phone_e164,
  address_key, postal_code, list_last(string_split(name_key, ' ')) AS last_token,
  substr(name_key, 1, 1) AS initial{extras}
FROM {staged_table("customer")}
WHERE system NOT IN (SELECT system FROM _spreadsheets) AND source_id IS NOT NULL
ORDER BY unique_id
"""


EMPTY = {
    "system_a": pa.string(), "source_a": pa.string(), "system_b": pa.string(), "source_b": pa.string(),
    "probability": pa.float64(), "evidence": pa.string(),
}  # fmt: skip


def score_customers(
    con: duckdb.DuckDBPyConnection,
    floor: float,
    max_pairs: float,
    extra: list[str] | None = None,
    seed: int = 1,
) -> pa.Table:
    """Pairs of customers of different systems scoring at least `floor`: system_a, source_a,
    system_b, source_b, probability and evidence (the match weight of each comparison, as JSON)."""
    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI

    extra = extra or []
    records = con.sql(features_sql(extra)).to_arrow_table()
    assert records is not None  # a SELECT always has a result
    if records.num_rows < 2 or len(set(records.column("source_dataset").to_pylist())) < 2:
        return pa.table({k: pa.array([], t) for k, t in EMPTY.items()})
    work = duckdb.connect()
    try:
        work.execute("SET enable_progress_bar = false")  # scripts read trueup's own output
        work.register("_records", records)
        work.execute("CREATE TABLE customers AS SELECT * FROM _records")
        work.unregister("_records")
        api = DuckDBAPI(work)
        settings = SettingsCreator(
            link_type="link_and_dedupe",
            comparisons=[
                cl.JaroWinklerAtThresholds("name_key", [0.92, 0.8]).configure(
                    term_frequency_adjustments=True
                ),
                cl.ExactMatch("email_norm"),
                cl.ExactMatch("phone_e164"),
                cl.JaroWinklerAtThresholds("address_key", [0.92, 0.8]),
                cl.ExactMatch("postal_code"),
                # declared extra fields (a date of birth, a tax number): near misses count for something
                *(cl.LevenshteinAtThresholds(f"x_{i}", [1, 2]) for i in range(len(extra))),
            ],
            blocking_rules_to_generate_predictions=[
                block_on("email_norm"),
                block_on("phone_e164"),
                block_on("postal_code", "last_token", "initial"),
                block_on("address_key"),
                *(block_on(f"x_{i}") for i in range(len(extra))),  # a shared birth date finds a typo'd name
            ],
            retain_intermediate_calculation_columns=True,  # the match weights are a link's evidence
        )
        linker = Linker(api.register("customers"), settings, log_level=logging.WARNING)
        # Near-certain matches give the prior: whichever of these the data has (exports without
        # emails or phones still have names, postcodes and declared fields).
        sure: list[Any] = [
            block_on("email_norm"),
            block_on("phone_e164"),
            block_on("name_key", "postal_code"),
        ]
        if extra:
            sure.append(block_on(*(f"x_{i}" for i in range(len(extra)))))
        _try(lambda: linker.training.estimate_probability_two_random_records_match(sure, recall=0.8))
        linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
        trained = 0
        em_blocks = [block_on("postal_code", "last_token", "initial"), block_on("email_norm")]
        em_blocks += [block_on(f"x_{i}") for i in range(len(extra))]
        for blocking in em_blocks:  # a blocking the data cannot use (no emails at all) is skipped
            trained += _try(
                partial(linker.training.estimate_parameters_using_expectation_maximisation, blocking)
            )
        if not trained:
            raise ValueError("no blocking gave pairs to estimate the model from")
        predicted = linker.inference.predict(threshold_match_probability=floor)
        compared = {n: n for n in ("name_key", "email_norm", "phone_e164", "address_key", "postal_code")}
        compared |= {name: f"x_{i}" for i, name in enumerate(extra)}
        present = {row[0] for row in work.execute(f"DESCRIBE {predicted.physical_name}").fetchall()}
        weights = ", ".join(  # a comparison Splink dropped (a column empty everywhere) has no weight
            f"'{name}': round(mw_{column}, 2)"
            for name, column in compared.items()
            if f"mw_{column}" in present
        )
        work.execute(
            f"""
            CREATE TEMP VIEW scored AS
            SELECT CASE WHEN unique_id_l < unique_id_r THEN unique_id_l ELSE unique_id_r END AS a,
              CASE WHEN unique_id_l < unique_id_r THEN unique_id_r ELSE unique_id_l END AS b,
              match_probability AS probability, CAST({{{weights}}} AS JSON) AS evidence
            FROM {predicted.physical_name}
            WHERE source_dataset_l <> source_dataset_r
            """
        )
        # Each side back to (system, source id), system a before system b as in the links table.
        return work.sql(
            """
            SELECT split_part(a, ':', 1) AS system_a, substr(a, strpos(a, ':') + 1) AS source_a,
              split_part(b, ':', 1) AS system_b, substr(b, strpos(b, ':') + 1) AS source_b, probability,
              CAST(evidence AS VARCHAR) AS evidence
            FROM scored ORDER BY a, b
            """
        ).to_arrow_table()
    finally:
        work.close()


def _try(train: Callable[[], object]) -> int:
    """One training step; 0 when the data cannot support it (Splink raises on empty blocks)."""
    from splink.internals.exceptions import SplinkException

    try:
        train()
    except (SplinkException, ValueError, ArithmeticError):
        return 0
    return 1
