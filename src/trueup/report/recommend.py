"""What to do about each handoff, and why: the rules, strongest first.

1. **Modernisation** when the systems cannot represent how the company works: a spreadsheet column
   no system holds (`column_without_upstream`) or a fact no system owns (`unowned_fact`).
2. **Stabilisation sprint** when money at stake on the handoff (unbilled, unposted, mismatched,
   unpaid) or misreported figures reach `report.sprint_money`: billing delay, close clean-up or
   reporting distrust happening now.
3. **Systems audit** when the same state or value is defined differently by the systems (unmapped
   status values, a field mapped to an empty column, a systematic offset) or the cause is unclear:
   some of the handoff's findings come from settings and the rest from design.
4. **Map ownership and sync rules** when one failure repeats around the handoff
   (`report.repeated` findings of one check), the systems disagree on owned facts, the handoff has
   no owner, or it was declared retired and still moves records.
5. **Monitor** otherwise: occasional findings, little money.

The action is the strongest rule that holds; the reasons list every rule that holds, so a reader
sees all of what led there.
"""

from __future__ import annotations

from trueup.config.models import Report
from trueup.report.model import Action, Recommendation, Tally

LABELS: dict[Action, str] = {
    "modernisation": "Modernisation",
    "stabilisation_sprint": "Stabilisation sprint",
    "systems_audit": "Systems audit",
    "map_ownership": "Map ownership and sync rules",
    "monitor": "Monitor",
}
MODEL_GAPS = ("column_without_upstream", "unowned_fact")
DEFINITION_CHECKS = ("unmapped_status", "always_empty_column", "systematic_offset", "timezone_shift")
CONFLICT_CHECKS = ("field_conflict", "two_writers")


def for_handoff(rules: Report, tally: Tally, gaps: list[str], sign: str = "$") -> Recommendation:
    held: list[tuple[Action, str]] = []
    checks = tally.checks
    for check in MODEL_GAPS:
        if checks.get(check):
            what = "spreadsheet columns no system holds" if check == MODEL_GAPS[0] else "facts no system owns"
            held.append(("modernisation", f"{checks[check]} {what} ({check})"))
    pressing = tally.at_stake + tally.money.misreported
    if pressing >= rules.sprint_money and pressing > 0:
        parts = [
            f"{name} {sign}{amount:,.0f}"
            for name, amount in (
                ("unbilled", tally.money.unbilled),
                ("unposted", tally.money.unposted),
                ("mismatched", tally.money.mismatched),
                ("unpaid", tally.money.unpaid),
                ("misreported", tally.money.misreported),
            )
            if amount
        ]
        held.append(
            (
                "stabilisation_sprint",
                f"{sign}{pressing:,.0f} at stake now, over {sign}{rules.sprint_money:,.0f} ({', '.join(parts)})",
            )
        )
    defined = {c: n for c, n in checks.items() if c in DEFINITION_CHECKS}
    if defined:
        held.append(
            ("systems_audit", "the systems define the same state or value differently ("
             + ", ".join(f"{n} {c}" for c, n in defined.items()) + ")")
        )  # fmt: skip
    if 0 < tally.configuration < tally.findings:
        held.append(
            ("systems_audit", f"the cause is unclear: {_n(tally.configuration, 'finding')} of {tally.findings:,} come"
             " from settings, the rest from how the systems are used")
        )  # fmt: skip
    repeated = {c: n for c, n in checks.items() if n >= rules.repeated}
    if repeated:
        top, count = max(repeated.items(), key=lambda kv: (kv[1], kv[0]))
        held.append(("map_ownership", f"the same failure repeats: {_n(count, 'finding')} of {top}"))
    conflicts = sum(n for c, n in checks.items() if c in CONFLICT_CHECKS)
    if conflicts:
        held.append(("map_ownership", f"{_n(conflicts, 'fact')} disagree between systems that share them"))
    if checks.get("retired_handoff_active"):
        held.append(
            ("map_ownership", "declared retired and still moves records: switch it off, or own it again")
        )
    if "owner" in gaps:
        held.append(("map_ownership", "nobody owns the handoff"))
    if not held:
        return _monitor(tally, gaps, sign)
    order = list(LABELS)
    action = min((a for a, _ in held), key=order.index)
    return Recommendation(
        action=action,
        label=LABELS[action],
        reasons=[r for _, r in sorted(held, key=lambda h: order.index(h[0]))],
    )


def undeclared(a: str, b: str, tally: Tally) -> Recommendation:
    """Two systems that disagree with no handoff declared between them."""
    return Recommendation(
        action="map_ownership",
        label=LABELS["map_ownership"],
        reasons=[
            f"{_n(tally.findings, 'finding')} between {a} and {b}, and no handoff between them is declared:"
            " say which system owns what, and how records move"
        ],
    )


def _monitor(tally: Tally, gaps: list[str], sign: str) -> Recommendation:
    if not tally.findings:
        reason = "no open findings"
    else:
        reason = f"{_n(tally.findings, 'occasional finding')}, {sign}{tally.at_stake:,.0f} at stake"
    if gaps:
        reason += f"; fill in its {', '.join(gaps)}"
    return Recommendation(action="monitor", label=LABELS["monitor"], reasons=[reason])


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
