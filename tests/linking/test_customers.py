"""Customer links on hand-checked hard cases, and links that do not depend on row order."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.imports import loaded_by_run
from trueup import pipeline
from trueup.workspace import Workspace

CONFIG = """
name: Hard cases
country: US
systems:
  crm: {source: {type: files, path: crm, tables: {contacts: contacts.csv}}}
  dispatch: {source: {type: files, path: dispatch, tables: {clients: clients.csv}}}
entities:
  customer:
    crm: {from: contacts, id: id, fields: {name: name, company: company, email: email, phone: phone, address: street, postal_code: zip}}
    dispatch: {from: clients, id: id, fields: {name: name, company: company, email: email, phone: phone, address: street, postal_code: zip}}
ownership: {customer.*: crm}
"""

CRM = [
    "id,name,company,email,phone,street,zip",
    "c1,John Smith,,john.smith@gmail.com,(937) 555-0101,12 Oak Street,45402",  # his wife shares the line
    "c2,David Lee,,david.lee@gmail.com,937-555-0102,1 Elm Street,45402",  # another David Lee elsewhere
    "c3,Ann Ortiz,Ortiz Bakery,office@ortizbakery.com,937-555-0103,40 Main Street,45405",
    "c4,Robert King,,rking@aol.com,937-555-0104,7 Pine Road,45409",  # Bob in dispatch
    "c5,Gary Mitchell,,gary.mitchell@yahoo.com,937-555-0105,9 Lake Drive,45409",  # a typo in dispatch
    "c6,Maria Lopez,,maria.lopez@gmail.com,937-555-0106,3 Hill Court,45419",  # only in the CRM
]
DISPATCH = [
    "id,name,company,email,phone,street,zip",
    "d1,Mary Smith,,mary.smith@gmail.com,937.555.0101,12 Oak St,45402",
    "d2,David Lee,,dlee77@outlook.com,937-555-0199,88 Walnut Avenue,45402",
    "d3,Ann Ortiz,Ortiz Bakery,office@ortizbakery.com,+1 937 555 0103,40 Main St,45405",
    "d4,Bob King,,RKing@aol.com,9375550104,7 Pine Rd,45409",
    "d5,Gary Micthell,,gary.mitchell@yahoo.com,937-555-0155,9 Lake Dr,45409",
    "d7,John Smith,,john.smith@gmail.com,937 555 0101,12 Oak St,45402",
]
EXPECTED = {("c1", "d7"), ("c3", "d3"), ("c4", "d4"), ("c5", "d5")}


def _links(root: Path) -> tuple[set[tuple[str, str]], dict[str, str]]:
    pipeline.run(Workspace.open(root))
    con = duckdb.connect(str(root / ".trueup" / "warehouse.duckdb"), read_only=True)
    try:
        links = {
            (a, b)
            for a, b in con.execute(
                "SELECT source_a, source_b FROM links WHERE entity = 'customer'"
            ).fetchall()
        }
        ids = dict(
            con.execute("SELECT source_id, canonical_id FROM clusters WHERE entity = 'customer'").fetchall()
        )
    finally:
        con.close()
    return links, ids


def test_hard_cases_link_as_a_person_would(make_workspace: Callable[..., Path]) -> None:
    root = make_workspace(
        CONFIG,
        {"crm/contacts.csv": "\n".join(CRM) + "\n", "dispatch/clients.csv": "\n".join(DISPATCH) + "\n"},
    )
    links, ids = _links(root)
    assert links == EXPECTED  # not the couple sharing a phone, not the two David Lees
    assert ids["c1"] == ids["d7"] != ids["d1"]
    assert len(set(ids.values())) == len(ids) - len(EXPECTED)


def test_row_order_changes_no_link_and_no_id(make_workspace: Callable[..., Path], tmp_path: Path) -> None:
    first = make_workspace(
        CONFIG,
        {"crm/contacts.csv": "\n".join(CRM) + "\n", "dispatch/clients.csv": "\n".join(DISPATCH) + "\n"},
    )
    links, ids = _links(first)
    shuffled = tmp_path / "shuffled"
    (shuffled / "crm").mkdir(parents=True)
    (shuffled / "dispatch").mkdir()
    (shuffled / "trueup.yaml").write_text((first / "trueup.yaml").read_text())
    (shuffled / "crm" / "contacts.csv").write_text("\n".join([CRM[0], *reversed(CRM[1:])]) + "\n")
    (shuffled / "dispatch" / "clients.csv").write_text(
        "\n".join([DISPATCH[0], *reversed(DISPATCH[1:])]) + "\n"
    )
    assert _links(shuffled) == (links, ids)


def test_a_shared_id_links_what_the_names_do_not(make_workspace: Callable[..., Path]) -> None:
    config = CONFIG.replace(
        "ownership: {customer.*: crm}",
        "ownership: {customer.*: crm}\nmatching:\n  shared_ids: [{system: crm, field: jobber_id, target: dispatch}]",
    ).replace(
        "crm: {from: contacts, id: id, fields: {name: name, company: company, email: email, phone: phone, address: street, postal_code: zip}}",
        "crm: {from: contacts, id: id, fields: {name: name, company: company, email: email, phone: phone, address: street, postal_code: zip}, extra: {jobber_id: jobber_id}}",
    )
    crm = [CRM[0] + ",jobber_id", *(line + (",d2" if line.startswith("c2,") else ",") for line in CRM[1:])]
    root = make_workspace(
        config,
        {"crm/contacts.csv": "\n".join(crm) + "\n", "dispatch/clients.csv": "\n".join(DISPATCH) + "\n"},
    )
    links, ids = _links(root)
    assert links == {*EXPECTED, ("c2", "d2")} and ids["c2"] == ids["d2"]


def test_a_shared_id_naming_an_unmapped_field_is_reported(make_workspace: Callable[..., Path]) -> None:
    from trueup.errors import ConfigError

    config = CONFIG.replace(
        "ownership: {customer.*: crm}",
        "ownership: {customer.*: crm}\nmatching:\n  shared_ids: [{system: crm, field: jobber, target: dispatch}]\n  compare: [dob]",
    )
    root = make_workspace(
        config,
        {"crm/contacts.csv": "\n".join(CRM) + "\n", "dispatch/clients.csv": "\n".join(DISPATCH) + "\n"},
    )
    try:
        Workspace.open(root)
    except ConfigError as exc:
        rendered = [p.render() for p in exc.problems]
    else:
        raise AssertionError("the configuration should not validate")
    assert any("matching.shared_ids[0].field" in r and "not mapped from crm" in r for r in rendered), rendered
    assert any("matching.compare[0]" in r and "dob" in r for r in rendered), rendered


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(crm=st.permutations(CRM[1:]), dispatch=st.permutations(DISPATCH[1:]))
def test_any_row_order_gives_the_same_links_and_ids(
    crm: list[str], dispatch: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("shuffled")
    (root / "crm").mkdir()
    (root / "dispatch").mkdir()
    (root / "trueup.yaml").write_text(CONFIG)
    (root / "crm" / "contacts.csv").write_text("\n".join([CRM[0], *crm]) + "\n")
    (root / "dispatch" / "clients.csv").write_text("\n".join([DISPATCH[0], *dispatch]) + "\n")
    links, ids = _links(root)
    assert links == EXPECTED
    assert ids == _reference_ids(tmp_path_factory)


_REFERENCE: dict[str, str] = {}


def _reference_ids(factory: pytest.TempPathFactory) -> dict[str, str]:
    """The ids of the rows in their written order, computed once."""
    if not _REFERENCE:
        root = factory.mktemp("in-order")
        (root / "crm").mkdir()
        (root / "dispatch").mkdir()
        (root / "trueup.yaml").write_text(CONFIG)
        (root / "crm" / "contacts.csv").write_text("\n".join(CRM) + "\n")
        (root / "dispatch" / "clients.csv").write_text("\n".join(DISPATCH) + "\n")
        _REFERENCE.update(_links(root)[1])
    return _REFERENCE


PEOPLE_CONFIG = """
name: Two exports without emails or phones
country: US
systems:
  crm: {source: {type: files, path: crm, tables: {people: people.csv}}}
  billing: {source: {type: files, path: billing, tables: {people: people.csv}}}
