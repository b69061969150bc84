"""Inline SVG charts for the HTML report: the system map, the job-to-cash funnel, the trend, open
findings per category, spreadsheet corrections as a heat map and the true cost per system.

Hand-written SVG with no script and no external asset, so `index.html` stays one file that also
prints. Every number a chart prints is a field of the ledger, formatted as the templates format it;
only lengths and shades are scaled (to the largest value drawn). Text from the ledger is escaped.
Colour is never the only cue: health also has a glyph and a line width, a handoff's standing a line
style, and the heat map prints its counts in the cells.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from trueup.report.formats import count, hours, money, pct
from trueup.report.model import ColumnCorrections, HandoffLedger, Ledger

WIDTH = 960
INK = "#1f2933"
MUTED = "#52606d"
RULE = "#d3d9e0"
PANEL = "#f4f6f8"
HALO = 'stroke="#ffffff" stroke-width="4" stroke-linejoin="round" paint-order="stroke"'

# Okabe–Ito hues, which people with the common colour-vision deficiencies still tell apart; the text
# variants are the same hues darkened to a 4.5:1 contrast on white.
HEALTH_LINE = {"healthy": "#009E73", "at_risk": "#E69F00", "failing": "#D55E00"}
HEALTH_TEXT = {"healthy": "#00704F", "at_risk": "#8A5A00", "failing": "#A63D00"}
HEALTH_GLYPH = {"healthy": "●", "at_risk": "▲", "failing": "■"}
HEALTH_WIDTH = {"healthy": 2.0, "at_risk": 3.0, "failing": 4.5}
HEALTH_WORDS = {"healthy": "healthy", "at_risk": "at risk", "failing": "failing"}
RETIRED = "#8a939e"
UNDECLARED_DASH = "8 5"
RETIRED_DASH = "1 5"
MAINTENANCE = "#0072B2"
WORKAROUND = "#56B4E9"
FUNNEL_BAR = "#5d88b3"
LEAK = "#A63D00"
SHADES = ("#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b")  # one hue, light to dark: reads in greyscale


def all_charts(ledger: Ledger, sign: str) -> dict[str, Markup]:
    return {
        "system_map": system_map(ledger),
        "funnel": funnel(ledger, sign),
        "trend": trend(ledger, sign),
        "categories": categories(ledger),
        "heat": heat(ledger),
        "costs": costs(ledger, sign),
    }


# -- SVG pieces


def _n(value: float) -> str:
    """A coordinate, short."""
    text = f"{value:.1f}"
    return "0" if text == "-0.0" else text.removesuffix(".0")


def _svg(name: str, title: str, box: tuple[float, float, float, float], parts: Iterable[str]) -> Markup:
    left, top, width, height = box
    label = escape(title)
    return Markup(
        f'<svg class="chart chart-{name}" role="img" aria-label="{label}" '
        f'viewBox="{_n(left)} {_n(top)} {_n(width)} {_n(height)}" width="100%" '
        f'preserveAspectRatio="xMidYMin meet" font-size="12" fill="{INK}">'
        f"<title>{label}</title>{''.join(parts)}</svg>"
    )


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: float = 12,
    anchor: str = "start",
    bold: bool = False,
    fill: str = INK,
    extra: str = "",
) -> str:
    weight = ' font-weight="600"' if bold else ""
    end = f' text-anchor="{anchor}"' if anchor != "start" else ""
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}"{end}{weight} fill="{fill}"{extra}>'
        f"{escape(content)}</text>"
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, extra: str = "") -> str:
    return f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0))}" height="{_n(h)}" fill="{fill}"{extra}/>'


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, extra: str = "") -> str:
    return f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{stroke}"{extra}/>'


def _width_of(text: str, size: float, bold: bool = False) -> float:
    """Roughly how wide `text` is drawn (no script measures it): generous, for the wider fonts."""
    return len(text) * size * (0.62 if bold else 0.56)


def _clip(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def _wrap(text: str, chars: int, lines: int = 2) -> list[str]:
    words, out = text.split(), [""]
    for word in words:
        if out[-1] and len(out[-1]) + 1 + len(word) > chars:
            out.append(word)
        else:
            out[-1] = f"{out[-1]} {word}".strip()
    if len(out) > lines:
        out = [*out[: lines - 1], _clip(" ".join(out[lines - 1 :]), chars)]
    return [_clip(line, chars) for line in out]


def _note(name: str, title: str, message: str) -> Markup:
    return _svg(name, title, (0, 0, WIDTH, 44), [_text(0, 26, message, size=13, fill=MUTED)])


def _bar_rows(
    name: str,
    title: str,
    rows: Sequence[tuple[str, Sequence[tuple[float, str]], str]],
    legend: Sequence[tuple[str, str]] = (),
) -> Markup:
    """Labelled horizontal bars, stacked when a row has several segments; scaled to the longest row."""
    label_width, gap, row_height, bar_height = 300, 12, 30, 18
    bar_left, bar_space = label_width + gap, WIDTH - label_width - gap - 250
    longest = max((sum(v for v, _ in segments) for _, segments, _ in rows), default=0) or 1
    parts: list[str] = []
    top = 0.0
    if legend:
        x: float = bar_left
        for colour, text in legend:
            parts.append(_rect(x, 4, 12, 12, colour, ' rx="2"'))
            parts.append(_text(x + 18, 14.5, text, size=12, fill=MUTED))
            x += 40 + _width_of(text, 12)
        top = 30
    for i, (label, segments, value) in enumerate(rows):
        y = top + i * row_height
        parts.append(_text(label_width, y + 18, _clip(label, 46), size=12.5, anchor="end"))
        x = float(bar_left)
        for amount, colour in segments:
            width = amount / longest * bar_space
            parts.append(_rect(x, y + 5, width, bar_height, colour, ' stroke="#ffffff" stroke-width="1"'))
            x += width
        parts.append(_text(x + 8, y + 18, value, size=12, extra=' class="num"'))
    height = top + len(rows) * row_height + 6
    return _svg(name, title, (0, 0, WIDTH, height), parts)


# -- the system map


NODE_W, NODE_H = 156, 54
SHEET_STRIP = 8  # a spreadsheet's strip of column headers
MARGIN = 16
ROW_STEP = 150
COLUMN_GAP = 120  # at least, between two columns of systems
LABEL_SIZE = 11.5


@dataclass(frozen=True)
class Box:
    """A rectangle by its centre: a system's node, or the room an edge's label takes."""

    x: float
    y: float
    w: float = NODE_W
    h: float = NODE_H

    def towards(self, tx: float, ty: float) -> tuple[float, float]:
        """Where the ray from the centre towards (tx, ty) leaves the box."""
        dx, dy = tx - self.x, ty - self.y
        if dx == 0 and dy == 0:
            return self.x, self.y
        scale = min(self.w / 2 / abs(dx) if dx else math.inf, self.h / 2 / abs(dy) if dy else math.inf)
        return self.x + dx * scale, self.y + dy * scale

    def overlaps(self, other: Box, room: float = 3) -> bool:
        return (
            abs(self.x - other.x) * 2 < self.w + other.w + 2 * room
            and abs(self.y - other.y) * 2 < self.h + other.h + 2 * room
        )


@dataclass(frozen=True)
class Curve:
    """A cubic Bézier from one node's side to another's."""

    start: tuple[float, float]
    first: tuple[float, float]  # control points
    second: tuple[float, float]
    end: tuple[float, float]

    def at(self, t: float) -> tuple[float, float]:
        u = 1 - t
        weights = (u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t)
        points = (self.start, self.first, self.second, self.end)
        return (
            sum(w * p[0] for w, p in zip(weights, points, strict=True)),
            sum(w * p[1] for w, p in zip(weights, points, strict=True)),
        )


def _columns(systems: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Each system's column: the longest chain of handoffs leading to it, cycles broken where a
    depth-first walk, started from the systems nothing feeds, meets them."""
    targets: dict[str, list[str]] = {s: [] for s in systems}
    for a, b in edges:
        if a != b and b not in targets[a]:
            targets[a].append(b)
    fed = {b for a, b in edges if a != b}
    state: dict[str, str] = {}
    finished: list[str] = []
    acyclic: dict[str, list[str]] = {s: [] for s in systems}

    def visit(system: str) -> None:
        state[system] = "open"
        for target in targets[system]:
            if state.get(target) == "open":
                continue  # closes a cycle
            acyclic[system].append(target)
            if target not in state:
                visit(target)
        state[system] = "done"
        finished.append(system)

    for system in [s for s in systems if s not in fed] + [s for s in systems if s in fed]:
        if system not in state:
            visit(system)
    column = dict.fromkeys(systems, 0)
    for system in reversed(finished):  # a topological order
        for target in acyclic[system]:
            column[target] = max(column[target], column[system] + 1)
    return column


