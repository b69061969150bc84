"""The demo company: deterministic, valid, with every category of debt, and a truth that is true."""

from __future__ import annotations

import csv
import hashlib
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from trueup.checks.definition import CATEGORIES as DEBT_CATEGORIES
from trueup.demo import generate
from trueup.demo.debt import Rates

CATEGORIES = set(DEBT_CATEGORIES)


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".trueup" not in p.parts
    }


def truth(root: Path) -> list[dict]:
    lines = (root / ".truth" / "expected_findings.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_same_seed_same_bytes_other_seed_other_company(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", size=400, seed=11)
    time.sleep(1.1)  # anything stamped with the clock (a zip entry, a document property) would differ
    generate(tmp_path / "b", size=400, seed=11)
    generate(tmp_path / "c", size=400, seed=12)
    a, b, c = (digests(tmp_path / name) for name in "abc")
    assert a == b
    assert len(a) == len(first.files) + 3  # the exports, trueup.yaml and the two truth files
    assert a["exports/jobber/jobs.csv"] != c["exports/jobber/jobs.csv"]


def test_every_category_is_injected_and_the_workspace_validates(demo: Path) -> None:
    from trueup.validation import open_checked

    open_checked(demo)  # binds every mapping against the files; raises on any problem
    assert {line["category"] for line in truth(demo)} == CATEGORIES
    for line in truth(demo):
        assert line["cause"] in ("configuration", "design")
        for ref in line["entities"]:
            assert set(ref) == {"entity", "system", "source_id"}


def test_no_source_points_at_the_truth(demo: Path) -> None:
    from trueup.workspace import Workspace

    ws = Workspace.open(demo)
    for system in ws.config.systems.values():
        folder = (demo / system.source.path).resolve()
        assert ".truth" not in folder.parts
        for name in system.source.tables:
            assert ".truth" not in system.source.table(name).file


def test_a_clean_company_has_no_debt(tmp_path: Path, run_workspace) -> None:
    made = generate(tmp_path / "clean", size=600, seed=5, clean=True)
    assert made.expected == [] and truth(made.root) == []
    con = run_workspace(made.root)
    assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM unmapped_status").fetchone() == (0,)
    # every billing invoice past the one-day handoff reached the ledger once, with the same amount
    differ = con.execute("""
        SELECT count(*) FROM staged_invoice b
        LEFT JOIN staged_invoice a ON a.system = 'accounting' AND a.number = b.number
        WHERE b.system = 'billing' AND b.issued_at < TIMESTAMPTZ '2026-11-19 18:00 America/New_York'
          AND (a.number IS NULL OR a.amount <> b.amount)
    """).fetchone()
    assert differ == (0,)
    # no mapped field is empty in every row (that would be a mapping mistake, itself a finding)
    from trueup.model import ENTITIES
    from trueup.workspace import Workspace

    for entity, systems in Workspace.open(made.root).config.entities.items():
        for system, mapping in systems.items():
            for field in mapping.fields:
                column = field if field in ENTITIES[entity].fields else None
                assert column, (entity, field)
                filled = con.execute(
                    f"SELECT count({column}) FROM staged_{entity} WHERE system = ?", [system]
                ).fetchone()
                assert filled and filled[0] > 0, f"{entity}.{field} from {system} is always empty"
            for name in mapping.extra:
                filled = con.execute(
                    f"SELECT count(extra->>'{name}') FROM staged_{entity} WHERE system = ?", [system]
                ).fetchone()
                assert filled and filled[0] > 0, f"{entity} extra {name} from {system} is always empty"
    # the same customer agrees everywhere once case, spacing and formats are normalised
    differing = con.execute("""
        SELECT a.system, b.system, count(*) FILTER (a.name_key <> b.name_key),
          count(*) FILTER (a.email_norm <> b.email_norm), count(*) FILTER (a.phone_e164 <> b.phone_e164),
          count(*) FILTER (a.address_key <> b.address_key), count(*) FILTER (a.company_key <> b.company_key),
          count(*) FILTER (a.city <> b.city OR a.postal_code <> b.postal_code), count(*)
        FROM staged_customer a JOIN truth_ids ta ON ta.system = a.system AND ta.source_id = a.source_id
        JOIN truth_ids tb ON tb.true_id = ta.true_id AND tb.system > ta.system
        JOIN staged_customer b ON b.system = tb.system AND b.source_id = tb.source_id
        WHERE ta.entity = 'customer' AND tb.entity = 'customer' GROUP BY 1, 2
    """).fetchall()
    assert len(differing) == 3
    for row in differing:
        assert row[2:8] == (0, 0, 0, 0, 0, 0) and row[8] > 0, row
    # the sheet holds exactly what dispatch and the ledger say
    sheet_differs = con.execute("""
        SELECT count(*) FROM staged_job s JOIN staged_job d ON d.system = 'dispatch' AND d.number = s.number
        WHERE s.system = 'friday_sheet' AND (s.amount <> d.amount OR s.technician <> d.technician
          OR s.completed_at <> d.completed_at OR s.branch <> d.branch OR s.service_line <> d.service_line)
    """).fetchone()
    assert sheet_differs == (0,)
    # and the sheet leadership reads adds up to what billing invoiced
    config = (made.root / "trueup.yaml").read_text()
    reported = float(config.split("metric: revenue, period: '2026-10', value: ")[1].split(",")[0])
    recomputed = con.execute("""
        SELECT sum(amount) FROM staged_invoice WHERE system = 'billing' AND strftime(issued_at, '%Y-%m') = '2026-10'
    """).fetchone()
    assert recomputed is not None and float(recomputed[0]) == pytest.approx(reported, abs=0.001)


