"""The commands. Each is a thin layer: parse options, call the library, print the outcome."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from trueup.cli import customers, findings, report, serve
from trueup.cli.options import JsonOption, WorkspaceOption
from trueup.cli.output import err, out, print_json, print_rows

app = typer.Typer(
    help="trueup: one source of truth across your CRM, dispatch, billing and accounting systems.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    """trueup reads every system's exports, maps them onto one model, and shows where they disagree."""


def _open(workspace: Path, probe_sources: bool = True) -> Any:
    """The validated workspace; with `probe_sources`, every mapping is also bound against samples
    of its source files (a run checks against what it loads instead, reading each file once)."""
    from trueup.validation import open_checked
    from trueup.workspace import Workspace

    return open_checked(workspace) if probe_sources else Workspace.open(workspace)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="A folder of exports (CSV, XLSX, JSON, Parquet).")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Where to write trueup.yaml.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing trueup.yaml.")] = False,
    country: Annotated[
        str,
        typer.Option(
            help="The country whose way the exports write phone numbers, dates and amounts (ISO 3166: US, DE, GB)."
        ),
    ] = "US",
    as_json: JsonOption = False,
) -> None:
    """Scan a folder of exports and write a commented trueup.yaml that validates."""
    from trueup.scaffold import init_workspace

    report = init_workspace(directory, output=output, force=force, country=country)
    if as_json:
        print_json(report.as_dict())
        return
    out.print(f"[green]Wrote[/] {report.path}")
    for line in report.summary():
        out.print(f"  {line}", markup=False)
    out.print(
        "\nNext: review the guesses marked [bold]# check[/], then run [bold]trueup validate[/] and "
        "[bold]trueup run[/]."
    )


@app.command()
def validate(workspace: WorkspaceOption = Path("."), as_json: JsonOption = False) -> None:
    """Check trueup.yaml and every mapping against the sources; list all problems at once (exit 2)."""
    from trueup.errors import ConfigError

    try:
        ws = _open(workspace)
    except ConfigError as exc:
        if as_json:
            print_json({"valid": False, "problems": [p.__dict__ for p in exc.problems]})
            raise typer.Exit(2) from None
        raise
    if as_json:
        print_json({"valid": True, "problems": []})
    else:
        config = ws.config
        mapped = sum(len(m) for m in config.entities.values())
        out.print(
            f"[green]✓[/] {ws.config_file} is valid: {len(config.systems)} systems, "
            f"{mapped} mappings, {len(config.handoffs)} handoffs."
        )