def _layout(ledger: Ledger) -> tuple[dict[str, Box], float]:
    """Nodes in columns by where they sit in the flow, spreadsheets below the systems; and the width."""
    kinds = {s.system: s.kind for s in ledger.systems}
    names = list(kinds)
    for h in ledger.handoffs:
        names += [s for s in (h.from_system, h.to_system) if s not in names]
    live_first = sorted(ledger.handoffs, key=lambda h: (not h.declared, h.retired))
    column = _columns(names, [(h.from_system, h.to_system) for h in live_first])
    columns = max(column.values(), default=0) + 1
    width = max(WIDTH, 2 * MARGIN + NODE_W + (columns - 1) * (NODE_W + COLUMN_GAP))
    step = (width - 2 * MARGIN - NODE_W) / (columns - 1) if columns > 1 else 0
    boxes: dict[str, Box] = {}
    for c in range(columns):
        members = sorted((s for s in names if column[s] == c), key=lambda s: kinds.get(s) == "spreadsheet")
        x = MARGIN + NODE_W / 2 + c * step if columns > 1 else width / 2
        for row, system in enumerate(members):
            boxes[system] = Box(x, row * ROW_STEP)
    return boxes, width


def _curves(handoffs: Sequence[HandoffLedger], boxes: dict[str, Box]) -> list[Curve]:
    """Each handoff's curve, bowed to the left of its direction so that A→B and B→A never overlap:
    further for edges that pass other columns, further again for each parallel edge. An edge between
    neighbours is a gentle arc; one that passes other columns rises off its node and arches over them,
    and leaves and reaches its nodes nearer the middle of a side, so that such arches nest."""
    step = min((abs(a.x - b.x) for a in boxes.values() for b in boxes.values() if a.x != b.x), default=1)
    seen: dict[tuple[str, str], int] = {}
    shapes: list[tuple[float, float, float, float, bool]] = []  # control of the arc, normal, arch or not
    ends: list[tuple[Port, Port]] = []
    for h in handoffs:
        a, b = boxes[h.from_system], boxes[h.to_system]
        span = max(round(abs(a.x - b.x) / step), 1)
        parallel = seen.get((h.from_system, h.to_system), 0)
        seen[(h.from_system, h.to_system)] = parallel + 1
        between_rows = a.y != b.y and span == 1  # nearly straight
        bend = (24 if between_rows else 84 + 64 * (span - 1)) + 44 * parallel
        dx, dy = b.x - a.x, b.y - a.y
        length = math.hypot(dx, dy) or 1
        nx, ny = dy / length, -dx / length  # to the left of the direction
        cx, cy = (a.x + b.x) / 2 + nx * bend, (a.y + b.y) / 2 + ny * bend
        shapes.append((cx, cy, nx * bend, ny * bend, span > 1))
        ends.append((_port(h.from_system, a, cx, cy, span), _port(h.to_system, b, cx, cy, span)))
    _spread([port for pair in ends for port in pair])
    curves = []
    for (start, end), (cx, cy, bx, by, arch) in zip(ends, shapes, strict=True):
        (sx, sy), (ex, ey) = start.point(), end.point()
        if arch:  # both control points straight out from the nodes: the arch peaks at about bend / 2
            first, second = (sx + bx * 0.67, sy + by * 0.67), (ex + bx * 0.67, ey + by * 0.67)
        else:  # the quadratic arc through (cx, cy), written as a cubic
            first = (sx + (cx - sx) * 2 / 3, sy + (cy - sy) * 2 / 3)
            second = (ex + (cx - ex) * 2 / 3, ey + (cy - ey) * 2 / 3)
        curves.append(Curve((sx, sy), first, second, (ex, ey)))
    return curves


