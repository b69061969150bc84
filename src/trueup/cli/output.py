"""How the CLI prints: Rich tables for people, JSON or CSV for scripts, errors as one red line."""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

NUMBER = re.compile(r"-?[\d,]*\.?\d+%?")
PIPED_WIDTH = 120


def _width(stream: TextIO) -> int | None:
    """Output that is not a terminal (a file, a pipe, a CI log) is as wide as a wide terminal rather
    than Rich's 80 columns, unless COLUMNS says otherwise."""
    return None if stream.isatty() or "COLUMNS" in os.environ else PIPED_WIDTH


out = Console(highlight=False, soft_wrap=True, width=_width(sys.stdout))
err = Console(stderr=True, highlight=False, soft_wrap=True, width=_width(sys.stderr))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def print_json(data: Any) -> None:
    """JSON for scripts: a list one item a line (Python's JSON encoder runs in C only without
    indentation: 167,166 findings took 11 s indented, 3 s so), anything else indented."""
    if isinstance(data, list) and data:
        items = ",\n".join(f"  {json.dumps(item, default=_plain)}" for item in data)
        sys.stdout.write(f"[\n{items}\n]\n")
    else:
        sys.stdout.write(json.dumps(data, default=_plain, indent=2) + "\n")


def print_rows(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str = "table", title: str | None = None
) -> None:
    if fmt == "json":
        print_json([{c: _plain(v) for c, v in zip(columns, row, strict=False)} for row in rows])
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_plain(v) for v in row] for row in rows])
    else:
        table = Table(title=title, show_lines=False, header_style="bold")
        cells = [["" if v is None else str(_plain(v)) for v in row] for row in rows]
        for i, column in enumerate(columns):
            values = [row[i] for row in cells if i < len(row) and row[i]]
            numbers = bool(values) and all(NUMBER.fullmatch(v) for v in values)  # line up on the right
            table.add_column(str(column), overflow="fold", justify="right" if numbers else "left")
        for row in cells:
            table.add_row(*row)
        out.print(table)
