"""`trueup init`: a folder of exports becomes a commented trueup.yaml that validates and runs."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from trueup import pipeline
from trueup.config.loader import parse_yaml
from trueup.errors import TrueupError
from trueup.report.render import FILES
from trueup.scaffold import InitError, init_workspace
from trueup.scaffold.relate import state_of
from trueup.scaffold.scan import REPORT_FILES, header_row, snake
from trueup.scaffold.write import scalar
from trueup.validation import problems
from trueup.workspace import Workspace

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "northwind"


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".trueup" not in p.parts
    }


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    """A private copy of the example's export files (without its hand-written trueup.yaml)."""
    target = tmp_path / "exports"
    shutil.copytree(EXAMPLE / "exports", target)
    return target


def _open(folder: Path) -> Workspace:
    """The workspace, after the full validation `trueup validate` runs (config and every mapping)."""
    assert problems(folder) == []
    return Workspace.open(folder)


def test_northwind_exports_give_a_valid_workspace(exports: Path) -> None:
    before = _digest(EXAMPLE)
    report = init_workspace(exports)
    assert report.path == exports / "trueup.yaml"
    assert _digest(EXAMPLE) == before  # the example itself is never touched

    config = _open(exports).config
    assert {"hubspot", "jobber", "qbo"} <= set(config.entities["customer"])
    assert config.systems["hubspot"].label == "HubSpot"
    assert config.systems["jobber"].label == "Jobber"
    assert config.systems["qbo"].label == "QuickBooks Online"

    job = config.entities["job"]["jobber"]
    assert (job.from_, job.id) == ("jobs", "job_number")
    assert job.field("status").expr == "status"
    assert job.field("customer").expr == "client_id"
    vocabulary = config.statuses["job"]["jobber"]
    assert vocabulary["Completed"] == "completed"
    assert vocabulary["Requires invoicing"] == "invoice_ready"
    assert vocabulary["Scheduled"] == "scheduled"
    assert vocabulary["Archived"] == "closed"
    text = report.path.read_text(encoding="utf-8")
    assert '"On hold - parts"' in text  # every value found is listed, mapped or to map

    qbo = config.systems["qbo"].source
    assert qbo.type == "files"
    assert {name: qbo.table(name).records for name in qbo.tables} == {
        "customers": "QueryResponse.Customer",
        "invoices": "QueryResponse.Invoice",
        "payments": "QueryResponse.Payment",
    }
    assert config.entities["customer"]["qbo"].field("email").expr == "PrimaryEmailAddr.Address"
    assert config.entities["invoice"]["qbo"].field("customer").expr == "CustomerRef.value"

    sheet = config.systems["exports"]
    assert sheet.kind == "spreadsheet"
    friday = sheet.source.table("friday")
    assert (friday.file, friday.sheet, friday.header_row) == ("friday.xlsx", "Week 46", 2)

    billing = config.entities["invoice"]["billing"]
    assert billing.field("job").expr == "job_ref" and billing.field("job").system == "jobber"
    assert config.ownership["customer.*"] == "hubspot"
    assert config.ownership["job.*"] == "jobber"
    assert config.ownership["invoice.*"] == "billing"
    assert "# check" in text

    summary = report.as_dict()
    assert summary["statuses"]["job"]["jobber"]["Completed"] == "completed"
    assert any(line.startswith("jobber (Jobber)") for line in report.summary())


def test_the_scaffolded_workspace_runs(exports: Path) -> None:
    first = init_workspace(exports)
    ws = _open(exports)
    outcome = pipeline.run(ws)
    assert outcome.outcome == "succeeded", outcome.error
    con = duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        per_system = dict(con.execute("SELECT system, count(*) FROM staged_customer GROUP BY ALL").fetchall())
        states = con.execute(
            "SELECT count(*), count(state) FROM staged_job WHERE system = 'jobber'"
        ).fetchall()
    finally:
        con.close()
    assert per_system == {"hubspot": 5, "jobber": 4, "qbo": 3}
    assert states == [(5, 5)]
    assert all((exports / "report" / name).is_file() for name in REPORT_FILES)  # the run wrote its report
    again = init_workspace(exports, force=True)  # its report.json is no export
    assert [s.name for s in again.plan.systems] == [s.name for s in first.plan.systems]


def test_the_report_files_init_leaves_out_are_the_ones_the_report_step_writes() -> None:
    assert REPORT_FILES == FILES


