"""Question sets and metrics. Metrics are small pure functions over hits and gold quotes."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .errors import QuestionSetError

_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answerable: bool = True
    gold_quotes: tuple[str, ...] = ()
    must_mention: tuple[str, ...] = ()
    category: str = ""
    note: str = ""


def load_questions(path: Path) -> list[Question]:
    """Read a JSONL question set; a bad line is an error naming the file, line and field."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionSetError(f"{path}：无法读取问题集（{exc}）") from None
    out: list[Question] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuestionSetError(f"{path} 第 {n} 行不是有效的 JSON：{exc.msg}") from None
        except RecursionError:
            raise QuestionSetError(f"{path} 第 {n} 行嵌套层次过深，不是有效的问题") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("question"), str) or not obj["question"].strip():
            raise QuestionSetError(f"{path} 第 {n} 行缺少文本字段 question")
        for key in ("gold_quotes", "must_mention"):
            if not isinstance(obj.get(key, []), list):
                raise QuestionSetError(f"{path} 第 {n} 行的 {key} 应为列表")
        out.append(
            Question(
                id=str(obj.get("id", f"line{n}")),
                question=obj["question"],
                answerable=bool(obj.get("answerable", True)),
                gold_quotes=tuple(str(q) for q in obj.get("gold_quotes", [])),
                must_mention=tuple(str(m) for m in obj.get("must_mention", [])),
                category=str(obj.get("category", "")),
                note=str(obj.get("note", "")),
            )
        )
    if not out:
        raise QuestionSetError(f"{path}：问题集为空")
    return out


def is_relevant(passage: str, gold_quotes: Iterable[str]) -> bool:
    """Contains a gold quote (whitespace ignored), or at least 60% of one as a contiguous run."""
    text = _WS.sub("", passage)
    for quote in gold_quotes:
        q = _WS.sub("", quote)
        if not q:
            continue
        if q in text:
            return True
        match = SequenceMatcher(None, q, text, autojunk=False).find_longest_match(0, len(q), 0, len(text))
        if match.size >= 0.6 * len(q):
            return True
    return False


def first_relevant_rank(passages: Sequence[str], gold_quotes: Sequence[str]) -> int | None:
    for rank, passage in enumerate(passages, 1):
        if is_relevant(passage, gold_quotes):
            return rank
    return None


def recall_at(ranks: Sequence[int | None], k: int) -> float:
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0


def mrr(ranks: Sequence[int | None]) -> float:
    return sum(1.0 / r for r in ranks if r) / len(ranks) if ranks else 0.0


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[idx]


@dataclass
class RetrievalResult:
    mode: str
    ranks: dict[str, int | None] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        r = list(self.ranks.values())
        return {
            "recall@1": recall_at(r, 1),
            "recall@3": recall_at(r, 3),
            "recall@5": recall_at(r, 5),
            "mrr": mrr(r),
            "p50_ms": percentile(self.latencies_ms, 50),
            "p95_ms": percentile(self.latencies_ms, 95),
        }


def evaluate_retrieval(
    questions: Sequence[Question], search: Callable[[str, int, str], list], modes: Sequence[str], k: int = 5
) -> dict[str, RetrievalResult]:
    """Rank of the first relevant clause per answerable question, per mode. `search` returns Hits."""
    results = {}
    for mode in modes:
        result = RetrievalResult(mode)
        for q in questions:
            if not q.answerable or not q.gold_quotes:
                continue
            started = time.perf_counter()
            hits = search(q.question, k, mode)
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.ranks[q.id] = first_relevant_rank([h.clause.text for h in hits], q.gold_quotes)
        results[mode] = result
    return results


