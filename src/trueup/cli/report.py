"""`trueup report` (write the report again from the last run) and `trueup audit` (the ledger in the terminal)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from trueup.cli.options import JsonOption, WorkspaceOption
from trueup.cli.output import out, print_json, print_rows


def report(
    workspace: WorkspaceOption = Path("."),
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write (default: report/ in the workspace)."),
    ] = None,
    schema: Annotated[
        bool, typer.Option("--schema", help="Print the JSON schema of report.json and stop.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Write report/index.html, report.md and report.json from the last run and the findings queue."""
    from trueup import report as reports
    from trueup.report.model import json_schema
    from trueup.workspace import Workspace

    if schema:
        print_json(json_schema())
        return
    ws = Workspace.open(workspace)
    ledger = reports.current(ws, save=True)
    written = reports.write(ledger, output or reports.output_dir(ws))
    if as_json:
        print_json({"files": [str(p) for p in written], "summary": ledger.summary.model_dump()})
        return
    out.print(ledger.summary.verdict, markup=False)
    for path in written:
        out.print(f"[green]Wrote[/] {path}")


def audit(workspace: WorkspaceOption = Path("."), as_json: JsonOption = False) -> None:
    """The debt ledger per handoff, with what to do about each and why."""
    from trueup import report as reports
    from trueup.checks import currency_sign
    from trueup.workspace import Workspace

    ledger = reports.current(Workspace.open(workspace))
    if as_json:
        print_json(ledger.model_dump(mode="json"))
        return
    sign = currency_sign(ledger.currency)

    def money(value: float) -> str:
        return f"{sign}{value:,.0f}"

    out.print(f"[bold]{ledger.summary.verdict}[/]", markup=True)
    rows: list[list[Any]] = [
        [
            h.id if h.declared else f"{h.from_system} ↔ {h.to_system} (not declared)",
            f"{h.tally.findings:,}",
            money(h.tally.at_stake),
            f"{h.tally.hours_per_month:,.1f}",
            ", ".join(h.gaps),
            h.recommendation.label,
        ]
        for h in ledger.handoffs
    ]
    print_rows(
        ["handoff", "open", "at stake", "hours/month", "gaps", "recommendation"], rows, title="Handoffs"
    )
    print_rows(
        ["system", "maintenance h", "workaround h", "licence", "cost/month", "deals lost", "blocked"],
        [
            [
                s.label,
                f"{s.maintenance_hours_per_month:,.1f}",
                f"{s.workaround_hours_per_month:,.1f}",
                money(s.license_per_month),
                money(s.cost_per_month),
                f"{s.deals_lost:,} ({money(s.deals_lost_value)})" if s.deals_lost else "0",
                ", ".join(s.initiatives_blocked),
            ]
            for s in ledger.systems
        ],
        title="True cost per system",
    )
    for h in ledger.handoffs:
        if h.tally.findings or h.gaps:
            out.print(f"\n[bold]{h.id}[/]: {h.recommendation.label}", markup=True)
            for reason in h.recommendation.reasons:
                out.print(f"  • {reason}", markup=False)
    if ledger.summary.first_action:
        out.print(f"\n[bold]Do first:[/] {ledger.summary.first_action}", markup=True)


def register(app: typer.Typer) -> None:
    app.command(name="report")(report)
    app.command(name="audit")(audit)
