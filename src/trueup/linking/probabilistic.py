"""Probabilistic customer matching with Splink on DuckDB, for what the rules cannot decide.

The model is estimated without labels on every run: the chance that two records match from the
deterministic rules, the u probabilities by random sampling (seeded, `matching.max_pairs` pairs),
the m probabilities by expectation maximisation within the blockings. It scores pairs that share an
email, a phone, a surname and postcode, an address or a declared field; term-frequency adjustments
make a common surname count for less than a rare one. A column no record fills (exports without
emails) is left out of the model.

Splink works on a cursor of the warehouse's own database, in an in-memory catalog attached for the
run and detached after: the records reach it and the pairs come back by SQL, never through Python,
and it shares the warehouse's threads and memory limit. Records are sorted by key, so the result
does not depend on row order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import duckdb

from trueup.warehouse import ident, scalar, staged_table

if TYPE_CHECKING:
    from splink.backends.duckdb import DuckDBAPI

WORK = "_splink"  # the catalog Splink works in, attached in memory for the run
SCORED = "_scored"  # the temporary table on the warehouse connection `score_customers` fills


class OneSystem(Exception):
    """Nothing to score: the customer records are of one system (the message says which)."""


def features_sql(extra: list[str]) -> str:
    """The columns Splink compares, one row per customer record of a system that is not a
    spreadsheet (`$sheets`, the list of those), in key order."""
    extras = "".join(f", nullif(trim(extra->>'{name}'), '') AS x_{i}" for i, name in enumerate(extra))
    return f"""
SELECT system || ':' || source_id AS unique_id, system AS source_dataset, name_key, email_norm, phone_e164,
  address_key, postal_code, list_last(string_split(name_key, ' ')) AS last_token,
  substr(name_key, 1, 1) AS initial{extras}