@dataclass
class Port:
    """Where an edge meets a node: a side, and how far along it (from the side's middle)."""

    system: str
    box: Box
    side: str  # top, bottom, left or right
    offset: float

    def point(self) -> tuple[float, float]:
        x, y, half_w, half_h = self.box.x, self.box.y, self.box.w / 2, self.box.h / 2
        if self.side in ("top", "bottom"):
            return x + self.offset, y + (half_h if self.side == "bottom" else -half_h)
        return x + (half_w if self.side == "right" else -half_w), y + self.offset


def _port(system: str, box: Box, cx: float, cy: float, span: int) -> Port:
    x, y = box.towards(box.x + (cx - box.x) / span, cy)
    if abs(abs(y - box.y) - box.h / 2) < 0.01:
        return Port(system, box, "bottom" if y > box.y else "top", x - box.x)
    return Port(system, box, "right" if x > box.x else "left", y - box.y)


def _spread(ports: list[Port], gap: float = 16) -> None:
    """Keep the edges meeting one side of a node at least `gap` apart, in their order along it."""
    sides: dict[tuple[str, str], list[Port]] = {}
    for port in ports:
        sides.setdefault((port.system, port.side), []).append(port)
    for (_, side), group in sides.items():
        group.sort(key=lambda p: p.offset)
        room = (group[0].box.w if side in ("top", "bottom") else group[0].box.h) / 2 - 8
        group[0].offset = max(group[0].offset, -room)
        for before, after in itertools.pairwise(group):
            after.offset = max(after.offset, before.offset + gap)
        overflow = max(group[-1].offset - room, 0)
        for port in group:  # pushed past the corner: the whole group moves back, none past the other corner
            port.offset = max(port.offset - overflow, -room)


