"""How the CLI's tables read when they are piped: wide enough, numbers on the right."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from trueup.cli import output


@pytest.fixture
def piped(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    sink = io.StringIO()
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(output, "out", Console(file=sink, highlight=False, width=output._width(sink)))
    return sink


def test_piped_output_is_as_wide_as_a_wide_terminal(
    piped: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert output._width(piped) == output.PIPED_WIDTH
    monkeypatch.setenv("COLUMNS", "70")
    assert output._width(piped) is None  # Rich reads COLUMNS itself
    category = "source_of_truth_conflict"
    output.print_rows(["", "expected", "found", "matched", "precision", "recall", "cause"],
                      [[category, 2288, 2281, 2281, "1.000", "0.997", "1.000"]])  # fmt: skip
    row = next(line for line in piped.getvalue().splitlines() if category in line)
    assert "0.997" in row and "2281" in row  # one line: nothing folded at 80 columns


def test_numbers_line_up_on_the_right(piped: io.StringIO) -> None:
    output.print_rows(["id", "title", "money"], [[7, "one", "1,446,891.56"], [12345, "two", "9.30"]])
    lines = [line for line in piped.getvalue().splitlines() if line.startswith("│")]
    assert lines[0].index("1,446,891.56") + len("1,446,891.56") == lines[1].index("9.30") + len("9.30")
    assert "│     7 │ one" in lines[0] and "│ 12345 │ two" in lines[1]