FROM {staged_table("customer")}
WHERE NOT list_contains($sheets::VARCHAR[], system) AND source_id IS NOT NULL
ORDER BY unique_id
"""


# The columns every customer record has, by what people call them; compared when some record fills them.
STANDARD = {"name_key": "name", "email_norm": "email", "phone_e164": "phone", "address_key": "address",
            "postal_code": "postal code"}  # fmt: skip


def score_customers(
    con: duckdb.DuckDBPyConnection,
    floor: float,
    max_pairs: float,
    extra: list[str] | None = None,
    seed: int = 1,
) -> list[str]:
    """Pairs of customers of different systems scoring at least `floor` into the temporary table
    `SCORED` (system_a, source_a, system_b, source_b, probability and evidence, the match weight of
    each comparison as JSON); returns what the model compared (`STANDARD`'s names, declared fields)
    of what records fill. Spreadsheets' records (in the temporary table `_spreadsheets`) are not
    scored; `OneSystem` when the other records are of one system."""
    extra = extra or []
    sheets = scalar(con, "SELECT coalesce(list(system), []) FROM _spreadsheets")
    con.execute(f"ATTACH ':memory:' AS {WORK}")
    work = con.cursor()
    try:
        work.execute(f"CREATE TABLE {WORK}.customers AS {features_sql(extra)}", {"sheets": sheets})
        work.execute(f"USE {WORK}")  # Splink's tables beside the records, not in the warehouse
        compared = _score(work, floor, max_pairs, extra, seed)
        # Splink's tables are dropped before the warehouse connection reads the pairs: once its open
        # transaction has read the catalog, what it could see stays in memory until it commits
        # (1.9 GB on the `large` demo, through the rest of the link step).
        for (table,) in work.execute(
            f"SELECT table_name FROM duckdb_tables() WHERE database_name = '{WORK}' AND table_name <> 'pairs'"
        ).fetchall():
            work.execute(f"DROP TABLE {WORK}.main.{ident(table)}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {SCORED} AS SELECT * FROM {WORK}.main.pairs")
        return compared
    finally:
        work.close()
        con.execute(f"DETACH {WORK}")


def _score(
    work: duckdb.DuckDBPyConnection, floor: float, max_pairs: float, extra: list[str], seed: int
) -> list[str]:
    """Splink over `customers`, its pairs into `pairs`; what it compared."""
    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on

    named = {**STANDARD, **{f"x_{i}": name for i, name in enumerate(extra)}}
    [counts] = work.execute(
        f"SELECT list(DISTINCT source_dataset ORDER BY source_dataset), {', '.join(f'count({c})' for c in named)}"
        " FROM customers"
    ).fetchall()
    if len(counts[0]) < 2:  # only pairs of two systems are scored
        holders = f"only {counts[0][0]} has" if counts[0] else "only spreadsheets have"
        raise OneSystem(
            f"{holders} customer records, and the matching model compares the records of two systems"
        )
    # A column no record fills says nothing about any pair: it is neither compared nor blocked on.
    # (Left in, Splink cannot estimate it and its failed estimates disturb the others.)
    filled = {column for column, count in zip(named, counts[1:], strict=True) if count}
    if "name_key" in filled:
        filled |= {"last_token", "initial"}  # derived from the name
    comparisons = {
        "name_key": cl.JaroWinklerAtThresholds("name_key", [0.92, 0.8]).configure(term_frequency_adjustments=True),
        "email_norm": cl.ExactMatch("email_norm"),
        "phone_e164": cl.ExactMatch("phone_e164"),
        "address_key": cl.JaroWinklerAtThresholds("address_key", [0.92, 0.8]),
        # a mistyped or transposed digit of a postcode still counts for something
        "postal_code": _near("postal_code", [1]),
        # declared extra fields (a date of birth, a tax number): near misses count for something
        **{f"x_{i}": _near(f"x_{i}", [1, 2]) for i in range(len(extra))},
    }  # fmt: skip
    xs = [(f"x_{i}",) for i in range(len(extra))]

    def usable(*blockings: tuple[str, ...]) -> list[Any]:
        return [block_on(*columns) for columns in blockings if columns and filled.issuperset(columns)]

    settings = SettingsCreator(
        link_type="link_and_dedupe",
        comparisons=[comparison for column, comparison in comparisons.items() if column in filled],
        blocking_rules_to_generate_predictions=usable(
            ("email_norm",), ("phone_e164",), ("postal_code", "last_token", "initial"), ("address_key",),
            *xs,  # a shared birth date finds a typo'd name
        ),
        retain_intermediate_calculation_columns=True,  # the match weights are a link's evidence
    )  # fmt: skip
    # Near-certain matches give the prior: whichever of these the data has (exports without
    # emails or phones still have names, postcodes and declared fields).
    rules = (("email_norm",), ("phone_e164",), ("name_key", "postal_code"), tuple(c for (c,) in xs))
    if prior := _prior(work, [c for c in rules if c and filled.issuperset(c)], recall=0.8):
        settings.probability_two_random_records_match = prior
    api = _backend(work)
    # Splink's warnings (levels it did not observe, its advice on sample sizes) are not the
    # user's to act on; what the model compared is in the step's notes. Its check of the settings
    # against the columns is for settings a person wrote: these name the columns made above.
    linker = Linker(api.register("customers"), settings, log_level=logging.ERROR, validate_settings=False)
    # One pass over the sample per comparison: Splink's early stop needs every level seen a
    # hundred times, which the rare ones (an exact tax number) never are.
    linker.training.estimate_u_using_random_sampling(
        max_pairs=max_pairs, seed=seed, num_chunks=1, min_count_per_level=None
    )
    # The m probabilities within blockings, until each comparison was estimated by a pass that did
    # not block on it (a pass learns nothing of the columns it blocks on; a pass more costs time).
    unestimated, trained = {column for column in comparisons if column in filled}, False
    for columns in (("postal_code", "last_token", "initial"), ("email_norm",), *xs):
        if filled.issuperset(columns) and not unestimated.issubset(columns):
            blocking = block_on(*columns)
            if _try(partial(linker.training.estimate_parameters_using_expectation_maximisation, blocking)):
                unestimated &= set(columns)
                trained = True
    if not trained:
        raise ValueError("no blocking gave pairs to estimate the model from")
    predicted = linker.inference.predict(threshold_match_probability=floor)
    present = {row[0] for row in work.execute(f"DESCRIBE {predicted.physical_name}").fetchall()}
    weights = ", ".join(  # keyed by column, a declared field by its name; one left out has no weight
        f"'{column if column in STANDARD else name}': round(mw_{column}, 2)"
        for column, name in named.items()
        if f"mw_{column}" in present
    )
    # Each side back to (system, source id), system a before system b as in the links table.
    work.execute(
        f"""
        CREATE TABLE pairs AS
        WITH scored AS (
          SELECT least(unique_id_l, unique_id_r) AS a, greatest(unique_id_l, unique_id_r) AS b,
            match_probability AS probability, CAST({{{weights}}} AS JSON) AS evidence
          FROM {predicted.physical_name}
          WHERE source_dataset_l <> source_dataset_r
        )
        SELECT split_part(a, ':', 1) AS system_a, substr(a, strpos(a, ':') + 1) AS source_a,
          split_part(b, ':', 1) AS system_b, substr(b, strpos(b, ':') + 1) AS source_b, probability, evidence
        FROM scored ORDER BY a, b
        """
    )
    return [name for column, name in named.items() if column in filled]


def _prior(work: duckdb.DuckDBPyConnection, rules: list[tuple[str, ...]], recall: float) -> float | None:
    """The chance that two customer records match, estimated as Splink's
    `estimate_probability_two_random_records_match` does: the pairs that agree on all the columns of
    some rule, taken as `recall` of the true matches, over all pairs of records. None (Splink's
    default prior stands) when the rules find no pair or more than `recall` allows.

    The same number, by one query: Splink's own estimate builds its SQL through sqlglot's
    optimiser, a sixth of a second of Python on every run."""
    if not rules:
        return None
    found = " UNION ".join(
        "SELECT l.unique_id AS a, r.unique_id AS b FROM customers l JOIN customers r ON l.unique_id < r.unique_id"
        + "".join(f" AND l.{column} = r.{column}" for column in columns)
        for columns in rules
    )
    [(pairs, records)] = work.execute(
        f"SELECT (SELECT count(*) FROM ({found})), (SELECT count(*) FROM customers)"
    ).fetchall()
    every = records * (records - 1) / 2
    if not pairs or pairs > every * recall:
        return None
    return float(pairs / recall / every)


def _near(column: str, thresholds: list[int]) -> Any:
    """Splink's Damerau-Levenshtein comparison (exact, each distance threshold, anything else),
    each level tried first by the Levenshtein distance within twice its threshold.

    A transposition costs Levenshtein two edits where it costs Damerau-Levenshtein one, so a pair
    within k of each other by one is within 2k by the other: the levels are the same. DuckDB's
    Levenshtein is four times as fast, and of the pairs sampled to estimate how often records agree
    by chance nearly none get past it (the u estimates of two declared fields took 0.3 s on
    Febrl4, a fifth of the link step)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    levels = [
        cll.And(cll.LevenshteinLevel(column, 2 * k), cll.DamerauLevenshteinLevel(column, k)).configure(
            label_for_charts=f"Damerau-Levenshtein distance of {column} <= {k}"
        )
        for k in thresholds
    ]
    return cl.CustomComparison(
        [cll.NullLevel(column), cll.ExactMatchLevel(column), *levels, cll.ElseLevel()],
        output_column_name=column,
        comparison_description=f"Exact match vs. Damerau-Levenshtein distance at {thresholds} vs. anything else",
    )


def _backend(work: duckdb.DuckDBPyConnection) -> DuckDBAPI:
    """Splink's DuckDB backend on `work`, registering Python records through DuckDB itself.

    Splink registers its u counts as a list of dicts, which its own backend turns into a pyarrow
    table, and pyarrow's first table from Python values imports pandas: 0.9 s of every run, more
    than the estimate itself on 10,000 records."""
    from splink.backends.duckdb import DuckDBAPI

    class Backend(DuckDBAPI):
        def _table_registration(self, input: Any, table_name: str) -> None:
            if input and isinstance(input, list | tuple) and all(isinstance(r, dict) for r in input):
                records = self._con.sql(
                    "SELECT unnest($records, recursive := true)", params={"records": input}
                )
                records.create_view(table_name, replace=True)
            else:
                super()._table_registration(input, table_name)

    return Backend(work)


def _try(train: Callable[[], object]) -> int:
    """One training step; 0 when the data cannot support it (Splink raises on empty blocks)."""
    from splink.internals.exceptions import SplinkException

    try:
        train()
    except (SplinkException, ValueError, ArithmeticError):
        return 0
    return 1