entities:
  customer:
    crm: {from: people, id: id, fields: {name: name, address: street, postal_code: zip}, extra: {born: born}}
    billing: {from: people, id: id, fields: {name: name, address: street, postal_code: zip}, extra: {born: born}}
ownership: {customer.*: crm}
matching: {compare: [born]}
"""


def _people(make_workspace: Callable[..., Path]) -> Path:
    """Two exports of 120 people with names, addresses, postcodes and a birth date but no emails or
    phones; every tenth copy with a typo in the surname and a transposed postcode."""
    first = ["Ava", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea"]
    last = ["Novak", "Okafor", "Petrov", "Quinn", "Rossi", "Sato", "Tran", "Ueda", "Vance", "Weiss"]
    streets = ["Oak St", "Elm Ave", "Pine Rd", "Lake Dr", "Hill Ct", "Main St"]
    crm, billing = ["id,name,street,zip,born"], ["id,name,street,zip,born"]
    for n in range(120):
        name = f"{first[n % 12]} {last[(n // 12) % 10]}"
        street, zip_code = f"{n + 1} {streets[n % 6]}", f"{45400 + n % 37:05d}"
        born = f"19{50 + n % 45}-{1 + n % 12:02d}-{1 + n % 28:02d}"
        crm.append(f"c{n},{name},{street},{zip_code},{born}")
        if n % 10 == 0:  # two letters of the surname swapped, and the postcode's last two digits
            given, surname = name.split()
            name = f"{given} {surname[0]}{surname[2]}{surname[1]}{surname[3:]}"
            zip_code = zip_code[:3] + zip_code[4] + zip_code[3]
        billing.append(f"b{n},{name},{street},{zip_code},{born}")
    return make_workspace(
        PEOPLE_CONFIG,
        {"crm/people.csv": "\n".join(crm) + "\n", "billing/people.csv": "\n".join(billing) + "\n"},
    )


def test_splink_compares_what_the_exports_fill_and_keeps_quiet(make_workspace: Callable[..., Path]) -> None:
    """The model leaves out what no record fills (the step says so), Splink's own warnings do not
    reach the user, and a copy with a typo in the name and a transposed postcode is still the same
    person."""
    from tests.cli.test_commands import trueup

    root = _people(make_workspace)
    ran = trueup("run", "-w", str(root), "--step", "ingest", "--step", "map", "--step", "link", "--json")
    assert ran.returncode == 0, ran.stderr
    assert "WARNING" not in ran.stderr and "max_pairs" not in ran.stderr
    link = next(s for s in json.loads(ran.stdout)["steps"] if s["name"] == "link")
    assert link["notes"] == [
        "customers compared on name, address, postal code, born; no record has one: email, phone"
    ]
    con = duckdb.connect(str(root / ".trueup" / "warehouse.duckdb"), read_only=True)
    try:
        linked = set(con.execute("SELECT source_a, source_b FROM links WHERE entity = 'customer'").fetchall())
    finally:
        con.close()
    assert linked == {(f"b{n}", f"c{n}") for n in range(120)}


def test_splink_works_beside_the_warehouse_and_imports_no_pandas(make_workspace: Callable[..., Path]) -> None:
    # Splink's tables live in a catalog attached for the link step alone; the records reach it and
    # the pairs come back by SQL. Its u counts, a Python list, are registered through DuckDB: through
    # pyarrow, the first table imports pandas (0.9 s of a run of 10,000 records).
    root = _people(make_workspace)
    assert loaded_by_run(root, ["ingest", "map", "link"], {"pyarrow", "pandas"}) == ("succeeded", [])
    con = duckdb.connect(str(root / ".trueup" / "warehouse.duckdb"), read_only=True)
    try:
        probable = con.execute("SELECT count(*) FROM links WHERE rule = 'probabilistic'").fetchall()[0][0]
        tables = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    finally:
        con.close()
    assert probable > 0  # Splink scored the pairs
    assert not {name for name in tables if name.startswith("__splink")} and "customers" not in tables


def test_customers_of_one_system_alone_are_linked_by_rules_and_the_step_says_why(
    make_workspace: Callable[..., Path],
) -> None:
    root = _people(make_workspace)
    crm, billing = (root / "crm" / "people.csv"), (root / "billing" / "people.csv")
    header, *rows = billing.read_text().splitlines()
    crm.write_text(crm.read_text() + "\n".join(rows) + "\n")  # 240 people, every one in the CRM
    billing.write_text(header + "\n")
    result = pipeline.run(Workspace.open(root), only=["ingest", "map", "link"])
    link = next(step for step in result.steps if step.name == "link")
    assert link.result.notes == [
        "customers linked by rules alone: only crm has customer records, and the matching model"
        " compares the records of two systems"
    ]


def _level_sql(comparison: object) -> str:
    """The number of the first of a Splink comparison's levels whose condition holds (its gamma)."""
    levels = comparison.get_comparison("duckdb").comparison_levels  # type: ignore[attr-defined]
    whens = [
        f"WHEN {level.sql_condition} THEN {i}"
        for i, level in enumerate(levels)
        if level.sql_condition != "ELSE"
    ]
    return f"CASE {' '.join(whens)} ELSE {len(levels) - 1} END"