def test_init_reads_dates_and_amounts_as_the_country_writes_them(tmp_path: Path) -> None:
    # (`summe` is no name trueup knows for an amount: its values tell, read the country's way)
    (tmp_path / "invoices.csv").write_text("no;customer;summe;date\n1;Müller GmbH;1.234,56;03.11.2026\n"
                                           "2;Schmidt AG;12,50;04.11.2026\n", encoding="utf-8")  # fmt: skip
    us = init_workspace(tmp_path)  # as the US writes them neither reads: neither is mapped, and a note says why
    text = us.path.read_text(encoding="utf-8")
    assert "country: US" in text and "amount: summe" not in text and "issued_at: date" not in text
    german = init_workspace(tmp_path, force=True, country="de")
    text = german.path.read_text(encoding="utf-8")
    assert "country: DE" in text and "amount: summe" in text and "issued_at: date" in text
    assert pipeline.run(_open(tmp_path)).outcome == "succeeded"
    con = duckdb.connect(str(tmp_path / ".trueup" / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT source_id, amount, strftime(issued_at, '%Y-%m-%d') FROM staged_invoice ORDER BY 1")
        assert rows.fetchall() == [("1", Decimal("1234.56"), "2026-11-03"), ("2", Decimal("12.50"), "2026-11-04")]
    finally:
        con.close()
    with pytest.raises(InitError, match="no such country"):
        init_workspace(tmp_path, force=True, country="XX")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trueup", *args], capture_output=True, text=True, timeout=300
    )


def test_cli_writes_once_then_refuses_without_force(exports: Path) -> None:
    first = _cli("init", str(exports))
    assert first.returncode == 0, first.stderr
    assert "Wrote" in first.stdout
    written = (exports / "trueup.yaml").read_bytes()

    again = _cli("init", str(exports))
    assert again.returncode != 0
    assert "already exists" in again.stderr and "--force" in again.stderr
    assert "Traceback" not in again.stderr + again.stdout
    assert (exports / "trueup.yaml").read_bytes() == written

    forced = _cli("init", str(exports), "--force", "--json")
    assert forced.returncode == 0, forced.stderr
    assert '"QueryResponse.Invoice"' in forced.stdout


def test_output_elsewhere_keeps_paths_relative_to_the_file(exports: Path, tmp_path: Path) -> None:
    report = init_workspace(exports, output=tmp_path / "config" / "trueup.yaml")
    assert report.path == tmp_path / "config" / "trueup.yaml"
    config = _open(tmp_path / "config").config
    assert config.systems["hubspot"].source.path == "../exports/hubspot"  # type: ignore[union-attr]
    assert not (exports / "trueup.yaml").exists()


def test_empty_and_missing_folders_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".hidden").mkdir()
    (tmp_path / "empty" / ".hidden" / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InitError, match="no export files"):
        init_workspace(tmp_path / "empty")
    with pytest.raises(TrueupError, match="no such folder"):
        init_workspace(tmp_path / "missing")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "a.csv").write_text("")
    (tmp_path / "broken" / "b.xlsx").write_text("not a workbook")
    with pytest.raises(InitError, match="no readable export files"):
        init_workspace(tmp_path / "broken")
    assert not (tmp_path / "broken" / "trueup.yaml").exists()

    result = _cli("init", str(tmp_path / "empty"))
    assert result.returncode != 0 and "no export files" in result.stderr
    assert "Traceback" not in result.stderr


def test_odd_names_and_values_are_quoted(tmp_path: Path) -> None:
    folder = tmp_path / "Field Ops"
    folder.mkdir()
    (folder / "Work Orders.csv").write_text(
        "WO #,Cust ID,Status,order,Scheduled On\n"
        "WO-1,C1,On site,1,2026-01-02\n"
        "WO-2,C2,yes,2,2026-01-03\n"
        "WO-3,C1,no,3,\n"
        "WO-4,C3,null,4,2026-01-05\n"
        "WO-5,C3,1:30,5,2026-01-05\n"
        "WO-6,C2,Completed,6,2026-01-06\n"
        'WO-7,C2,"Hold: ""parts"" # 2",7,2026-01-07\n',
        encoding="utf-8",
    )
    report = init_workspace(tmp_path)
    ws = _open(tmp_path)
    system = report.plan.systems[0].name
    assert system == "field_ops"
    job = ws.config.entities["job"][system]
    assert job.from_ == "work_orders"
    assert job.id == '"WO #"'
    assert job.field("customer").expr == '"Cust ID"'
    vocabulary = ws.config.statuses["job"][system]
    assert vocabulary == {"On site": "in_progress", "Completed": "completed", 'Hold: "parts" # 2': "on_hold"}
    text = report.path.read_text(encoding="utf-8")
    for value in ("yes", "no", "null", "1:30"):
        assert f'# "{value}": ?   # map me' in text
    assert pipeline.run(ws).outcome == "succeeded"