def _edge_style(h: HandoffLedger) -> tuple[str, float, str]:
    """Colour, width and dash pattern of a handoff's line."""
    if h.retired:
        return RETIRED, 2.0, RETIRED_DASH
    return HEALTH_LINE[h.health], HEALTH_WIDTH[h.health], UNDECLARED_DASH if not h.declared else ""


def _edge(h: HandoffLedger, curve: Curve) -> str:
    """A declared handoff ends in an arrowhead; an undeclared pair of systems has no direction."""
    (sx, sy), (ax, ay), (bx, by), (ex, ey) = curve.start, curve.first, curve.second, curve.end
    if h.declared:  # stop short: the arrowhead fills the rest
        back = math.hypot(ex - bx, ey - by) or 1
        ex, ey = ex - (ex - bx) / back * 9, ey - (ey - by) / back * 9
    colour, width, dash = _edge_style(h)
    marker = f' marker-end="url(#tu-arrow-{"retired" if h.retired else h.health})"' if h.declared else ""
    dashes = f' stroke-dasharray="{dash}" stroke-linecap="{"round" if h.retired else "butt"}"' if dash else ""
    return (
        f'<path d="M{_n(sx)},{_n(sy)} C{_n(ax)},{_n(ay)} {_n(bx)},{_n(by)} {_n(ex)},{_n(ey)}" fill="none" '
        f'stroke="{colour}" stroke-width="{_n(width)}"{dashes}{marker}/>'
    )