@app.command()
def run(
    workspace: WorkspaceOption = Path("."),
    step: Annotated[
        list[str] | None, typer.Option("--step", "-s", help="Run only this step (repeatable).")
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit 4 when the run opens or reopens findings of this severity or worse"
            " (critical, warning, info): for cron and CI.",
        ),
    ] = None,
    check: Annotated[
        list[str] | None,
        typer.Option(
            "--check",
            help="The check step runs only this check (repeatable); other checks' findings stay as they are.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run the pipeline: ingest, map, link, resolve, check, report and publish, recording the run."""
    from trueup import pipeline
    from trueup.cli.progress import RichProgress
    from trueup.errors import TrueupError
    from trueup.state.findings import SEVERITY_RANK

    if fail_on is not None and fail_on not in SEVERITY_RANK:
        raise TrueupError(f"--fail-on {fail_on!r}: write critical, warning or info")
    ws = _open(workspace, probe_sources=False)
    show = not as_json and err.is_terminal
    with RichProgress(err, enabled=show) as progress:
        outcome = pipeline.run(ws, only=step, progress=progress, checks=check)
    if as_json:
        print_json(_outcome_json(outcome))
    else:
        _print_outcome(outcome)
    if outcome.outcome == "partial":
        raise typer.Exit(3)
    if fail_on is not None:
        new = {k.rsplit(".", 1)[1]: v for k, v in outcome.counts.items() if k.startswith("check.new.")}
        worse = {s: n for s, n in new.items() if SEVERITY_RANK.get(s, 0) >= SEVERITY_RANK[fail_on] and n}
        if worse:
            if not as_json:
                err.print(f"New findings at or above {fail_on}: "
                          + ", ".join(f"{n:,} {s}" for s, n in sorted(worse.items())), markup=False)  # fmt: skip
            raise typer.Exit(4)


def _outcome_json(outcome: Any) -> dict[str, Any]:
    return {
        "run_id": outcome.run_id,
        "outcome": outcome.outcome,
        "started_at": outcome.started_at.isoformat(),
        "steps": [
            {
                "name": s.name,
                "outcome": s.outcome,
                "seconds": round(s.seconds, 3),
                "counts": s.result.counts,
                "notes": s.result.notes,
                "errors": s.result.errors,
            }
            for s in outcome.steps
        ],
    }


def _print_outcome(outcome: Any) -> None:
    rows: list[list[Any]] = []
    for step in outcome.steps:
        for key, value in step.result.counts.items():
            if key.startswith(("rows.", "staged.")):
                rows.append([step.name, key.split(".", 1)[1], f"{value:,}"])
    if rows:
        print_rows(["step", "table", "rows"], rows, title="Rows")
    steps = [
        [
            s.name,
            s.outcome,
            f"{s.seconds:.2f}",
            f"{s.result.counts.get('quarantined', 0):,}",
            f"{s.result.counts.get('unmapped_status_values', '')}",
        ]
        for s in outcome.steps
    ]
    print_rows(["step", "outcome", "seconds", "quarantined", "unmapped statuses"], steps, title="Steps")
    for step in outcome.steps:
        for note in step.result.notes:
            out.print(f"[dim]note:[/] {note}", markup=True)
        for error in step.result.errors:
            err.print("error: " + error, style="red", markup=False)
    colour = {"succeeded": "green", "partial": "yellow"}.get(outcome.outcome, "red")
    quarantined = sum(s.result.counts.get("quarantined", 0) for s in outcome.steps)
    out.print(f"Run [bold]{outcome.run_id}[/] [{colour}]{outcome.outcome}[/].")
    counts = outcome.counts
    if "check.findings" in counts:
        opened, reopened = counts.get("check.findings.opened", 0), counts.get("check.findings.reopened", 0)
        gone = counts.get("check.findings.auto_resolved", 0)
        out.print(
            f"Findings: {counts['check.findings']:,} found; {opened:,} new, {reopened:,} reopened,"
            f" {gone:,} auto-resolved. See [bold]trueup findings[/]."
        )
    if quarantined:
        out.print(f"{quarantined:,} rows quarantined: see [bold]trueup quarantine[/].")


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="Where to write the demo workspace.")] = Path(
        "cedar-valley"
    ),
    size: Annotated[
        str,
        typer.Option("--size", help="small (2,000 jobs), medium (100,000), large (1,000,000) or a number."),
    ] = "small",
    seed: Annotated[int, typer.Option("--seed", help="The same seed and size write the same bytes.")] = 7,
    clean: Annotated[
        bool, typer.Option("--clean", help="A company whose systems agree: no debt at all.")
    ] = False,
    rate: Annotated[
        list[str] | None,
        typer.Option(
            "--rate", help="Change one injected problem's rate, e.g. job_not_invoiced=0.05 (repeatable)."
        ),
    ] = None,
    no_run: Annotated[
        bool, typer.Option("--no-run", help="Write the workspace only; do not run trueup on it.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Write a fictional contractor's workspace with known integration debt, and run trueup on it."""
    from trueup import pipeline
    from trueup.cli.progress import RichProgress
    from trueup.demo import Rates, generate
    from trueup.errors import TrueupError
    from trueup.workspace import Workspace

    overrides: dict[str, float] = {}
    for item in rate or []:
        key, _, value = item.partition("=")
        try:
            overrides[key.strip()] = float(value)
        except ValueError:
            raise TrueupError(f"--rate {item!r}: write name=number, e.g. job_not_invoiced=0.05") from None
    try:
        rates = Rates().with_overrides(overrides)
    except ValueError as exc:
        raise TrueupError(f"--rate: {exc}") from None
    if clean and overrides:
        raise TrueupError("--clean and --rate contradict each other: a clean company has no debt")

    outcome = None
    with RichProgress(err, enabled=not as_json and err.is_terminal) as progress:
        made = generate(directory, size=size, seed=seed, clean=clean, rates=rates, progress=progress)
        if not no_run:
            outcome = pipeline.run(Workspace.open(made.root), progress=progress)
    if as_json:
        print_json({**made.as_dict(), "run": _outcome_json(outcome) if outcome else None})
        return
    rows = sum(made.files.values())
    out.print(
        f"[green]Wrote[/] {made.root}: Cedar Valley Home Services, {made.jobs:,} jobs, "
        f"{rows:,} rows in {len(made.files)} files ({made.seconds:.1f} s)"
        + (" [bold]with no debt[/]" if clean else "")
    )
    if outcome is not None:
        _print_outcome(outcome)
    truth = made.by_category()
    summary = ", ".join(f"{k} {v}" for k, v in truth.items()) or "none"
    out.print(
        f"Ground truth (for scoring; trueup never reads it): {len(made.expected):,} injected problems: {summary}."
    )
    here = made.root
    if outcome is not None:
        out.print(f"\nThe report: [bold]{here / 'report' / 'index.html'}[/] (open it in a browser)")
    out.print("\nNext:")
    someone = customers.busy_customer(made.root) if outcome is not None else None
    for command in (
        f"trueup audit -w {here}",
        f"trueup findings -w {here} --limit 20",
        f"trueup findings show 1 -w {here}",
        f"trueup eval {here}",
        *(
            [
                f'trueup explain customer "{someone}" -w {here}',
                f'trueup timeline "{someone}" --since 90d -w {here}',
            ]
            if someone
            else []
        ),
        f"trueup links review -w {here}",
        f"trueup checks -w {here}",
        f"trueup keys create --scope operate -w {here}   # then: trueup serve -w {here}  (the dashboard)",
    ):
        out.print(f"  {command}", markup=False)
    if outcome is not None and outcome.outcome == "partial":
        raise typer.Exit(3)


@app.command()
def quarantine(
    workspace: WorkspaceOption = Path("."),
    system: Annotated[str | None, typer.Option(help="Only this system.")] = None,
    table: Annotated[str | None, typer.Option(help="Only this source table.")] = None,
    stage: Annotated[
        str | None, typer.Option(help="ingest (could not be read) or map (could not be coerced).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Show at most this many rows.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
    as_json: JsonOption = False,
) -> None:
    """List rows that could not be loaded or mapped, with file, line and reason."""
    from trueup.ingest import QUARANTINE
    from trueup.warehouse import connect, table_exists
    from trueup.workspace import Workspace

    ws = Workspace.open(workspace)
    filters, params = [], []
    for column, value in (("system", system), ("tbl", table), ("stage", stage)):
        if value:
            filters.append(f"{column} = ?")
            params.append(value)
    where = f"WHERE {' AND '.join(filters)}" if filters else ""
    columns = ["stage", "system", "table", "file", "line", "column", "reason", "raw"]
    with connect(ws.warehouse_path, read_only=True) as con:
        if not table_exists(con, "main", QUARANTINE):
            rows: list[Any] = []
        else:
            rows = con.execute(
                f"SELECT stage, system, tbl, source, line, column_name, reason, raw FROM {QUARANTINE} {where} "
                f"ORDER BY system, tbl, source, line" + (f" LIMIT {int(limit)}" if limit else ""),
                params,
            ).fetchall()
    fmt = "json" if as_json else fmt
    if fmt == "table" and not rows:
        out.print("[green]Nothing is quarantined.[/]")
        return
    print_rows(columns, rows, fmt=fmt, title=f"Quarantined rows ({len(rows):,})")


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A read-only SQL query over the warehouse (DuckDB dialect).")],
    workspace: WorkspaceOption = Path("."),
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
    limit: Annotated[int, typer.Option(help="Rows shown in a table (csv and json print all).")] = 200,
) -> None:
    """Run a read-only query on the warehouse and print the result."""
    from trueup.query import read_only_query
    from trueup.workspace import Workspace

    ws = Workspace.open(workspace)
    columns, rows = read_only_query(ws.warehouse_path, query)
    if fmt == "table" and len(rows) > limit:
        print_rows(columns, rows[:limit], title=f"first {limit} of {len(rows):,} rows")
        return
    print_rows(columns, rows, fmt=fmt)


@app.command()
def runs(workspace: WorkspaceOption = Path("."), limit: int = 10, as_json: JsonOption = False) -> None:
    """Show the run history from the state store."""
    from trueup.state import StateStore
    from trueup.workspace import Workspace

    ws = Workspace.open(workspace)
    with StateStore(ws.state_url) as store:
        history = store.runs(limit)
    data: list[dict[str, Any]] = [
        {
            "id": r.id,
            "started_at": r.started_at,
            "finished_at": r.finished_at,
            "outcome": r.outcome,
            "steps": [
                {"name": s.name, "outcome": s.outcome, "seconds": s.seconds, "counts": s.counts}
                for s in r.steps
            ],
            "error": r.error,
        }
        for r in history
    ]
    if as_json:
        print_json(data)
        return
    print_rows(
        ["run", "started", "outcome", "steps", "seconds"],
        [
            [
                d["id"],
                d["started_at"],
                d["outcome"],
                ", ".join(s["name"] for s in d["steps"]),
                f"{sum(s['seconds'] or 0 for s in d['steps']):.2f}",
            ]
            for d in data
        ],
        title="Runs",
    )


@app.command()
def steps(as_json: JsonOption = False) -> None:
    """List the steps of a run, in order."""
    from trueup.pipeline import STEPS

    if as_json:
        print_json([{"name": s.name, "description": s.description} for s in STEPS])
        return
    print_rows(["step", "what it does"], [[s.name, s.description] for s in STEPS])


customers.register(app)  # explain, timeline, links
findings.register(app)  # findings, checks, eval
report.register(app)  # report, audit
serve.register(app)  # serve, keys
