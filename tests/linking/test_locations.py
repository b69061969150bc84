"""Locations: one customer's site in two systems is one location, despite a typo; another
customer's site at a similar address is not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from trueup import pipeline
from trueup.workspace import Workspace

CONFIG = """
name: Sites
country: US
systems:
  dispatch: {source: {type: files, path: d, tables: {clients: clients.csv, properties: properties.csv}}}
  accounting: {source: {type: files, path: a, tables: {customers: customers.csv}}}
entities:
  customer:
    dispatch: {from: clients, id: id, fields: {name: name, email: email}}
    accounting: {from: customers, id: id, fields: {name: name, email: email}}
  location:
    dispatch: {from: properties, id: id, fields: {customer: client, address: street, postal_code: zip}}
    accounting: {from: customers, id: id, fields: {customer: id, address: street, postal_code: zip}}
ownership: {customer.*: dispatch, location.*: dispatch}
matching: {probabilistic: false}
"""
FILES = {
    "d/clients.csv": "id,name,email\nC1,Ann Ortiz,ann@ortiz.example\nC2,Tom Reed,tom@reed.example\n",
    "d/properties.csv": "id,client,street,zip\nP1,C1,12 Oak Street,45402\nP2,C2,14 Oak Street,45402\n",
    "a/customers.csv": "id,name,email,street,zip\n7,Ann Ortiz,ann@ortiz.example,12 Oka St,45402\n8,Tom Reed,tom@reed.example,14 Oak St,45409\n",
}


def test_a_typo_joins_one_customer_s_site_and_nothing_crosses_customers(
    make_workspace: Callable[..., Path],
) -> None:
    root = make_workspace(CONFIG, FILES)
    pipeline.run(Workspace.open(root))
    con = duckdb.connect(str(root / ".trueup" / "warehouse.duckdb"), read_only=True)
    try:
        links = con.execute(
            "SELECT source_a, source_b, rule FROM links WHERE entity = 'location' ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()
    # Ann's site is one location despite "Oka"; Tom's differ in postcode, so they stay apart.
    assert links == [("7", "P1", "same customer, similar address")]