def _markers() -> str:
    colours = {**HEALTH_LINE, "retired": RETIRED}
    return (
        "<defs>"
        + "".join(
            f'<marker id="tu-arrow-{name}" viewBox="0 0 10 10" refX="1" refY="5" markerWidth="11" '
            f'markerHeight="11" markerUnits="userSpaceOnUse" orient="auto">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
            for name, colour in colours.items()
        )
        + "</defs>"
    )


def _place_label(text: str, curve: Curve, taken: list[Box]) -> Box:
    """On the curve, as near its middle as it goes without covering a node or another label."""
    width = _width_of(text, LABEL_SIZE) + 14
    candidates = [Box(*curve.at(t), width, 15) for t in (0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74)]
    free = next((c for c in candidates if not any(c.overlaps(other) for other in taken)), candidates[0])
    taken.append(free)
    return free


def _edge_label(h: HandoffLedger, where: Box) -> str:
    glyph = f'<tspan fill="{HEALTH_TEXT[h.health]}">{HEALTH_GLYPH[h.health]}</tspan>'
    return (
        f'<text x="{_n(where.x)}" y="{_n(where.y + 4)}" font-size="{LABEL_SIZE}" text-anchor="middle" '
        f"{HALO}>{glyph} {escape(h.id)}</text>"
    )


def _node(label: str, system: str, kind: str, box: Box) -> str:
    left, top = box.x - NODE_W / 2, box.y - NODE_H / 2
    if kind == "spreadsheet":  # square corners and a strip of column headers
        parts = [
            _rect(left, top, NODE_W, NODE_H, "#ffffff", f' rx="2" stroke="{MUTED}" stroke-width="1.2"'),
            _rect(left, top, NODE_W, SHEET_STRIP, "#dfe5ec", f' stroke="{MUTED}" stroke-width="1.2"'),
            *(_line(left + x, top, left + x, top + SHEET_STRIP, MUTED) for x in range(20, NODE_W, 20)),
        ]
        middle = box.y + SHEET_STRIP / 2
    else:
        parts = [_rect(left, top, NODE_W, NODE_H, PANEL, f' rx="8" stroke="{MUTED}" stroke-width="1.2"')]
        middle = box.y
    lines = _wrap(label, 21)
    first = middle - (len(lines) * 15 + 13) / 2 + 11  # the label's lines and the system's name, centred
    parts += [
        _text(box.x, first + i * 15, line, size=12, anchor="middle", bold=True)
        for i, line in enumerate(lines)
    ]
    parts.append(_text(box.x, first + len(lines) * 15, system, size=10.5, anchor="middle", fill=MUTED))
    return "".join(parts)


def _map_legend(x: float, y: float) -> list[str]:
    parts = []
    for health in ("healthy", "at_risk", "failing"):
        parts += [
            _line(x, y, x + 28, y, HEALTH_LINE[health], f' stroke-width="{HEALTH_WIDTH[health]}"'),
            f'<text x="{_n(x + 34)}" y="{_n(y + 4)}" font-size="12" fill="{MUTED}">'
            f'<tspan fill="{HEALTH_TEXT[health]}">{HEALTH_GLYPH[health]}</tspan> {HEALTH_WORDS[health]}</text>',
        ]
        x += 120
    for text, colour, dash in (
        ("not declared (no arrow)", MUTED, UNDECLARED_DASH),
        ("retired", RETIRED, RETIRED_DASH),
    ):
        cap = "round" if dash == RETIRED_DASH else "butt"
        parts += [
            _line(
                x, y, x + 28, y, colour, f' stroke-width="2" stroke-dasharray="{dash}" stroke-linecap="{cap}"'
            ),
            _text(x + 34, y + 4, text, fill=MUTED),
        ]
        x += 56 + _width_of(text, 12)
    parts += [
        _rect(x, y - 8, 24, 16, PANEL, f' rx="4" stroke="{MUTED}"'),
        _text(x + 30, y + 4, "system", fill=MUTED),
        _rect(x + 90, y - 8, 24, 16, "#ffffff", f' rx="1" stroke="{MUTED}"'),
        _rect(x + 90, y - 8, 24, 5, "#dfe5ec", f' stroke="{MUTED}"'),
        _text(x + 120, y + 4, "spreadsheet", fill=MUTED),
    ]
    return parts