def test_rates_can_be_changed_one_by_one(tmp_path: Path) -> None:
    none_unposted = Rates().with_overrides({"invoice_not_posted": 0.0})
    made = generate(tmp_path / "d", size=600, seed=3, rates=none_unposted)
    assert not [line for line in made.expected if line["kind"] == "invoice_not_posted"]
    assert [line for line in made.expected if line["kind"] == "job_not_invoiced"]
    with pytest.raises(ValueError, match="unknown rate"):
        Rates().with_overrides({"typo": 1.0})


def test_identities_cover_every_exported_record(demo: Path, demo_run) -> None:
    with (demo / ".truth" / "identities.csv").open() as f:
        known = {(r["entity"], r["system"], r["source_id"]) for r in csv.DictReader(f)}
    for entity, systems in {
        "customer": ("crm", "dispatch", "accounting"),
        "job": ("dispatch",),
        "invoice": ("billing", "accounting"),
        "deal": ("crm",),
        "payment": ("accounting",),
    }.items():
        rows = demo_run.execute(
            f"SELECT system, source_id FROM staged_{entity} WHERE system IN {systems!r}".replace(",)", ")")
        ).fetchall()
        assert rows
        missing = [r for r in rows if (entity, r[0], r[1]) not in known]
        assert missing == [], (entity, missing[:5])


def test_the_same_customer_differs_only_as_people_type(demo: Path, demo_run) -> None:
    """Case, spacing, phone formats and street abbreviations vary, yet normalise to one value."""
    pairs = demo_run.execute("""
        SELECT a.phone, b.phone, a.phone_e164 = b.phone_e164
        FROM staged_customer a JOIN truth_ids ta ON ta.system = a.system AND ta.source_id = a.source_id
        JOIN truth_ids tb ON tb.true_id = ta.true_id AND tb.system = 'dispatch'
        JOIN staged_customer b ON b.system = 'dispatch' AND b.source_id = tb.source_id
        WHERE a.system = 'crm' AND ta.entity = 'customer' AND tb.entity = 'customer'
    """).fetchall()
    assert pairs
    assert len({p[0][:1] for p in pairs}) > 1, "phones are written in several formats"
    conflicts = {
        ref["source_id"] for line in truth(demo) if line.get("field") == "phone" for ref in line["entities"]
    }
    same = [p for p in pairs if p[2]]
    assert len(same) >= len(pairs) - len(conflicts)


@pytest.mark.parametrize("clock", ["2026-11-01 01:30", "2026-03-08 02:30", "2026-07-01 12:00", "2026-01-05 09:15"])
def test_the_sheets_utc_times_are_the_instants_trueup_reads_dispatchs_times_as(clock: str) -> None:
    from trueup.demo.sheet import utc_clock  # the hour the clocks repeat, the hour they skip, summer, winter

    con = duckdb.connect()
    read = con.execute(f"SELECT timezone('America/New_York', TIMESTAMP '{clock}')").fetchone()
    (utc,) = utc_clock(con, [datetime.fromisoformat(clock)])
    assert read is not None and utc.replace(tzinfo=UTC) == read[0].astimezone(UTC)
