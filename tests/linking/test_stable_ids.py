"""Canonical ids that survive re-runs, merges and splits recorded, and people's decisions honoured."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.cli.test_commands import trueup
from tests.linking.test_customers import CONFIG, CRM, DISPATCH, _links
from trueup.state import StateStore
from trueup.workspace import Workspace


def _write(root: Path, crm: list[str], dispatch: list[str]) -> None:
    (root / "crm" / "contacts.csv").write_text("\n".join(crm) + "\n")
    (root / "dispatch" / "clients.csv").write_text("\n".join(dispatch) + "\n")


def _events(root: Path) -> list[tuple[str, str, list[str], str]]:
    store = StateStore(Workspace.open(root).state_url)
    try:
        return [(e.kind, e.canonical_id, e.others, e.run_id) for e in store.id_events("customer")]
    finally:
        store.close()


def test_ids_survive_a_rerun_and_new_records(make_workspace: Callable[..., Path]) -> None:
    root = make_workspace(CONFIG, {"crm/contacts.csv": "", "dispatch/clients.csv": ""})
    _write(root, CRM, DISPATCH)
    _, before = _links(root)
    _, again = _links(root)
    assert again == before and _events(root) == []
    # Maria Lopez turns up in dispatch: she joins her CRM record's id; nobody else's id moves.
    _write(root, CRM, [*DISPATCH, "d8,Maria Lopez,,maria.lopez@gmail.com,937-555-0106,3 Hill Ct,45419"])
    _, after = _links(root)
    assert after["d8"] == before["c6"]
    assert {k: v for k, v in after.items() if k != "d8"} == before
    assert _events(root) == []


def test_a_merge_keeps_the_older_id_and_a_split_is_recorded(make_workspace: Callable[..., Path]) -> None:
    apart = [
        line if not line.startswith("d4,") else "d4,Bob King,,bking@outlook.com,9375550190,70 Pine Rd,45409"
        for line in DISPATCH
    ]
    root = make_workspace(CONFIG, {"crm/contacts.csv": "", "dispatch/clients.csv": ""})
    _write(root, CRM, apart)
    _, first = _links(root)
    assert first["c4"] != first["d4"]
    _write(root, CRM, DISPATCH)  # dispatch corrects Bob's email, phone and address: one customer
    _, merged = _links(root)
    survivor = min(first["c4"], first["d4"])  # both are as old: the smaller id survives
    assert merged["c4"] == merged["d4"] == survivor
    kind, canonical, others, run_id = _events(root)[-1]
    assert (kind, canonical, others) == ("merge", survivor, [max(first["c4"], first["d4"])]) and run_id
    _write(root, CRM, apart)  # and back: the pair splits, one side keeps the id
    _, split = _links(root)
    assert split["c4"] != split["d4"] and survivor in (split["c4"], split["d4"])
    assert _events(root)[-1][:2] == ("split", survivor)


def test_decisions_are_honoured_by_every_later_run(make_workspace: Callable[..., Path]) -> None:
    root = make_workspace(CONFIG, {"crm/contacts.csv": "", "dispatch/clients.csv": ""})
    _write(root, CRM, DISPATCH)
    links, _ = _links(root)
    assert ("c1", "d7") in links and ("c2", "d2") not in links
    rejected = trueup(
        "links", "reject", "crm:c1", "dispatch:d7", "-w", str(root), "--reason", "father and son"
    )
    assert rejected.returncode == 0, rejected.stderr
    confirmed = trueup("links", "confirm", "dispatch:d2", "crm:c2", "-w", str(root), "--actor", "dana")
    assert confirmed.returncode == 0 and "next run" in confirmed.stdout
    for _ in range(2):
        links, ids = _links(root)
        assert ("c1", "d7") not in links and ids["c1"] != ids["d7"]
        assert ("c2", "d2") in links and ids["c2"] == ids["d2"]
    bad = trueup("links", "confirm", "c1", "dispatch:d7", "-w", str(root))
    assert bad.returncode == 1 and "system:source_id" in bad.stderr
    unknown = trueup("links", "reject", "ledger:1", "dispatch:d7", "-w", str(root))
    assert unknown.returncode == 1 and "unknown system" in unknown.stderr


def test_a_record_split_off_never_shares_the_id_its_cluster_kept() -> None:
    """A cluster's id is minted from its smallest record. When that record is split off and the
    rest keep the id (they hold most of its records), the record gets an id of its own: two
    clusters never share one, and the next run on the same clusters changes nothing."""
    import duckdb

    from trueup.linking import identity

    con = duckdb.connect()
    identity.ensure_table(con)
    con.execute("CREATE TABLE clusters (entity VARCHAR, system VARCHAR, source_id VARCHAR, canonical_id VARCHAR)")

    def run(run_id: str, labels: dict[str, str]) -> tuple[dict[str, str], list[tuple[str, str, list[str]]]]:
        con.execute("CREATE OR REPLACE TEMP TABLE _component (system VARCHAR, source_id VARCHAR, label VARCHAR)")
        con.executemany("INSERT INTO _component VALUES ('crm', ?, ?)", list(labels.items()))
        con.execute("DELETE FROM clusters")
        events = identity.assign(con, "customer", "cus", run_id, "clusters")
        return dict(con.execute("SELECT source_id, canonical_id FROM clusters").fetchall()), events

    together, _ = run("r1", {"a": "crm:a", "b": "crm:a", "c": "crm:a"})
    assert len(set(together.values())) == 1
    apart, events = run("r2", {"a": "crm:a", "b": "crm:b", "c": "crm:b"})
    assert apart["b"] == apart["c"] == together["a"]  # the two of three keep the id
    assert apart["a"] != together["a"]  # the one split off gets its own
    assert events == [("split", together["a"], [apart["a"]])]
    again, events = run("r3", {"a": "crm:a", "b": "crm:b", "c": "crm:b"})
    assert again == apart and events == []
    first_runs = dict(con.execute("SELECT source_id, first_run FROM canonical_ids").fetchall())
    assert first_runs == {"a": "r2", "b": "r1", "c": "r1"}