def system_map(ledger: Ledger) -> Markup:
    title = "System map: the systems and the handoffs between them, by health"
    if not ledger.systems and not ledger.handoffs:
        return _note("system-map", title, "No systems are configured.")
    boxes, width = _layout(ledger)
    drawn = [h for h in ledger.handoffs if h.from_system != h.to_system]
    curves = _curves(drawn, boxes)
    taken = list(boxes.values())
    labels = [
        _place_label(f"{HEALTH_GLYPH[h.health]} {h.id}", c, taken) for h, c in zip(drawn, curves, strict=True)
    ]
    heights = [b.y + s * b.h / 2 for b in taken for s in (-1, 1)]
    heights += [c.at(t / 10)[1] for c in curves for t in range(11)]
    known = {s.system: s for s in ledger.systems}
    nodes = [
        _node(known[system].label, system, known[system].kind, box)
        if system in known
        else _node(system, system, "system", box)
        for system, box in boxes.items()
    ]
    top, bottom = min(heights) - 10, max(heights) + 34
    parts = [
        _markers(),
        *(_edge(h, c) for h, c in zip(drawn, curves, strict=True)),
        *nodes,
        *(_edge_label(h, where) for h, where in zip(drawn, labels, strict=True)),
        *_map_legend(MARGIN, bottom),
    ]
    return _svg("system-map", title, (0, top, width, bottom - top + 14), parts)


# -- job to cash


def funnel(ledger: Ledger, sign: str) -> Markup:
    title = "Job to cash: records and money at each stage, and what leaks between them"
    if not ledger.funnel:
        return _note("funnel", title, "No job-to-cash stages were found.")
    label_width, bar_left, bar_space = 190, 204, 470
    widest = max(s.amount for s in ledger.funnel) or 1
    parts: list[str] = []
    y = 0.0
    for stage in ledger.funnel:
        if stage.leak:
            parts += _leak(stage.leak, stage.leak_money, stage.leak_findings, bar_left, y, sign)
            y += 26
        width = max(stage.amount / widest * bar_space, 2)
        parts += [
            _text(label_width, y + 19, _clip(stage.label, 30), size=12.5, anchor="end", bold=True),
            _rect(bar_left, y + 5, width, 20, FUNNEL_BAR, ' rx="2"'),
            _text(
                bar_left + width + 10,
                y + 19,
                f"{count(stage.count)} records · {money(stage.amount, sign)}",
                extra=' class="num"',
            ),
        ]
        y += 30
    return _svg("funnel", title, (0, 0, WIDTH, y + 4), parts)


def _leak(stake: str, amount: float, findings: int, x: float, y: float, sign: str) -> list[str]:
    words = stake.replace("_", " ")
    if not amount and not findings:
        return [_text(x + 20, y + 17, f"no {words} money found on the way", size=11.5, fill=MUTED)]
    noun = "finding" if findings == 1 else "findings"
    arrow = (
        f'<path d="M{_n(x + 8)},{_n(y + 5)} v11 m-4,-4 l4,4 l4,-4" fill="none" '
        f'stroke="{LEAK}" stroke-width="1.6"/>'
    )
    text = f"{money(amount, sign)} {words} on the way in · {count(findings)} {noun}"
    return [arrow, _text(x + 20, y + 17, text, size=12, bold=True, fill=LEAK)]


