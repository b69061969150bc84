"""`trueup findings` (the queue, one finding, and people's actions on them), `trueup checks` and `trueup eval`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from trueup.cli.options import ActorOption, JsonOption, ReasonOption, WorkspaceOption, actor_name, state_store
from trueup.cli.output import out, print_json, print_rows
from trueup.errors import TerminalError

IdsArg = Annotated[list[int], typer.Argument(help="Finding ids, as `trueup findings` shows them.")]
Many = Annotated[list[str] | None, typer.Option(help="Keep only these (repeatable).")]
SHOWN_RECORDS = 20  # a finding about more records (a setting that touched thousands) lists these; --json all
PAGE = 50  # the table's findings unless --limit says otherwise; --json and --csv give every one


def _money(value: Any) -> str:
    return "" if value is None else f"{float(value):,.2f}"


def list_findings(
    ctx: typer.Context,
    workspace: WorkspaceOption = Path("."),
    category: Many = None,
    check: Many = None,
    system: Many = None,
    handoff: Many = None,
    owner: Many = None,
    severity: Many = None,
    state: Annotated[
        list[str] | None,
        typer.Option(help="Keep only these states (default: every state still open); `all` for every one."),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            help=f"Show at most this many, 0 every one (default: the table {PAGE}, --json and --csv all)."
        ),
    ] = None,
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV for spreadsheets.")] = False,
) -> None:
    """What is wrong, newest and costliest first: the findings queue."""
    if ctx.invoked_subcommand:
        return
    from trueup import findings as queue
    from trueup.state.findings import ACTIVE, STATES

    states = tuple(STATES) if state and "all" in state else tuple(state or ACTIVE)
    filters = queue.Filters(
        category=tuple(category or ()), check=tuple(check or ()), system=tuple(system or ()),
        handoff=tuple(handoff or ()), owner=tuple(owner or ()), state=states, severity=tuple(severity or ()),
    )  # fmt: skip
    if mistake := filters.mistake():  # a typo is not a clean queue
        raise TerminalError(mistake)
    table = not (as_json or as_csv)
    if limit is None and table:
        limit = PAGE
    with state_store(workspace) as store:
        chosen = queue.select(store, filters, limit=limit or None, preview=table)
        tally = queue.tally(store, filters, _stakes(workspace)) if table else None
    if as_json:
        print_json(queue.publics(chosen))
        return
    if as_csv:
        columns = [
            "id",
            "severity",
            "state",
            "category",
            "check",
            "title",
            "money",
            "owner",
            "assignee",
            "first_seen",
        ]
        print_rows(columns, [[f.id, f.severity, f.state, f.category, f.check, f.title, f.money, f.owner, f.assignee,
                              f.first_seen] for f in chosen], fmt="csv")  # fmt: skip
        return
    columns = ["id", "severity", "state", "title", "money", "owner"]
    rows = [[f.id, f.severity, f.state.replace("_", " "), f.title, _money(f.money), f.assignee or f.owner]
            for f in chosen]  # fmt: skip
    if not rows:
        out.print(
            "No findings match." if filters != queue.Filters() else "No open findings: the systems agree."
        )
        return
    assert tally is not None
    total = tally.findings
    shown = f"{len(rows):,} of {total:,}" if total > len(rows) else f"{total:,}"
    print_rows(columns, rows, title=f"{shown} findings")
    if total > len(rows):
        out.print(
            f"[dim]{total - len(rows):,} more: --limit N shows more (0 every one); --check, --owner, --severity and the"
            " other filters narrow the queue.[/]"
        )
    out.print(_money_line(tally.money))
    out.print("Show one with [bold]trueup findings show ID[/].")


def _stakes(workspace: Path) -> dict[str, str | None]:
    """Each check's kind of money; the built-in checks' alone when the workspace's own do not load
    (`trueup run` and `trueup checks` say what is wrong with them)."""
    from trueup.checks.registry import all_checks, builtin_checks
    from trueup.errors import ConfigError

    try:
        checks = all_checks(Path(workspace))
    except ConfigError:
        checks = builtin_checks()
    return {c.name: c.stake for c in checks}


def _money_line(money: dict[str, Decimal]) -> str:
    """`Money at stake: 1,935.00 (unbilled 1,840.00, unposted 95.00); also delayed 310.00.`: the money at
    stake as the debt ledger counts it, its parts, then the money that is not at stake (late, lost,
    misreported), in the ledger's order."""
    from trueup.checks.definition import AT_STAKE, STAKES, at_stake

    def parts(kinds: Iterable[str]) -> str:
        return ", ".join(f"{k} {_money(money[k])}" for k in kinds if money.get(k))

    at, rest = parts(AT_STAKE), parts([*STAKES[len(AT_STAKE) :], "other"])
    return (
        f"Money at stake: {_money(at_stake(money))}"
        + (f" ({at})" if at else "")
        + (f"; also {rest}" if rest else "")
        + "."
    )


