"""Amounts are read as the workspace's country writes them, and never guessed into another number."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from babel import Locale
from babel.numbers import format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from trueup import pipeline
from trueup.config.models import Workspace as Config
from trueup.mapping.compile import install_macros
from trueup.workspace import Workspace

COUNTRIES = ("US", "GB", "DE", "FR", "CH", "IN", "BR", "SE", "ES")


def _reader(country: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    install_macros(con, Config(name="t", systems={}, country=country))
    return con


READERS = {country: _reader(country) for country in COUNTRIES}


def money(country: str, value: object) -> Decimal | None:
    got = READERS[country].execute("SELECT trueup_money(?)", [value]).fetchone()
    assert got is not None
    return got[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("country", "text", "amount"),
    [
        ("US", "$1,234.50", "1234.50"),
        ("US", "(12.00)", "-12.00"),
        ("US", "1,23,456.78", "123456.78"),  # (groups of two, as India writes them)
        ("US", "USD 99.90", "99.90"),
        ("US", "12,50", None),  # no US amount: dropping the comma made it 1250
        ("US", "1.234,56", None),
        ("US", "1,2345.00", None),
        ("DE", "1.234,56 €", "1234.56"),
        ("DE", "12,50", "12.50"),
        ("DE", "1.234", "1234"),  # a thousand and more, as Germany writes it
        ("DE", "1234.56", "1234.56"),  # as a program writes it
        ("DE", "-1.234.567,89", "-1234567.89"),
        ("DE", "1,234.50", None),
        ("FR", "1\u202f234,56", "1234.56"),
        ("FR", "1 234,56", "1234.56"),
        ("FR", "\u22125,00", "-5.00"),
        ("CH", "1'234.50", "1234.50"),
        ("CH", "1\u2019234.50", "1234.50"),
        ("CH", "12,50", None),
    ],
)
def test_text_is_read_as_the_country_writes_amounts(country: str, text: str, amount: str | None) -> None:
    assert money(country, text) == (None if amount is None else Decimal(amount))


@pytest.mark.parametrize("country", ["US", "DE", "FR"])
def test_a_number_the_source_typed_is_read_as_the_number_it_is(country: str) -> None:
    con = READERS[country]
    typed = con.execute(
        "SELECT trueup_money(1.234::DOUBLE), trueup_money(1234.5::DECIMAL(9, 2)), trueup_money(7), trueup_money(NULL::DOUBLE)"
    ).fetchone()
    assert typed == (Decimal("1.234"), Decimal("1234.5"), Decimal("7"), None)  # never 1234 in Germany


@settings(max_examples=300, deadline=None)
@given(
    # (not CH: Babel writes its billions as "1234567'890.12", grouping only the last three digits)
    country=st.sampled_from([c for c in COUNTRIES if c != "CH"]),
    cents=st.integers(min_value=-(10**11), max_value=10**11),
)
def test_an_amount_as_cldr_writes_it_in_the_country_reads_back(country: str, cents: int) -> None:
    amount = Decimal(cents).scaleb(-2)
    written = format_decimal(amount, format="#,##0.00", locale=Locale.parse(f"und_{country}"))
    assert money(country, written) == amount, written


def test_a_german_companys_amounts_load_and_a_us_one_quarantines_what_it_cannot_read(
    make_workspace: Callable[..., Path],
) -> None:
    config = """
        name: t
        country: {country}
        timezone: Europe/Berlin
        systems:
          billing: {{source: {{type: files, tables: {{invoices: invoices.csv}}}}}}
          books: {{source: {{type: files, tables: {{bills: bills.ndjson}}}}}}
        entities:
          invoice:
            billing: {{from: invoices, id: no, fields: {{amount: total}}}}
            books: {{from: bills, id: id, fields: {{amount: total}}}}
        """
    files = {
        "invoices.csv": 'no,total\n1,"1.234,56 €"\n2,"12,50"\n3,1.234\n4,1234.56\n5,(7.00)\n',
        "bills.ndjson": '{"id": "b1", "total": 1.234}\n{"id": "b2", "total": 99.9}\n',
    }
    root = make_workspace(config.format(country="DE"), files)
    assert pipeline.run(Workspace.open(root), only=["ingest", "map"]).outcome == "succeeded"
    con = duckdb.connect(str(root / ".trueup" / "warehouse.duckdb"), read_only=True)
    staged = con.execute("SELECT system, source_id, amount FROM staged_invoice ORDER BY ALL").fetchall()
    assert staged == [
        ("billing", "1", Decimal("1234.56")),
        ("billing", "2", Decimal("12.50")),
        ("billing", "3", Decimal("1234")),
        ("billing", "4", Decimal("1234.56")),
        ("billing", "5", Decimal("-7.00")),
        ("books", "b1", Decimal("1.234")),  # a number in JSON is the number it is
        ("books", "b2", Decimal("99.9")),
    ]
    con.close()

    (root / "trueup.yaml").write_text((root / "trueup.yaml").read_text().replace("country: DE", "country: US"))
    assert pipeline.run(Workspace.open(root), only=["ingest", "map"]).outcome == "succeeded"
    con = duckdb.connect(str(root / ".trueup" / "warehouse.duckdb"), read_only=True)
    bad = con.execute("SELECT source, line, column_name, raw, reason FROM quarantine ORDER BY line").fetchall()
    assert [b[:4] for b in bad] == [
        ("invoices.csv", 2, "amount", "1.234,56 €"),
        ("invoices.csv", 3, "amount", "12,50"),
    ]
    assert all("not an amount as amounts are written in US (1,234.56); `country`" in b[4] for b in bad)
    con.close()
