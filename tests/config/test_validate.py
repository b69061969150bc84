"""A broken workspace reports every one of its mistakes, each at its own line, all at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from trueup.errors import ConfigError
from trueup.validation import open_checked, problems
from trueup.workspace import Workspace

from ..conftest import EXAMPLE

BROKEN = """\
name: Broken Co
currency: usd
timezone: America/Chicgo
country: XX
systems:
  crm:
    timezone: Eastern
    source: {type: files, path: exports/hubspot, tables: {contacts: contacts.csv, deals: deal.csv}}
  dispatch:
    source: {type: file, path: exports/jobber, tables: {jobs: jobs.csv}}
  billing:
    source: {type: files, path: exports/billing, tables: {invoices: invoices.csv}}
    colour: blue
entities:
  customer:
    crm:
      from: contact
      id: hs_object_id
      fields: {name: firstname, emial: email}
  job:
    billing:
      from: invoices
      id: invoice_no
      fields: {status: state, amount: totl, completed_at: {expr: issued, timezone: Mars/Olympus}, number: {expr: invoice_no, timezone: UTC}}
  widget:
    crm: {from: contacts, id: x}
statuses:
  job:
    billing: {paid: finished}
ownership:
  customer.*: accounting
  job.*: crm
  job.colour: billing
handoffs:
  - {id: a, from: crm, to: dispatch, sla: soon}
  - {id: a, from: crm, to: nowhere, carries: deal->gizmo}
retired:
  - {system: legacy, id_pattern: "^SF-[0-9+$"}
reported:
  - {metric: revenue, period: 2026-13, value: 5}
"""

# (line, YAML path, a word the message or fix must contain)
EXPECTED = [
    (2, "currency", "ISO 4217"),
    (3, "timezone", "America/Chicago"),
    (4, "country", "two-letter"),
    (7, "systems.crm.timezone", "IANA"),
    (8, "systems.crm.source.tables.deals", "deals.csv"),
    (10, "systems.dispatch.source.type", "files, sql"),
    (13, "systems.billing.colour", "allowed here"),
    (17, "entities.customer.crm.from", "did you mean `contacts`"),
    (19, "entities.customer.crm.fields.emial", "did you mean `email`"),
    (24, "entities.job.billing.fields.amount", "did you mean `total`"),
    (24, "entities.job.billing.fields.completed_at.timezone", "IANA"),
    (24, "entities.job.billing.fields.number.timezone", "only a time field"),
    (25, "entities.widget", "entities are"),
    (29, "statuses.job.billing.paid", "states are"),
    (31, "ownership.customer.*", "systems are"),
    (32, "ownership.job.*", "does not map job"),
    (33, "ownership.job.colour", "not a field of job"),
    (35, "handoffs[0].sla", "30m, 4h, 3d"),
    (36, "handoffs[1].id", "share this id"),
    (36, "handoffs[1].to", "unknown system"),
    (36, "handoffs[1].carries", "not an entity"),
    (38, "retired[0].id_pattern", "regular expression"),
    (40, "reported[0].period", "quarter"),
]


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE / "exports", tmp_path / "exports")
    (tmp_path / "trueup.yaml").write_text(BROKEN)
    return tmp_path


def test_every_mistake_is_reported_with_its_line(broken: Path) -> None:
    found = problems(broken)
    located = {(p.line, p.path): p for p in found}
    for line, path, words in EXPECTED:
        assert (line, path) in located, f"missing: line {line} {path}; got {sorted(located)}"
        problem = located[(line, path)]
        assert words in problem.message + " " + problem.fix, problem.render()
        assert problem.file.endswith("trueup.yaml")
    # Nothing is reported twice, and a broken system is not also called "unknown" elsewhere.
    assert len(found) == len({(p.line, p.path, p.message) for p in found})
    assert not [p for p in found if p.path == "handoffs[0].to"]


def test_open_checked_raises_all_problems_together(broken: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        open_checked(broken)
    assert len(caught.value.problems) >= len(EXPECTED)
    text = str(caught.value)
    assert "trueup.yaml:19" in text and "trueup.yaml:40" in text


def test_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "trueup.yaml").write_text("name: x\nsystems:\n  crm: {source: [unclosed\n")
    found = problems(tmp_path)
    assert len(found) == 1 and found[0].line is not None and "not valid YAML" in found[0].message


def test_duplicate_keys_are_reported(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE / "exports", tmp_path / "exports")
    text = (EXAMPLE / "trueup.yaml").read_text().replace("currency: USD\n", "currency: USD\ncurrency: EUR\n")
    (tmp_path / "trueup.yaml").write_text(text)
    found = problems(tmp_path)
    assert [p.path for p in found] == ["currency"] and "twice" in found[0].message


def test_missing_environment_variable_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRUEUP_NOT_SET", raising=False)
    (tmp_path / "trueup.yaml").write_text(
        "name: x\nsystems:\n  erp:\n    source: {type: sql, url: '${env:TRUEUP_NOT_SET}', tables: {t: t}}\n"
    )
    found = problems(tmp_path)
    assert any("TRUEUP_NOT_SET" in p.message and p.line == 4 for p in found)


def test_environment_variable_is_substituted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUEUP_DB", "sqlite:///x.db")
    (tmp_path / "trueup.yaml").write_text(
        "name: x\nsystems:\n  erp:\n    source: {type: sql, url: '${env:TRUEUP_DB}', tables: {t: t}}\n"
    )
    ws = Workspace.open(tmp_path)
    assert ws.config.systems["erp"].source.url == "sqlite:///x.db"  # type: ignore[union-attr]


def test_the_example_workspace_is_valid() -> None:
    assert problems(EXAMPLE) == []


def test_none_means_missing_in_a_handoff() -> None:
    ws = Workspace.open(EXAMPLE)
    first = ws.config.handoffs[0]
    assert first.owner == "ops@northwind.example"
    assert first.monitoring is None and first.rollback is None and first.exceptions is None
    assert ws.config.handoffs[1].owner is None
    assert first.sla_delta is not None and first.sla_delta.days == 1


def test_a_value_of_the_wrong_type_is_one_problem_in_words(tmp_path: Path) -> None:
    """A value no alternative of its type takes is one problem (pydantic reports one per alternative),
    named in a YAML writer's words, with the quotes a number needs to be a column's name."""
    shutil.copytree(EXAMPLE / "exports", tmp_path / "exports")
    (tmp_path / "trueup.yaml").write_text(
        "name: Types\n"
        "systems:\n"
        "  crm: {source: {type: files, path: exports/hubspot, tables: {contacts: contacts.csv}}}\n"
        "entities:\n"
        "  customer:\n"
        "    crm: {from: contacts, id: hs_object_id, fields: {name: firstname, email: 2024}}\n"
        "matching: {probabilistic: maybe, max_pairs: lots}\n"
    )
    found = {p.path: p for p in problems(tmp_path)}
    email = found["entities.customer.crm.fields.email"]
    assert (email.line, email.message, email.fix) == (6, "must be text or a mapping of keys to values", "put it in quotes: '2024'")
    assert found["matching.probabilistic"].message == "must be true or false"
    assert found["matching.max_pairs"].message == "must be a number"
    assert len(found) == 3