# -- trend


def trend(ledger: Ledger, sign: str) -> Markup:
    title = "Trend: open findings and money at stake over the last runs"
    points = ledger.trend
    if not points:
        return _note("trend", title, "The trend appears after the next run.")
    width = (WIDTH - 48) / 2
    dates = [p.at.strftime("%Y-%m-%d %H:%M") for p in points]
    parts = [
        *_trend_panel(
            "Open findings", [p.findings for p in points], lambda v: count(int(v)), dates, 0, width
        ),
        *_trend_panel(
            "Money at stake", [p.at_stake for p in points], lambda v: money(v, sign), dates, width + 48, width
        ),
    ]
    height = 130.0
    if len(points) == 1:
        parts.append(_text(0, 156, "The trend appears after the next run.", size=12.5, fill=MUTED))
        height = 166
    return _svg("trend", title, (0, 0, WIDTH, height), parts)


def _trend_panel(
    name: str,
    values: Sequence[float],
    shown: Callable[[float], str],
    dates: Sequence[str],
    left: float,
    width: float,
) -> list[str]:
    """One measure over the runs, from zero up to its highest value; the first and last labelled."""
    top, bottom = 44, 100
    first_x, last_x = left + 24, left + width - 24
    highest = max(values) or 1
    if len(values) > 1:
        xs = [first_x + i * (last_x - first_x) / (len(values) - 1) for i in range(len(values))]
    else:
        xs = [(first_x + last_x) / 2]
    ys = [bottom - v / highest * (bottom - top) for v in values]
    parts = [
        _text(left, 16, name, size=12.5, bold=True),
        _line(left, bottom + 6, left + width, bottom + 6, RULE),
    ]
    if len(values) > 1:
        line = " ".join(f"{_n(x)},{_n(y)}" for x, y in zip(xs, ys, strict=True))
        parts.append(f'<polyline points="{line}" fill="none" stroke="{MAINTENANCE}" stroke-width="2"/>')
    parts += [
        f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3.5" fill="{MAINTENANCE}"/>'
        for x, y in zip(xs, ys, strict=True)
    ]
    ends = [(0, "start"), (len(values) - 1, "end")] if len(values) > 1 else [(0, "middle")]
    for i, anchor in ends:
        parts += [
            _text(
                xs[i],
                ys[i] - 10,
                shown(values[i]),
                size=12,
                anchor=anchor,
                bold=True,
                extra=f' class="num" {HALO}',
            ),
            _text(xs[i], bottom + 22, dates[i], size=11, anchor=anchor, fill=MUTED),
        ]
    return parts


# -- categories, costs


def categories(ledger: Ledger) -> Markup:
    title = "Open findings per category"
    if not ledger.categories:
        return _note("categories", title, "No categories.")
    rows = [(c.label, [(c.tally.findings, MAINTENANCE)], count(c.tally.findings)) for c in ledger.categories]
    return _bar_rows("categories", title, rows)


def costs(ledger: Ledger, sign: str) -> Markup:
    title = "True cost per system: maintenance and workaround hours a month"
    if not ledger.systems:
        return _note("costs", title, "No systems are configured.")
    rows = [
        (
            s.label,
            [(s.maintenance_hours_per_month, MAINTENANCE), (s.workaround_hours_per_month, WORKAROUND)],
            f"{hours(s.maintenance_hours_per_month)} h + {hours(s.workaround_hours_per_month)} h"
            f" · {money(s.cost_per_month, sign)}/month",
        )
        for s in ledger.systems
    ]
    legend = [(MAINTENANCE, "maintenance (declared)"), (WORKAROUND, "workarounds (open findings)")]
    return _bar_rows("costs", title, rows, legend)


# -- spreadsheet corrections


