"""`trueup demo`: a fictional contractor's complete workspace, with known integration debt.

    from trueup.demo import generate
    demo = generate("cedar-valley", size="small", seed=7)

writes `trueup.yaml`, every system's exports under `exports/`, and the ground truth under `.truth/`
(every injected problem, and which records are the same real thing). The same size and seed write
the same bytes. `clean=True` writes a company whose systems agree, with an empty ground truth.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from trueup.demo.debt import Rates
from trueup.errors import TrueupError
from trueup.runtime import Progress, QuietProgress

__all__ = ["SIZES", "Demo", "Rates", "generate", "parse_size"]

SIZES = {"small": 2_000, "medium": 100_000, "large": 1_000_000}  # jobs
RESPONSE_TIME = "2026-11-20T15:02:11.412-05:00"  # when the QuickBooks queries were answered
TRUTH_DIR = ".truth"
SHEET_FILE = "exports/friday.xlsx"
SPILL_DIR = ".trueup-demo.tmp"  # DuckDB's spill folder while a large company is written
WRITTEN = ("trueup.yaml", "exports", TRUTH_DIR, ".trueup", SPILL_DIR)  # what a demo owns in its folder


@dataclass
class Demo:
    root: Path
    jobs: int
    seed: int
    clean: bool
    files: dict[str, int] = field(default_factory=dict)  # path -> rows
    expected: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def by_category(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for line in self.expected:
            counts[line["category"]] = counts.get(line["category"], 0) + 1
        return dict(sorted(counts.items()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "workspace": str(self.root),
            "jobs": self.jobs,
            "seed": self.seed,
            "clean": self.clean,
            "files": self.files,
            "ground_truth": {"problems": len(self.expected), "by_category": self.by_category()},
            "seconds": round(self.seconds, 2),
        }


def parse_size(size: str | int) -> int:
    """`small`, `medium`, `large` or a number of jobs."""
    if isinstance(size, int) or str(size).replace("_", "").isdigit():
        jobs = int(str(size).replace("_", ""))
        if jobs < 100:
            raise TrueupError(f"--size {size}: the demo needs at least 100 jobs")
        return jobs
    if size not in SIZES:
        raise TrueupError(f"--size {size!r}: write small, medium, large or a number of jobs")
    return SIZES[size]


def generate(
    directory: Path | str,
    size: str | int = "small",
    seed: int = 7,
    clean: bool = False,
    rates: Rates | None = None,
    progress: Progress | None = None,
) -> Demo:
    """Write the demo workspace into `directory` (created, or replaced if it holds an earlier demo)."""
    import numpy as np

    from trueup.demo import debt, exports, frame, ids, world

    began = time.perf_counter()
    requested = parse_size(size)
    root = _prepare(Path(directory))
    rates = Rates.none() if clean else (rates or Rates())
    rng = np.random.default_rng(seed)

    company = world.build(rng, requested)
    debt.inject(rng, company, rates)
    ids.assign(rng, company)
    con = frame.load(company, spill_to=root / SPILL_DIR)
    made = Demo(root, len(company.jobs["id"]), seed, clean)
    del company  # DuckDB holds the world now; the arrays would double the memory
    try:
        parts = _write(con, made, rng, rates)
        for _ in (progress or QuietProgress()).track(
            parts, "Writing the demo", total=len(exports.EXPORTS) + 2
        ):
            pass
    finally:
        con.close()
        shutil.rmtree(root / SPILL_DIR, ignore_errors=True)
    made.seconds = time.perf_counter() - began
    return made


def _write(con: Any, made: Demo, rng: Any, rates: Rates) -> Iterator[str]:
    """Every file of the workspace, one at a time (each `yield` is one step of the progress bar)."""
    from trueup.demo import exports, sheet, truth

    for path, rows in exports.write_all(con, made.root, RESPONSE_TIME):
        made.files[path] = rows
        yield path
    built = sheet.build(con, rng, rates)
    sheet.write(built, made.root / SHEET_FILE)
    made.files[SHEET_FILE] = len(built.rows)
    yield SHEET_FILE
    reported = built.reported_revenue()
    gaps = rates.config_gaps > 0
    _write_config(made, gaps, rates.retired_id_residue > 0, reported)
    made.expected = truth.expected_findings(con, built.edits, gaps, _reported_line(con, reported))
    truth.write(con, made.root / TRUTH_DIR, made.expected)
    yield TRUTH_DIR


def _prepare(root: Path) -> Path:
    """An empty folder, or one holding an earlier demo (whose files are replaced)."""
    if root.exists():
        if not root.is_dir():
            raise TrueupError(f"{root} is a file; give a folder for the demo workspace")
        earlier = (root / TRUTH_DIR).is_dir()
        if any(root.iterdir()) and not earlier:
            raise TrueupError(
                f"{root} is not empty and holds no earlier demo; give a new folder (nothing was written)"
            )
        for name in WRITTEN:
            target = root / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    (root / TRUTH_DIR).mkdir(parents=True)  # marks the folder as a demo's, even if writing fails
    return root.resolve()


def _reported_line(con: Any, reported: Decimal) -> dict[str, Any] | None:
    """Leadership's revenue figure against the one billing's invoices give (billing owns invoices)."""
    row = con.execute(
        "SELECT coalesce(sum(total), 0) FROM invoices WHERE in_billing"
        " AND strftime(issued_at, '%Y-%m') = '2026-10'"
    ).fetchone()
    recomputed = Decimal(row[0]) / 100
    if recomputed == reported:
        return None
    return {
        "category": "corrected_reporting",
        "kind": "reported_differs",
        "entities": [{"entity": "reported", "system": "friday_sheet", "source_id": "revenue:2026-10"}],
        "money": float(abs(reported - recomputed)),
        "field": "revenue",
        "cause": "design",
        "detail": f"reported {reported} from the Friday sheet; the invoices say {recomputed}",
    }


def _write_config(made: Demo, gaps: bool, residue: bool, reported: Decimal) -> None:
    import jinja2

    from trueup.demo.handoffs import HANDOFFS, resolved

    def flow(mapping: dict[str, Any]) -> str:
        parts = [f"{key}: {json.dumps(value)}" for key, value in mapping.items() if value is not None]
        return "{" + ", ".join(parts) + "}"

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("trueup.demo", "."), keep_trailing_newline=True, autoescape=False
    )
    env.filters["flow"] = flow
    text = env.get_template("trueup.yaml.j2").render(
        size=f"{made.jobs:,}",
        seed=made.seed,
        clean=made.clean,
        gaps=gaps,
        residue=residue,
        handoffs=[resolved(h, gaps) for h in HANDOFFS],
        reported_revenue=f"{reported:.2f}",
    )
    (made.root / "trueup.yaml").write_text(text, encoding="utf-8")
