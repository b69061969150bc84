"""How the report, its charts and the dashboard write numbers: one definition of each."""

from __future__ import annotations

from decimal import Decimal


def money(value: float | Decimal | None, sign: str = "$", cents: bool = False) -> str:
    if value is None:
        return "–"
    amount = float(value)
    text = f"{abs(amount):,.2f}" if cents else f"{abs(amount):,.0f}"
    return f"{'-' if amount < 0 else ''}{sign}{text}"


def count(value: int) -> str:
    return f"{value:,}"


def hours(value: float) -> str:
    return f"{value:,.1f}"


def pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def words(value: object) -> str:
    """A slug as words: `at_risk` -> `at risk`."""
    return str(value or "").replace("_", " ")


def days(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f} d"


FILTERS = {"money": money, "count": count, "hours": hours, "pct": pct, "words": words, "days": days}
