"""Mapping builds typed, normalised staged entities and keeps what it cannot map visible."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.imports import loaded_by_run
from trueup import pipeline
from trueup.mapping.normalize import NANP_NUMBER, SQL_MACROS, phone_e164
from trueup.workspace import Workspace


def _query(ws: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(ws / ".trueup" / "warehouse.duckdb"), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def ran(example: Path) -> Path:
    outcome = pipeline.run(Workspace.open(example))
    assert outcome.outcome == "succeeded", outcome
    return example


def test_every_entity_has_a_staged_table(ran: Path) -> None:
    counts = dict(
        _query(
            ran,
            """
        SELECT 'customer', count(*) FROM staged_customer UNION ALL SELECT 'deal', count(*) FROM staged_deal
        UNION ALL SELECT 'job', count(*) FROM staged_job UNION ALL SELECT 'invoice', count(*) FROM staged_invoice
        UNION ALL SELECT 'payment', count(*) FROM staged_payment
        UNION ALL SELECT 'location', count(*) FROM staged_location
        UNION ALL SELECT 'interaction', count(*) FROM staged_interaction""",
        )
    )
    assert counts == {
        "customer": 12,
        "deal": 5,
        "job": 5,
        "invoice": 5,
        "payment": 1,
        "location": 0,
        "interaction": 0,
    }


def test_normal_forms_sit_beside_the_originals(ran: Path) -> None:
    rows = _query(
        ran,
        """SELECT system, name, name_key, email, email_norm, phone, phone_e164, address_key
                          FROM staged_customer WHERE source_id IN ('102', 'C-2') ORDER BY system""",
    )
    crm, dispatch = rows
    assert crm[1] == "James O'Neil" and crm[4] == dispatch[4] == "joneil@example.net"
    assert crm[3] == "JONEIL@example.net"  # the original is kept as exported
    assert crm[6] == dispatch[6] == "+13125550199"
    assert crm[7] == dispatch[7] == "88 n wacker dr"


def test_ingest_and_mapping_import_neither_pyarrow_nor_pandas(example: Path) -> None:
    # Their imports cost a small workspace's run a third of a second (pyarrow's first array from
    # Python values imports pandas where it is installed): rows a reader builds in Python (the
    # Friday sheet), statuses and normal forms reach DuckDB as list parameters, and JSON as lines.
    assert loaded_by_run(example, ["ingest", "map"], {"pyarrow", "pandas"}) == ("succeeded", [])
    assert _query(example, "SELECT count(*) FROM staged_customer WHERE phone_e164 IS NOT NULL")[0][0] > 0
    assert _query(example, "SELECT count(*) FROM raw.friday_sheet__rows")[0][0] > 0  # the sheet was read


def test_money_times_and_states_are_typed(ran: Path) -> None:
    job = _query(
        ran, "SELECT amount, completed_at, status, state FROM staged_job WHERE source_id = 'J-1001'"
    )[0]
    assert job[0] == Decimal("6450.0000")
    # 09/06/2026 03:30 PM in America/Chicago (CDT, UTC-5)
    assert job[1] == datetime(2026, 9, 6, 20, 30, tzinfo=ZoneInfo("UTC"))
    assert (job[2], job[3]) == ("Archived", "closed")
    deal = _query(ran, "SELECT amount FROM staged_deal WHERE source_id = '9001'")[0]
    assert deal[0] == Decimal("6450.0000")  # "$6,450.00"


def test_nested_json_paths_and_reference_id_spaces(ran: Path) -> None:
    rows = _query(
        ran,
        """SELECT source_id, job, job_system, job_matches, customer, customer_system, amount
                          FROM staged_invoice WHERE system = 'accounting' ORDER BY source_id""",
    )
    assert rows[1] == ("INV-502", "J-1002", "dispatch", "number", "59", "accounting", Decimal("198.4500"))
    billing = _query(
        ran,
        "SELECT customer, customer_system FROM staged_invoice WHERE source_id = 'INV-501' "
        "AND system = 'billing'",
    )
    assert billing == [("C-1", "dispatch")]


def test_unmapped_status_values_are_kept_and_counted(ran: Path) -> None:
    assert _query(ran, "SELECT entity, system, value, rows, example_ids FROM unmapped_status") == [
        ("job", "dispatch", "On hold - parts", 1, ["J-1005"])
    ]
    assert _query(ran, "SELECT status, state FROM staged_job WHERE source_id = 'J-1005'") == [
        ("On hold - parts", None)
    ]


def test_extra_fields_are_kept(ran: Path) -> None:
    rows = _query(ran, "SELECT extra->>'lifecycle_stage' FROM staged_customer WHERE source_id = '104'")
    assert rows == [("lead",)]


def test_rows_that_cannot_be_coerced_are_quarantined_by_line(make_workspace) -> None:  # type: ignore[no-untyped-def]
    root = make_workspace(
        """
        name: t
        timezone: Europe/London
        country: GB
        systems:
          dispatch: {source: {type: files, tables: {jobs: jobs.csv}}}
        entities:
          job:
            dispatch: {from: jobs, id: no, fields: {amount: total, completed_at: done}}
        """,
        {"jobs.csv": "no,total,done\n1,10.50,03/11/2026\n2,ten,03/11/2026\n3,(4.00),not a date\n,5,\n4,,\n"},
    )
    pipeline.run(Workspace.open(root))
    staged = _query(root, "SELECT source_id, amount, completed_at FROM staged_job ORDER BY source_id")
    assert staged == [
        ("1", Decimal("10.5000"), datetime(2026, 11, 3, tzinfo=ZoneInfo("UTC"))),
        ("4", None, None),
    ]
    bad = _query(root, "SELECT stage, tbl, source, line, column_name, raw FROM quarantine ORDER BY line")
    assert bad == [
        ("map", "jobs", "jobs.csv", 3, "amount", "ten"),
        ("map", "jobs", "jobs.csv", 4, "completed_at", "not a date"),
        ("map", "jobs", "jobs.csv", 5, "id", None),
    ]


def test_times_without_an_offset_are_read_in_the_fields_then_the_systems_then_the_workspaces_zone(
    make_workspace,  # type: ignore[no-untyped-def]
) -> None:
    root = make_workspace(
        """
        name: t
        timezone: America/Chicago
        systems:
          dispatch: {timezone: Europe/London, source: {type: files, tables: {jobs: jobs.csv}}}
          sheet: {source: {type: files, tables: {rows: rows.csv}}}
        entities:
          job:
            dispatch:
              from: jobs
              id: no
              fields: {completed_at: done, scheduled_at: {expr: booked, timezone: UTC}}
            sheet: {from: rows, id: no, fields: {completed_at: done}}
        """,
        {
            "jobs.csv": "no,done,booked\n1,2026-07-01 12:00,2026-07-01 12:00\n2,2026-07-01T12:00:00+02:00,\n"
            "3,2026-07-01,07/01/2026\n",
            "rows.csv": "no,done\n1,2026-07-01 12:00\n",
        },
    )
    pipeline.run(Workspace.open(root), only=["ingest", "map"])
    staged = _query(
        root,
        "SELECT system, source_id, epoch(completed_at), epoch(scheduled_at) FROM staged_job ORDER BY ALL",
    )
    noon_utc = datetime(2026, 7, 1, 12, tzinfo=ZoneInfo("UTC")).timestamp()
    midnight_chicago = datetime(2026, 7, 1, tzinfo=ZoneInfo("America/Chicago")).timestamp()
    assert staged == [
        ("dispatch", "1", noon_utc - 3600, noon_utc),  # the system's zone (BST); the field's own (UTC)
        ("dispatch", "2", noon_utc - 7200, None),  # an offset is taken as written
        (
            "dispatch",
            "3",
            midnight_chicago,
            midnight_chicago,
        ),  # a date alone is a day of the company's calendar
        ("sheet", "1", noon_utc + 5 * 3600, None),  # the workspace's zone (CDT)
    ]


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("(312) 555-0148", "+13125550148"),
        ("312.555.0148", "+13125550148"),
        ("+1 312 555 0148", "+13125550148"),
        ("555", None),
        ("", None),
        (None, None),
    ],
)
def test_phone_e164(raw: str | None, e164: str | None) -> None:
    assert phone_e164(raw, "US") == e164


@settings(max_examples=400, deadline=None)
@given(
    text=st.one_of(
        st.from_regex(NANP_NUMBER, fullmatch=True),  # every way the fast path reads
        st.from_regex(r" *\+?[0-9 ().-]{7,16} *", fullmatch=True),  # near misses, which it must leave alone
    ),
    region=st.sampled_from(["US", "CA", "JM", "GB", "DE", "AU"]),
)
def test_north_american_numbers_read_as_libphonenumber_reads_them(text: str, region: str) -> None:
    import phonenumbers

    try:
        number = phonenumbers.parse(text, region)
        expected = (
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            if phonenumbers.is_possible_number(number)
            else None
        )
    except phonenumbers.NumberParseException:
        expected = None
    assert phone_e164(text, region) == (expected if text.strip() else None)


def test_address_keys_agree_across_spellings() -> None:
    con = duckdb.connect()
    for macro in SQL_MACROS:
        con.execute(macro)
    spellings = ["1420 W. Addison Street", "1420 w addison st", "500 Maple St #B", "  ", None, "12 Place de l'Église"]
    keys = con.execute("SELECT trueup_address_key(unnest($v::VARCHAR[]))", {"v": spellings}).fetchall()
    assert [k for (k,) in keys] == ["1420 w addison st", "1420 w addison st", "500 maple st apt b", None, None, "12 pl de l eglise"]


def test_the_example_quarantines_its_deal_without_an_amount(ran: Path) -> None:
    assert _query(ran, "SELECT stage, system, tbl, source, line, column_name, raw FROM quarantine") == [
        ("map", "crm", "deals", "exports/hubspot/deals.csv", 7, "amount", "TBD")
    ]