def retrieval_table(results: dict[str, RetrievalResult]) -> str:
    """A Markdown table: one row per mode."""
    rows = ["| mode | Recall@1 | Recall@3 | Recall@5 | MRR | p50 ms | p95 ms |", "|---|---|---|---|---|---|---|"]
    for mode, result in results.items():
        m = result.metrics()
        rows.append(
            f"| {mode} | {m['recall@1']:.3f} | {m['recall@3']:.3f} | {m['recall@5']:.3f} | {m['mrr']:.3f} "
            f"| {m['p50_ms']:.1f} | {m['p95_ms']:.1f} |"
        )
    return "\n".join(rows)


def _norm(text: str) -> str:
    """Width-fold what answers and gold strings write both ways (％/%, full-width digits)."""
    return _WS.sub("", text.translate(str.maketrans("０１２３４５６７８９％，", "0123456789%,")))


def mention_recall(answer_text: str, must_mention: Sequence[str]) -> float | None:
    if not must_mention:
        return None
    text = _norm(answer_text)
    return sum(1 for m in must_mention if _norm(m) in text) / len(must_mention)


def citation_precision(cited_texts: Sequence[str], gold_quotes: Sequence[str]) -> float | None:
    """Share of cited clauses that contain a gold quote; None when nothing was cited."""
    if not cited_texts:
        return None
    return sum(1 for t in cited_texts if is_relevant(t, gold_quotes)) / len(cited_texts)


def citation_recall(cited_texts: Sequence[str], gold_quotes: Sequence[str]) -> float | None:
    """Share of gold quotes found in some cited clause."""
    if not gold_quotes:
        return None
    return sum(1 for q in gold_quotes if any(is_relevant(t, [q]) for t in cited_texts)) / len(gold_quotes)


def _mean(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


@dataclass
class AnswerRecord:
    """One question's answer, reduced to what the metrics need."""

    question: Question
    text: str
    abstained: bool
    cited_texts: list[str]
    quotes_exact: bool
    latency_ms: float


def answer_metrics(records: Sequence[AnswerRecord]) -> dict[str, float | None]:
    answerable = [r for r in records if r.question.answerable]
    unanswerable = [r for r in records if not r.question.answerable]
    answered = [r for r in answerable if not r.abstained]
    return {
        "questions": float(len(records)),
        "must_mention_recall": _mean([mention_recall(r.text, r.question.must_mention) for r in answerable]),
        "citation_precision": _mean([citation_precision(r.cited_texts, r.question.gold_quotes) for r in answered]),
        "citation_recall": _mean([citation_recall(r.cited_texts, r.question.gold_quotes) for r in answered]),
        "abstention_rate": (sum(r.abstained for r in unanswerable) / len(unanswerable)) if unanswerable else None,
        "false_abstention_rate": (sum(r.abstained for r in answerable) / len(answerable)) if answerable else None,
        "exact_quote_rate": _mean([1.0 if r.quotes_exact else 0.0 for r in records if r.cited_texts]),
        "p50_ms": percentile([r.latency_ms for r in records], 50),
        "p95_ms": percentile([r.latency_ms for r in records], 95),
    }


def answer_metrics_by_category(records: Sequence[AnswerRecord]) -> dict[str, dict[str, float | None]]:
    cats: dict[str, list[AnswerRecord]] = {}
    for r in records:
        cats.setdefault(r.question.category or "-", []).append(r)
    return {cat: answer_metrics(rs) for cat, rs in sorted(cats.items())}


def answer_table(overall: dict, by_category: dict[str, dict]) -> str:
    cols = ["questions", "must_mention_recall", "citation_precision", "citation_recall", "abstention_rate", "false_abstention_rate", "exact_quote_rate"]
    head = ["| category | n | must_mention | cit. precision | cit. recall | abstention (unanswerable) | false abstention | exact quotes |",
            "|---|---|---|---|---|---|---|---|"]

    def fmt(v):
        return "–" if v is None else (f"{v:.0f}" if v > 1.5 else f"{v:.3f}")

    rows = [f"| {name} | " + " | ".join(fmt(m[c]) for c in cols) + " |" for name, m in [("all", overall), *by_category.items()]]
    return "\n".join(head + rows)