def show(finding_id: Annotated[int, typer.Argument(help="The finding's id.")], workspace: WorkspaceOption = Path("."),
         as_json: JsonOption = False) -> None:  # fmt: skip
    """One finding: the values in each system side by side, the rule, the owner and the history."""
    from trueup import findings as queue

    with state_store(workspace) as store:
        f = queue.detail(store, Path(workspace).resolve(), finding_id)
    if as_json:
        print_json(f)
        return
    out.print(f"[bold]#{f['id']}[/] {f['title']}", highlight=False)
    fields = [
        ("state", f["state"] + (f" until {f['suppressed_until'][:10]}" if f["suppressed_until"] else "")),
        ("severity", f["severity"]), ("category", f["category"]), ("check", f["check"]), ("owner", f["owner"]),
        ("assignee", f["assignee"]), ("handoff", f["handoff"]), ("field", f["field"]),
        ("money at stake", _money(f["money"])), ("manual work", f"{f['minutes']:g} minutes"),
        ("cause", f"{f['cause']}: {f['cause_reason']}"), ("detail", f["detail"]),
        ("first seen", f"{_moment(f['first_seen'])} (run {f['first_run']})"),
        ("last seen", f"{_moment(f['last_seen'])} (run {f['last_run']})"),
    ]  # fmt: skip
    print_rows(["", ""], [[k, v] for k, v in fields if v not in (None, "")])
    records = f["entities"]
    print_rows(["entity", "system", "source id", "canonical id"],
               [[e["entity"], e.get("system"), e.get("source_id"), e.get("canonical_id")]
                for e in records[:SHOWN_RECORDS]], title="Records")  # fmt: skip
    if len(records) > SHOWN_RECORDS:
        out.print(f"and {len(records) - SHOWN_RECORDS:,} more records; `trueup findings show {f['id']} --json`"
                  " lists every one", highlight=False)  # fmt: skip
    values = f["values"]
    if isinstance(values, dict) and values:
        print_rows(["", "value"], [[k, _plain(v)] for k, v in values.items()], title="Values")
    if f["rule"]:
        out.print(f"[bold]Rule[/] ({f['check']}): {f['rule']}")
    print_rows(["at", "actor", "action", "state", "reason"],
               [[h["at"][:16], h["actor"], h["action"], h["to_state"], h["reason"]] for h in f["history"]],
               title="History")  # fmt: skip


def _moment(iso: str) -> str:
    """An ISO time as people read it: 2026-11-20 18:00."""
    return iso[:16].replace("T", " ")


def _plain(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value, default=str)


def _act(workspace: Path, ids: list[int], action: str, actor: str | None, reason: str | None,
         assignee: str | None = None, until: datetime | None = None, as_json: bool = False) -> None:  # fmt: skip
    from trueup import findings as queue

    with state_store(workspace) as store:
        changed = store.act(ids, action, actor_name(actor), reason=reason, assignee=assignee, until=until)
    if as_json:
        print_json(queue.publics(changed))
        return
    for f in changed:
        out.print(f"#{f.id} {f.state.replace('_', ' ')}" + (f", assigned to {f.assignee}" if action == "assign" else "")
                  + f": {f.title}", highlight=False)  # fmt: skip


def acknowledge(ids: IdsArg, workspace: WorkspaceOption = Path("."), reason: ReasonOption = None,
                actor: ActorOption = None, as_json: JsonOption = False) -> None:  # fmt: skip
    """Say you have seen these findings and are on them."""
    _act(workspace, ids, "acknowledge", actor, reason, as_json=as_json)


def assign(ids: IdsArg, to: Annotated[str, typer.Option("--to", help="Who should fix them.")],
           workspace: WorkspaceOption = Path("."), reason: ReasonOption = None, actor: ActorOption = None,
           as_json: JsonOption = False) -> None:  # fmt: skip
    """Give these findings to somebody to fix."""
    _act(workspace, ids, "assign", actor, reason, assignee=to, as_json=as_json)


def resolve(ids: IdsArg, workspace: WorkspaceOption = Path("."), reason: ReasonOption = None,
            actor: ActorOption = None, as_json: JsonOption = False) -> None:  # fmt: skip
    """Say these are fixed; the next run reopens any that are still there."""
    _act(workspace, ids, "resolve", actor, reason, as_json=as_json)


def suppress(ids: IdsArg, reason: Annotated[str, typer.Option("--reason", help="Why (required).")],
             until: Annotated[str | None, typer.Option(help="When the suppression ends: a date (2026-12-31) or a"
                                                            " duration from now (30d).")] = None,
             workspace: WorkspaceOption = Path("."), actor: ActorOption = None, as_json: JsonOption = False) -> None:  # fmt: skip
    """Hide these findings (with a reason, and an expiry if you give one); runs keep them hidden."""
    _act(workspace, ids, "suppress", actor, reason, until=_until(until), as_json=as_json)


