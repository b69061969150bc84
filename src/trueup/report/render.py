"""Write the ledger as `index.html` (one self-contained file), `report.md` and `report.json`.

The templates only format the ledger's numbers; the charts (:mod:`trueup.report.charts`) turn them
into inline SVG. Each file is written beside itself and renamed into place, so a reader never
opens half a report.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from trueup.checks import currency_sign
from trueup.report import charts, formats
from trueup.report.model import Ledger

FILES = ("index.html", "report.md", "report.json")


def write_all(ledger: Ledger, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (
        ("index.html", html(ledger)),
        ("report.md", markdown(ledger)),
        ("report.json", ledger.model_dump_json(indent=2) + "\n"),
    ):
        path = directory / name
        partial = path.with_name(f".{name}.partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
        written.append(path)
    return written


def html(ledger: Ledger) -> str:
    return _env(autoescape=True).get_template("report.html.j2").render(**_context(ledger))


def markdown(ledger: Ledger) -> str:
    return _env(autoescape=False).get_template("report.md.j2").render(**_context(ledger))


def _context(ledger: Ledger) -> dict[str, Any]:
    sign = currency_sign(ledger.currency)
    return {
        "l": ledger,
        "charts": charts.all_charts(ledger, sign),
        "handoffs": {h.id: h for h in ledger.handoffs},
        "systems": {s.system: s for s in ledger.systems},
        "sign": sign,
    }


def _env(autoescape: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("trueup.report", "templates"),
        autoescape=select_autoescape(default=autoescape, default_for_string=autoescape),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(formats.FILTERS)
    return env
