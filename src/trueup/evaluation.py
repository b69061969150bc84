"""Score findings against a ground truth: the demo company's `.truth/expected_findings.jsonl`.

A finding and an expected problem match when they have the same category and are about the same
records (`{entity, system, source_id}`; a problem about a whole table or a spreadsheet column is
matched on its field too). Each expected problem is matched at most once and each finding at most
once: first exactly, then, for problems about many records, to the finding sharing most of them
(at least half). Recall is counted per expected kind of problem, precision per check. For each
match, the finding's root cause (configuration or design) is compared with the one expected.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trueup.errors import TerminalError

Ref = tuple[str, str | None, str | None]
TRUTH_FILE = Path(".truth") / "expected_findings.jsonl"


@dataclass
class Score:
    expected: int = 0
    found: int = 0
    matched_expected: int = 0
    matched_found: int = 0
    # of the matches (counted on the expected side), those whose root cause is the one expected
    causes_agree: int = 0

    @property
    def precision(self) -> float:
        return self.matched_found / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.matched_expected / self.expected if self.expected else 1.0

    @property
    def cause(self) -> float:
        """The share of the matches whose root cause is the one expected."""
        return self.causes_agree / self.matched_expected if self.matched_expected else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {"expected": self.expected, "found": self.found, "matched": self.matched_expected,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "cause": round(self.cause, 4)}  # fmt: skip


@dataclass
class Evaluation:
    categories: dict[str, Score] = field(default_factory=dict)
    kinds: dict[str, Score] = field(default_factory=dict)  # expected kinds (recall) and checks (precision)
    missed: list[dict[str, Any]] = field(default_factory=list)
    unexpected: list[dict[str, Any]] = field(default_factory=list)
    miscaused: list[dict[str, Any]] = field(default_factory=list)  # matches of another root cause

    @property
    def total(self) -> Score:
        out = Score()
        for s in self.categories.values():
            out.expected += s.expected
            out.found += s.found
            out.matched_expected += s.matched_expected
            out.matched_found += s.matched_found
            out.causes_agree += s.causes_agree
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total.as_dict(),
            "categories": {k: v.as_dict() for k, v in sorted(self.categories.items())},
            "kinds": {k: v.as_dict() for k, v in sorted(self.kinds.items())},
            "missed": self.missed,
            "unexpected": self.unexpected,
            "miscaused": self.miscaused,
        }


def read_truth(root: Path) -> list[dict[str, Any]]:
    path = root / TRUTH_FILE
    if not path.exists():
        raise TerminalError(f"{path} does not exist: `trueup eval` scores a company made by `trueup demo`")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _refs(entities: list[dict[str, Any]]) -> frozenset[Ref]:
    return frozenset((e["entity"], e.get("system"), e.get("source_id")) for e in entities)


def _key(item: dict[str, Any]) -> tuple[str, frozenset[Ref], str | None]:
    refs = _refs(item["entities"])
    whole = not refs or all(r[2] is None for r in refs)  # about a table or a column, not records
    return item["category"], refs, (item.get("field") if whole else None)


def evaluate(expected: list[dict[str, Any]], found: list[dict[str, Any]], examples: int = 20) -> Evaluation:
    out = Evaluation()
    open_found: dict[tuple[str, frozenset[Ref], str | None], list[int]] = {}
    for i, f in enumerate(found):
        open_found.setdefault(_key(f), []).append(i)
    matched_found: set[int] = set()
    unmatched_expected: list[int] = []
    matched_expected: dict[int, int] = {}  # expected -> the finding it matched
    for i, e in enumerate(expected):
        bucket = open_found.get(_key(e))
        if bucket:  # two problems about one record, each about a field of its own: each takes its field's
            same = [j for j in bucket if found[j].get("field") == e.get("field")]
            matched_expected[i] = same[-1] if same else bucket[-1]
            bucket.remove(matched_expected[i])
            matched_found.add(matched_expected[i])
        else:
            unmatched_expected.append(i)
    # Problems about many records: the finding sharing at least half of them.
    for i in unmatched_expected:
        e = expected[i]
        refs = _refs(e["entities"])
        if len(refs) < 3:
            continue
        best, overlap = None, 0.0
        for j, f in enumerate(found):
            if j in matched_found or f["category"] != e["category"]:
                continue
            other = _refs(f["entities"])
            share = len(refs & other) / len(refs | other) if refs | other else 0.0
            if share > overlap:
                best, overlap = j, share
        if best is not None and overlap >= 0.5:
            matched_found.add(best)
            matched_expected[i] = best
    for i, e in enumerate(expected):
        match = matched_expected.get(i)
        agrees = match is not None and found[match].get("cause") == e.get("cause")
        for score in (
            out.categories.setdefault(e["category"], Score()),
            out.kinds.setdefault(e["kind"], Score()),
        ):
            score.expected += 1
            score.matched_expected += match is not None
            score.causes_agree += agrees
        if match is not None and not agrees and len(out.miscaused) < examples:
            f = found[match]
            out.miscaused.append({**_brief(f), "cause": f.get("cause"), "cause_reason": f.get("cause_reason"),
                                  "expected": e.get("cause")})  # fmt: skip
    for j, f in enumerate(found):
        for score in (
            out.categories.setdefault(f["category"], Score()),
            out.kinds.setdefault(f["check"], Score()),
        ):
            score.found += 1
            score.matched_found += j in matched_found
    out.missed = [expected[i] for i in range(len(expected)) if i not in matched_expected][:examples]
    out.unexpected = [_brief(found[j]) for j in range(len(found)) if j not in matched_found][:examples]
    return out


def _brief(finding: dict[str, Any]) -> dict[str, Any]:
    return {k: finding.get(k) for k in ("id", "check", "category", "title", "entities")}


def kinds_of(expected: list[dict[str, Any]]) -> Counter[str]:
    return Counter(e["kind"] for e in expected)