@st.composite
def _near_pairs(draw: st.DrawFn) -> tuple[str | None, str | None]:
    """A value and another a few typing slips away (a letter changed, added, dropped or two swapped),
    or none."""
    a = draw(st.text(alphabet="ab12", max_size=7) | st.none())
    b = a
    for _ in range(draw(st.integers(0, 3)) if a is not None else 0):
        i = draw(st.integers(0, len(b)))
        slip = draw(st.sampled_from(["change", "add", "drop", "swap"]))
        c = draw(st.sampled_from("ab12"))
        if slip == "swap" and i + 1 < len(b):
            b = b[:i] + b[i + 1] + b[i] + b[i + 2 :]
        elif slip == "drop":
            b = b[:i] + b[i + 1 :]
        else:
            b = b[:i] + c + b[i + (slip == "change") :]
    return a, b


@settings(max_examples=60, deadline=None)
@given(st.lists(_near_pairs(), min_size=1, max_size=40))
def test_near_misses_are_damerau_levenshtein_levels_checked_by_levenshtein_first(
    pairs: list[tuple[str | None, str | None]],
) -> None:
    """The postcode's and declared fields' comparison puts every pair in the level Splink's own
    Damerau-Levenshtein comparison does: the Levenshtein check before each level never turns one away."""
    import splink.comparison_library as cl

    from trueup.linking.probabilistic import _near

    for thresholds in ([1], [1, 2]):
        ours, splinks = (
            _level_sql(_near("x", thresholds)),
            _level_sql(cl.DamerauLevenshteinAtThresholds("x", thresholds)),
        )
        rows = duckdb.execute(
            f"SELECT x_l, x_r, {ours}, {splinks} FROM (SELECT unnest($l::VARCHAR[]) AS x_l, unnest($r::VARCHAR[]) AS x_r)",
            {"l": [a for a, _ in pairs], "r": [b for _, b in pairs]},
        ).fetchall()
        assert [row[:3] for row in rows] == [(*row[:2], row[3]) for row in rows]