def heat(ledger: Ledger) -> Markup:
    title = "Spreadsheet corrections per column: shade by correction rate, number of corrections in each cell"
    cells = ledger.corrections
    if not cells:
        return _note("heat", title, "No spreadsheet is registered.")
    sheets = list(dict.fromkeys(c.system for c in cells))
    columns = list(dict.fromkeys(c.column for c in cells))
    by_cell = {(c.system, c.column): c for c in cells}
    labels = {s.system: s.label for s in ledger.systems}
    highest = max(c.rate for c in cells)
    label_width, right_room = 200, 90
    cell_w = min(64.0, (WIDTH - label_width - right_room) / len(columns))
    cell_h = 34
    header = min(max(_width_of(_clip(c, 22), 11.5) for c in columns) * 0.72 + 16, 130)  # headers at 45°
    parts = [_hatch_pattern()]
    for j, column in enumerate(columns):
        x = label_width + (j + 0.5) * cell_w
        parts.append(
            _text(
                x - 2,
                header - 6,
                _clip(column, 22),
                size=11.5,
                extra=f' transform="rotate(-45 {_n(x - 2)} {_n(header - 6)})"',
            )
        )
    for i, sheet in enumerate(sheets):
        y = header + i * cell_h
        lines = _wrap(labels.get(sheet, sheet), 26)
        for k, line in enumerate(lines):
            baseline = y + cell_h / 2 + 4.5 + (k - (len(lines) - 1) / 2) * 14
            parts.append(_text(label_width - 10, baseline, line, size=12, anchor="end", bold=True))
        for j, column in enumerate(columns):
            if (sheet, column) in by_cell:
                parts += _heat_cell(
                    by_cell[sheet, column], label_width + j * cell_w, y, cell_w, cell_h, highest
                )
    bottom = header + len(sheets) * cell_h
    parts += _heat_legend(label_width, bottom + 26, highest)
    return _svg("heat", title, (0, 0, WIDTH, bottom + 44), parts)


def _shade(rate: float, highest: float) -> int:
    """0 for no correction, then 1..4 by the share of the highest rate."""
    if rate <= 0 or highest <= 0:
        return 0
    return max(1, math.ceil(rate / highest * (len(SHADES) - 1)))


def _heat_cell(cell: ColumnCorrections, x: float, y: float, w: float, h: float, highest: float) -> list[str]:
    level = _shade(cell.rate, highest)
    parts = [_rect(x, y, w, h, SHADES[level], ' stroke="#ffffff" stroke-width="2"')]
    if cell.without_upstream:
        parts.append(_rect(x + 1, y + 1, w - 2, h - 2, "url(#tu-hatch)"))
    light_text = level >= 3
    parts.append(
        _text(
            x + w / 2,
            y + h / 2 + 4.5,
            count(cell.corrections),
            size=12.5,
            anchor="middle",
            bold=cell.corrections > 0,
            fill="#ffffff" if light_text else (INK if level else MUTED),
            extra=' class="num"',
        )
    )
    return parts


def _hatch_pattern() -> str:
    return (
        '<defs><pattern id="tu-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#1f2933" '
        'stroke-width="1.4" stroke-opacity="0.45"/></pattern></defs>'
    )


def _heat_legend(x: float, y: float, highest: float) -> list[str]:
    parts = [
        _text(x, y, "Corrections per filled row:", size=12, fill=MUTED),
        _text(x + 172, y, "none", size=12, fill=MUTED),
    ]
    x += 208
    parts += [
        _rect(x + level * 22, y - 12, 22, 16, shade, f' stroke="{RULE}"')
        for level, shade in enumerate(SHADES)
    ]
    x += len(SHADES) * 22 + 8
    parts += [
        _text(x, y, f"up to {pct(highest)}", size=12, fill=MUTED),
        _rect(x + 100, y - 12, 22, 16, "#ffffff", f' stroke="{RULE}"'),
        _rect(x + 100, y - 12, 22, 16, "url(#tu-hatch)"),
        _text(x + 128, y, "column no system holds (no upstream)", size=12, fill=MUTED),
    ]
    return parts