def reopen(ids: IdsArg, workspace: WorkspaceOption = Path("."), reason: ReasonOption = None,
           actor: ActorOption = None, as_json: JsonOption = False) -> None:  # fmt: skip
    """Put findings back in the queue."""
    _act(workspace, ids, "reopen", actor, reason, as_json=as_json)


def _until(text: str | None) -> datetime | None:
    from trueup.findings import parse_until

    return parse_until(text)


def checks_list(
    ctx: typer.Context, workspace: WorkspaceOption = Path("."), as_json: JsonOption = False
) -> None:
    """Every check, built in and the workspace's own, with what it detects."""
    if ctx.invoked_subcommand:
        return
    from trueup.checks.registry import all_checks

    checks = sorted(all_checks(Path(workspace).resolve()), key=lambda c: (c.category, c.name))
    if as_json:
        print_json([{"name": c.name, "category": c.category, "severity": c.severity, "builtin": c.builtin,
                     "description": c.description, "path": None if c.builtin else str(c.path)} for c in checks])  # fmt: skip
        return
    print_rows(["check", "category", "severity", "source", "what it finds"],
               [[c.name, c.category, c.severity, "built in" if c.builtin else str(c.path), c.description]
                for c in checks], title=f"{len(checks)} checks")  # fmt: skip


def checks_show(name: Annotated[str, typer.Argument(help="The check's name.")],
                workspace: WorkspaceOption = Path(".")) -> None:  # fmt: skip
    """Print a check's SQL, header included."""
    from trueup.checks.registry import all_checks
    from trueup.errors import TrueupError

    checks = {c.name: c for c in all_checks(Path(workspace).resolve())}
    check = checks.get(name)
    if check is None:
        raise TrueupError(f"no check {name!r}; `trueup checks` lists them")
    assert check.path is not None
    out.print(check.path.read_text(encoding="utf-8"), markup=False, highlight=False)


def evaluate(directory: Annotated[Path, typer.Argument(help="A demo company's folder (has .truth/).")] = Path("."),
             as_json: JsonOption = False,
             examples: Annotated[int, typer.Option(help="How many misses and false alarms to list.")] = 10) -> None:  # fmt: skip
    """Score the findings against the demo's ground truth: precision and recall per category and kind,
    and how often a finding's root cause is the one expected."""
    from trueup import findings as queue
    from trueup.evaluation import evaluate as score
    from trueup.evaluation import read_truth
    from trueup.state.findings import ACTIVE

    root = Path(directory).resolve()
    truth = read_truth(root)
    with state_store(root) as store:
        found = queue.publics(store.findings(ACTIVE))
    result = score(truth, found, examples=examples)
    if as_json:
        print_json(result.as_dict())
        return
    data = result.as_dict()

    def table(title: str, scores: dict[str, dict[str, Any]]) -> None:
        print_rows(["", "expected", "found", "matched", "precision", "recall", "cause"],
                   [[k, v["expected"], v["found"], v["matched"], f"{v['precision']:.3f}", f"{v['recall']:.3f}",
                     f"{v['cause']:.3f}"] for k, v in scores.items()], title=title)  # fmt: skip

    table("By category", {**data["categories"], "total": data["total"]})
    table("By kind of problem (recall) and check (precision)", data["kinds"])
    for miss in data["missed"]:
        out.print(
            f"[yellow]missed[/] {miss['category']}/{miss['kind']}: {miss['detail']} {miss['entities'][:3]}"
        )
    for extra in data["unexpected"]:
        out.print(
            f"[yellow]not expected[/] #{extra['id']} {extra['check']}: {extra['title']}", highlight=False
        )
    for wrong in data["miscaused"]:
        out.print(
            f"[yellow]cause {wrong['cause']}, expected {wrong['expected']}[/] #{wrong['id']} {wrong['check']}:"
            f" {wrong['title']} ({wrong['cause_reason']})",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    findings = typer.Typer(
        help="The findings queue: list, show, and act on findings.", invoke_without_command=True
    )
    findings.callback()(list_findings)
    findings.command()(show)
    findings.command()(acknowledge)
    findings.command("ack", hidden=True)(acknowledge)
    findings.command()(assign)
    findings.command()(resolve)
    findings.command()(suppress)
    findings.command()(reopen)
    app.add_typer(findings, name="findings")
    checks = typer.Typer(help="The checks trueup runs, built in and your own.", invoke_without_command=True)
    checks.callback()(checks_list)
    checks.command("show")(checks_show)
    app.add_typer(checks, name="checks")
    app.command("eval")(evaluate)
