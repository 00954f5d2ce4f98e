"""Regressions: which metrics fell since an earlier metrics.json, beyond a tolerance for noise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

LOWER_IS_BETTER = ("false_abstention_rate", "p50_ms", "p95_ms")
COUNTS = ("questions", "profiles", "verdicts", "checked")  # sizes, not scores: never flagged
TOLERANCE = 0.01  # a rate may drop this much (1 point) before it is flagged
LATENCY_TOLERANCE = 0.5  # latency may grow by half before it is flagged: it moves with machine load


def flatten(metrics: dict, prefix: str = "") -> dict[str, float]:
    """Numeric leaves as dotted keys: retrieval.hybrid.recall@5, answers_by_category.amount.citation_recall …"""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = float(value)
    return out


@dataclass(frozen=True)
class Change:
    metric: str
    old: float
    new: float
    worse: bool
    better: bool = False

    @property
    def mark(self) -> str:
        return "▼" if self.worse else ("▲" if self.better else "")


def metric_changes(old: dict, new: dict, keys: Iterable[str] = ("retrieval", "retrieval_by_category", "answers",
            "answers_by_category", "matching", "by_set")) -> list[Change]:
    """Every metric present in both reports; `worse` when it moved the wrong way beyond the tolerance."""
    before = flatten({k: old[k] for k in keys if k in old})
    after = flatten({k: new[k] for k in keys if k in new})
    changes = []
    for name in before:
        if name not in after or name.rsplit(".", 1)[-1] in COUNTS:
            continue
        o, n = before[name], after[name]
        leaf = name.rsplit(".", 1)[-1]
        if leaf in ("p50_ms", "p95_ms"):
            worse = n > o * (1 + LATENCY_TOLERANCE) and n - o > 5.0
            better = o > n * (1 + LATENCY_TOLERANCE) and o - n > 5.0
        elif leaf in LOWER_IS_BETTER:
            worse, better = n > o + TOLERANCE, n < o - TOLERANCE
        else:
            worse, better = n < o - TOLERANCE, n > o + TOLERANCE
        changes.append(Change(name, o, n, worse, better))
    return changes


def changes_table(changes: Sequence[Change], only_changed: bool = True) -> str:
    rows = ["| metric | before | now | change | |", "|---|---|---|---|---|"]
    for c in changes:
        if only_changed and abs(c.new - c.old) < 1e-9:
            continue
        rows.append(f"| {c.metric} | {c.old:.3f} | {c.new:.3f} | {c.new - c.old:+.3f} | {c.mark} |")
    return "\n".join(rows)