@st.composite
def _customers(draw: st.DrawFn) -> list[tuple[str, str, str | None, str | None, str | None]]:
    """Records of two systems whose emails, names and postcodes are drawn from a few values, so
    that rules find some pairs, none, or (with few records) too many for the recall."""
    value = st.sampled_from(["a", "b", "c"]) | st.none()
    rows = draw(st.lists(st.tuples(st.sampled_from(["crm", "billing"]), value, value, value), max_size=25))
    return [(f"{system}:{i}", system, email, name, postcode) for i, (system, email, name, postcode) in enumerate(rows)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_customers(), st.sampled_from([0.8, 1.0]))
def test_the_prior_is_splinks_estimate_from_the_same_rules(
    rows: list[tuple[str, str, str | None, str | None, str | None]], recall: float
) -> None:
    """The chance that two records match, counted by one query, is the number Splink's
    `estimate_probability_two_random_records_match` sets from the same rules, or Splink's default
    where the rules find no pair or too many."""
    import contextlib
    import logging

    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.internals.exceptions import SplinkException

    from trueup.linking.probabilistic import _backend, _prior

    con = duckdb.connect()
    con.execute("CREATE TABLE customers (unique_id VARCHAR, source_dataset VARCHAR, email_norm VARCHAR,"
                " name_key VARCHAR, postal_code VARCHAR)")  # fmt: skip
    if rows:
        con.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?)", rows)
    rules = [("email_norm",), ("name_key", "postal_code")]
    ours = _prior(con, rules, recall)
    settings = SettingsCreator(link_type="link_and_dedupe", comparisons=[cl.ExactMatch("name_key")])
    linker = Linker(_backend(con).register("customers"), settings, log_level=logging.ERROR)
    default = linker._settings_obj._probability_two_random_records_match
    with contextlib.suppress(SplinkException, ValueError, ArithmeticError):  # Splink's default stands
        linker.training.estimate_probability_two_random_records_match([block_on(*r) for r in rules], recall)
    splinks = linker._settings_obj._probability_two_random_records_match
    assert ours == (None if splinks in (default, 0) else splinks)
