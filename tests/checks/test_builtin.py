"""Every built-in check on a hand-made company: exactly the findings planted, and none when clean."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.checks.company import EXPECTED, files
from trueup.checks.registry import builtin_checks
from trueup.cli.app import app

runner = CliRunner()
Ref = tuple[str, str | None, str | None]


def _run(root: Path, content: dict[str, str]) -> list[dict]:
    for name, text in content.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["run", "-w", str(root)])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["findings", "-w", str(root), "--json"])
    return json.loads(listed.output)


def _records(finding: dict) -> set[Ref]:
    return {(e["entity"], e["system"], e["source_id"]) for e in finding["entities"]}


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    return _run(tmp_path_factory.mktemp("fixture-co"), files())


def test_the_fixture_names_every_builtin_check() -> None:
    assert set(EXPECTED) == {c.name for c in builtin_checks()}


@pytest.mark.parametrize("check", sorted(EXPECTED))
def test_each_check_finds_exactly_what_was_planted(found: list[dict], check: str) -> None:
    mine = sorted((_records(f) for f in found if f["check"] == check), key=sorted)
    assert mine == sorted(EXPECTED[check], key=sorted), [f["title"] for f in found if f["check"] == check]


def test_the_clean_company_has_no_findings(tmp_path: Path) -> None:
    assert [f["title"] for f in _run(tmp_path, files(clean=True))] == []


def test_titles_money_owners_and_causes(found: list[dict]) -> None:
    by_check: dict[str, list[dict]] = {}
    for f in found:
        by_check.setdefault(f["check"], []).append(f)
    unbilled = by_check["job_not_invoiced"][0]
    assert unbilled["money"] == 200.0 and unbilled["owner"] == "billing-team" and unbilled["handoff"] == "job-to-invoice"
    assert unbilled["title"] == "Job J2 completed 2026-11-05, no invoice after 15 days (SLA 3 days), $200.00 unbilled"
    amounts = {frozenset(_records(f)): f for f in by_check["amount_mismatch"]}
    edited = amounts[frozenset({("invoice", "billing", "INV-5"), ("invoice", "accounting", "L5")})]
    assert edited["money"] == 50.0 and edited["cause"] == "design"
    taxed = next(f for f in by_check["amount_mismatch"] if ("invoice", "accounting", "L11") in _records(f))
    assert taxed["money"] == 8.0 and taxed["cause"] == "configuration" and "tax" in taxed["cause_reason"]
    assert by_check["unmapped_status"][0]["cause"] == "configuration"
    assert by_check["handoff_stalled"][0]["money"] == 216.0  # what billing still shows open on INV-11, INV-12
    assert by_check["reported_differs"][0]["money"] == 276.0  # reported 2,400.00; the invoices say 2,124.00
    assert by_check["sheet_correction"][0]["money"] == 10.0 and by_check["sheet_correction"][0]["field"] == "Job Total"
    assert by_check["column_without_upstream"][0]["field"] == "Notes"
    assert by_check["handoff_gaps"][0]["field"] == "monitoring"
    for f in found:
        assert f["cause_reason"], f


IDLE = ("deal-to-job", "invoice-to-ledger", "job-to-invoice")
VARIANTS: dict[str, tuple[Callable[[str], str], list[set[Ref]]]] = {
    # nobody declared who owns invoices, which billing and the ledger both keep
    "unowned_fact": (
        lambda y: y.replace("  invoice.*: billing\n", ""),
        [{("invoice", "accounting", None), ("invoice", "billing", None)}],
    ),
    # a quarter later nothing new reached the ledger, billing or dispatch: every live handoff is idle
    "handoff_idle": (
        lambda y: y.replace("as_of: '2026-11-20T18:00'", "as_of: '2027-02-20T18:00'"),
        [{("handoff", None, h)} for h in IDLE],
    ),
}


@pytest.mark.parametrize("check", sorted(VARIANTS))
def test_checks_the_fixture_cannot_plant_at_once(tmp_path: Path, check: str) -> None:
    change, expected = VARIANTS[check]
    content = files(clean=True)
    content["trueup.yaml"] = change(content["trueup.yaml"])
    mine = sorted((_records(f) for f in _run(tmp_path, content) if f["check"] == check), key=sorted)
    assert mine == sorted(expected, key=sorted)