def test_workbook_title_rows_globs_and_json_lines(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Jobs Q4"
    sheet.append(["Weekly report"])
    sheet.append(["(exported Friday)"])
    sheet.append(["Job Number", "Status", "Total"])
    sheet.append(["J1", "Completed", 12.5])
    sheet.append(["J2", "Cancelled", 3])
    book.save(tmp_path / "jobs.xlsx")
    (tmp_path / "billing").mkdir()
    for month, number in (("2026-10", "I1"), ("2026-11", "I2")):
        (tmp_path / "billing" / f"invoices_{month}.csv").write_text(
            f"invoice_number,job,total,status\n{number},J1,10.00,Paid\n", encoding="utf-8"
        )
    (tmp_path / "crm").mkdir()
    (tmp_path / "crm" / "contacts.ndjson").write_text(
        '{"id": 1, "email": "a@example.com", "name": "A"}\n{"id": 2, "email": "b@example.com", "name": "B"}\n'
    )
    (tmp_path / "crm" / "notes.txt").write_text("just some notes\nnothing tabular\n")

    report = init_workspace(tmp_path)
    config = _open(tmp_path).config
    root = report.plan.systems[-1].name
    jobs = config.systems[root].source.table("jobs")
    assert (jobs.sheet, jobs.header_row) == ("Jobs Q4", 3)
    invoices = config.systems["billing"].source.table("invoices")
    assert invoices.file == "invoices_*-*.csv"
    assert config.entities["invoice"]["billing"].field("job").system == root
    assert config.entities["customer"]["crm"].field("email").expr == "email"
    assert any(s.file == "crm/notes.txt" for s in report.plan.skipped)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_scalar_reads_back_as_written(value: str) -> None:
    written = scalar(value)
    assert yaml.safe_load(f"k: {written}") == {"k": value}
    located, problems = parse_yaml(f"k: {written}\n", "t.yaml")
    assert not problems and located is not None and located.data == {"k": value}


@pytest.mark.parametrize(
    ("entity", "value", "state", "sure"),
    [
        ("deal", "closedwon", "won", True),
        ("deal", "Closed Lost", "lost", True),
        ("job", "Completed", "completed", True),
        ("job", "On site", "in_progress", True),
        ("job", "Requires invoicing", "invoice_ready", True),
        ("job", "On hold - parts", "on_hold", False),
        ("job", "Not completed", None, False),
        ("job", "Mystery", None, False),
        ("invoice", "Void", "cancelled", True),
        ("invoice", "Sent", "invoiced", True),
        ("invoice", "Paid", "paid", True),
        ("invoice", "Partially paid", "partially_paid", True),
    ],
)
def test_state_keywords(entity: str, value: str, state: str | None, sure: bool) -> None:
    assert state_of(entity, value) == (state, sure)


def test_names_and_header_rows() -> None:
    assert snake("PrimaryEmailAddr.Address") == "primary_email_addr_address"
    assert snake("WO #") == "wo_number"
    assert header_row([("Title", None, None), ("a", "b", "c"), (1, 2, 3)]) == 2
    assert header_row([(None,), (None,)]) is None


def test_a_workspace_folder_above_its_exports_is_pointed_at_them(tmp_path: Path) -> None:
    """Given a workspace folder whose exports sit in `exports/<system>/`, init reads one system and
    says which folder to give it instead; given that folder, each of its folders is a system."""
    for system, name in (("crm", "contacts.csv"), ("ledger", "customers.csv")):
        (tmp_path / "exports" / system).mkdir(parents=True)
        (tmp_path / "exports" / system / name).write_text("id,name,email\n1,Ann Lee,ann@example.com\n")
    report = init_workspace(tmp_path)
    assert [s.name for s in report.plan.systems] == ["exports"]
    assert report.summary()[-1] == (
        "every export is in exports/ and was read as one system; if its folders are systems,"
        f" run: trueup init {tmp_path / 'exports'}"
    )
    report = init_workspace(tmp_path / "exports")
    assert [s.name for s in report.plan.systems] == ["crm", "ledger"]
    assert not any("every export is in" in line for line in report.summary())
