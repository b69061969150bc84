"""Probabilistic customer matching with Splink on DuckDB, for what the rules cannot decide.

The model is estimated without labels on every run: the chance that two records match from the
deterministic rules, the u probabilities by random sampling (seeded, `matching.max_pairs` pairs),
the m probabilities by expectation maximisation within the blockings. It scores pairs that share an
email, a phone, a surname and postcode, an address or a declared field; term-frequency adjustments
make a common surname count for less than a rare one. A column no record fills (exports without
emails) is left out of the model. Splink works in its own in-memory DuckDB; records travel as
Arrow, sorted by key, so the result does not depend on row order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
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


# The columns every customer record has, by what people call them; compared when some record fills them.
STANDARD = {"name_key": "name", "email_norm": "email", "phone_e164": "phone", "address_key": "address",
            "postal_code": "postal code"}  # fmt: skip
EMPTY = {
    "system_a": pa.string(), "source_a": pa.string(), "system_b": pa.string(), "source_b": pa.string(),
    "probability": pa.float64(), "evidence": pa.string(),
}  # fmt: skip


@dataclass
class Scored:
    pairs: pa.Table  # see `score_customers`
    compared: list[str]  # what the model compared (`STANDARD`'s names, declared fields) of what records fill


def score_customers(
    con: duckdb.DuckDBPyConnection,
    floor: float,
    max_pairs: float,
    extra: list[str] | None = None,
    seed: int = 1,
) -> Scored:
    """Pairs of customers of different systems scoring at least `floor` (`Scored.pairs`: system_a,
    source_a, system_b, source_b, probability and evidence, the match weight of each comparison as
    JSON), and what the model compared."""
    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI

    extra = extra or []
    records = con.sql(features_sql(extra)).to_arrow_table()
    assert records is not None  # a SELECT always has a result
    if records.num_rows < 2 or len(set(records.column("source_dataset").to_pylist())) < 2:
        return Scored(pa.schema(list(EMPTY.items())).empty_table(), [])
    # A column no record fills says nothing about any pair: it is neither compared nor blocked on.
    # (Left in, Splink cannot estimate it and its failed estimates disturb the others.)
    named = {**STANDARD, **{f"x_{i}": name for i, name in enumerate(extra)}}
    filled = {c for c in named if records.column(c).null_count < records.num_rows}
    if "name_key" in filled:
        filled |= {"last_token", "initial"}  # derived from the name
    comparisons = {
        "name_key": cl.JaroWinklerAtThresholds("name_key", [0.92, 0.8]).configure(term_frequency_adjustments=True),
        "email_norm": cl.ExactMatch("email_norm"),
        "phone_e164": cl.ExactMatch("phone_e164"),
        "address_key": cl.JaroWinklerAtThresholds("address_key", [0.92, 0.8]),
        # a mistyped or transposed digit of a postcode still counts for something
        "postal_code": cl.DamerauLevenshteinAtThresholds("postal_code", [1]),
        # declared extra fields (a date of birth, a tax number): near misses count for something
        **{f"x_{i}": cl.DamerauLevenshteinAtThresholds(f"x_{i}", [1, 2]) for i in range(len(extra))},
    }  # fmt: skip
    xs = [(f"x_{i}",) for i in range(len(extra))]

    def usable(*blockings: tuple[str, ...]) -> list[Any]:
        return [block_on(*columns) for columns in blockings if columns and filled.issuperset(columns)]

    work = duckdb.connect()
    try:
        work.execute("SET enable_progress_bar = false")  # scripts read trueup's own output
        work.register("_records", records)
        work.execute("CREATE TABLE customers AS SELECT * FROM _records")
        work.unregister("_records")
        api = DuckDBAPI(work)
        settings = SettingsCreator(
            link_type="link_and_dedupe",
            comparisons=[comparison for column, comparison in comparisons.items() if column in filled],
            blocking_rules_to_generate_predictions=usable(
                ("email_norm",), ("phone_e164",), ("postal_code", "last_token", "initial"), ("address_key",),
                *xs,  # a shared birth date finds a typo'd name
            ),
            retain_intermediate_calculation_columns=True,  # the match weights are a link's evidence
        )  # fmt: skip
        # Splink's warnings (levels it did not observe, its advice on sample sizes) are not the
        # user's to act on; what the model compared is in the step's notes.
        linker = Linker(api.register("customers"), settings, log_level=logging.ERROR)
        # Near-certain matches give the prior: whichever of these the data has (exports without
        # emails or phones still have names, postcodes and declared fields).
        sure = usable(("email_norm",), ("phone_e164",), ("name_key", "postal_code"), tuple(c for (c,) in xs))
        _try(lambda: linker.training.estimate_probability_two_random_records_match(sure, recall=0.8))
        # One pass over the sample per comparison: Splink's early stop needs every level seen a
        # hundred times, which the rare ones (an exact tax number) never are.
        linker.training.estimate_u_using_random_sampling(
            max_pairs=max_pairs, seed=seed, num_chunks=1, min_count_per_level=None
        )
        trained = 0
        for blocking in usable(("postal_code", "last_token", "initial"), ("email_norm",), *xs):
            trained += _try(
                partial(linker.training.estimate_parameters_using_expectation_maximisation, blocking)
            )
        if not trained:
            raise ValueError("no blocking gave pairs to estimate the model from")
        predicted = linker.inference.predict(threshold_match_probability=floor)
        present = {row[0] for row in work.execute(f"DESCRIBE {predicted.physical_name}").fetchall()}
        weights = ", ".join(  # keyed by column, a declared field by its name; one left out has no weight
            f"'{column if column in STANDARD else name}': round(mw_{column}, 2)"
            for column, name in named.items()
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
        pairs = work.sql(
            """
            SELECT split_part(a, ':', 1) AS system_a, substr(a, strpos(a, ':') + 1) AS source_a,
              split_part(b, ':', 1) AS system_b, substr(b, strpos(b, ':') + 1) AS source_b, probability,
              CAST(evidence AS VARCHAR) AS evidence
            FROM scored ORDER BY a, b
            """
        ).to_arrow_table()
        assert pairs is not None
        return Scored(pairs, [name for column, name in named.items() if column in filled])
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
