"""Metrics: small pure functions over retrieved passages, answers and gold quotes, and the tables
that show them. Question sets are read by bot/evaluation/questions.py."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Callable, Iterable, Sequence

from bot.evaluation.questions import Question
from bot.text.width import compact

_WS = re.compile(r"\s+")


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


def gains(passages: Sequence[str], gold_quotes: Sequence[str]) -> list[int]:
    """1 where a passage brings a gold quote no higher passage brought, else 0.

    Counting only new quotes keeps two chunks of one clause from scoring twice in nDCG."""
    found: set[int] = set()
    out = []
    for passage in passages:
        new = {i for i, q in enumerate(gold_quotes) if i not in found and is_relevant(passage, [q])}
        found |= new
        out.append(1 if new else 0)
    return out


def ndcg_at(gain: Sequence[int], n_gold: int, k: int = 5) -> float:
    """Binary nDCG@k; the ideal ranking puts min(n_gold, k) relevant passages first."""
    ideal = sum(1 / math.log2(r + 1) for r in range(1, min(n_gold, k) + 1))
    dcg = sum(g / math.log2(r + 1) for r, g in enumerate(gain[:k], 1))
    return dcg / ideal if ideal else 0.0


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
    """Per question of one retriever mode: rank of the first relevant passage, nDCG@5, category, latency."""

    mode: str
    ranks: dict[str, int | None] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    ndcg: dict[str, float] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)
    latency: dict[str, float] = field(default_factory=dict)

    def add(self, question: "Question", passages: Sequence[str], latency_ms: float | None = None) -> None:
        self.ranks[question.id] = first_relevant_rank(passages, question.gold_quotes)
        self.ndcg[question.id] = ndcg_at(gains(passages, question.gold_quotes), len(question.gold_quotes), 5)
        self.categories[question.id] = question.category or "-"
        if latency_ms is not None:
            self.latencies_ms.append(latency_ms)
            self.latency[question.id] = latency_ms

    def metrics(self, ids: Iterable[str] | None = None) -> dict[str, float]:
        keep = list(self.ranks) if ids is None else [i for i in ids if i in self.ranks]
        r = [self.ranks[i] for i in keep]
        out = {
            "questions": float(len(keep)),
            "recall@1": recall_at(r, 1),
            "recall@3": recall_at(r, 3),
            "recall@5": recall_at(r, 5),
            "mrr": mrr(r),
            "ndcg@5": sum(self.ndcg.get(i, 0.0) for i in keep) / len(keep) if keep else 0.0,
        }
        times = self.latencies_ms if ids is None else [self.latency[i] for i in keep if i in self.latency]
        out["p50_ms"] = percentile(times, 50)
        out["p95_ms"] = percentile(times, 95)
        return out

    def by_category(self) -> dict[str, dict[str, float]]:
        cats: dict[str, list[str]] = {}
        for qid, cat in self.categories.items():
            cats.setdefault(cat, []).append(qid)
        return {cat: self.metrics(ids) for cat, ids in sorted(cats.items())}


def retrieval_questions(questions: Sequence[Question]) -> list[Question]:
    """Those retrieval is scored on: answerable, with gold quotes (a multi-turn one by its first turn)."""
    return [q for q in questions if q.answerable and q.gold_quotes]


def evaluate_retrieval(
    questions: Sequence[Question], search: Callable[[str, int, str], list], modes: Sequence[str], k: int = 5,
    progress: Callable[[], None] | None = None,
) -> dict[str, RetrievalResult]:
    """Rank of the first relevant clause per answerable question, per mode. `search` returns Hits."""
    results = {}
    for mode in modes:
        result = RetrievalResult(mode)
        for q in retrieval_questions(questions):
            started = time.perf_counter()
            hits = search(q.question, k, mode)
            result.add(q, [h.clause.text for h in hits], (time.perf_counter() - started) * 1000)
            if progress:
                progress()
        results[mode] = result
    return results


def retrieval_table(results: dict[str, RetrievalResult]) -> str:
    """A Markdown table: one row per mode."""
    rows = ["| mode | Recall@1 | Recall@3 | Recall@5 | MRR | nDCG@5 | p50 ms | p95 ms |", "|---|---|---|---|---|---|---|---|"]
    for mode, result in results.items():
        m = result.metrics()
        rows.append(
            f"| {mode} | {m['recall@1']:.3f} | {m['recall@3']:.3f} | {m['recall@5']:.3f} | {m['mrr']:.3f} "
            f"| {m['ndcg@5']:.3f} | {m['p50_ms']:.1f} | {m['p95_ms']:.1f} |"
        )
    return "\n".join(rows)


def mention_recall(answer_text: str, must_mention: Sequence[str]) -> float | None:
    if not must_mention:
        return None
    text = compact(answer_text)  # ％/%, full-width digits, 1,000/1000 and spaces written either way
    return sum(1 for m in must_mention if compact(m) in text) / len(must_mention)


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
    abstain_score: float | None = None  # P(no basis) of the abstention model; None when not known
    lead: str | None = None  # the answer's lead (read first); None when a system gave none


NEAR_MISS = "near-miss"  # how a question set's note marks an unanswerable question close to a corpus topic


def _abstention(records: Sequence[AnswerRecord]) -> float | None:
    return sum(r.abstained for r in records) / len(records) if records else None


def answer_metrics(records: Sequence[AnswerRecord]) -> dict[str, float | None]:
    """Answer scores; abstention also split into near-miss questions (note starting "near-miss") and the rest."""
    answerable = [r for r in records if r.question.answerable]
    unanswerable = [r for r in records if not r.question.answerable]
    near_miss = [r.question.note.startswith(NEAR_MISS) for r in unanswerable]
    answered = [r for r in answerable if not r.abstained]
    return {
        "questions": float(len(records)),
        "must_mention_recall": _mean([mention_recall(r.text, r.question.must_mention) for r in answerable]),
        "lead_must_mention_recall": _mean([mention_recall(r.lead, r.question.must_mention) for r in answerable
                                           if r.lead is not None]),
        "citation_precision": _mean([citation_precision(r.cited_texts, r.question.gold_quotes) for r in answered]),
        "citation_recall": _mean([citation_recall(r.cited_texts, r.question.gold_quotes) for r in answered]),
        "abstention_rate": _abstention(unanswerable),
        "abstention_rate_out_of_scope": _abstention([r for r, near in zip(unanswerable, near_miss) if not near]),
        "abstention_rate_near_miss": _abstention([r for r, near in zip(unanswerable, near_miss) if near]),
        "false_abstention_rate": _abstention(answerable),
        "exact_quote_rate": _mean([1.0 if r.quotes_exact else 0.0 for r in records if r.cited_texts]),
        "p50_ms": percentile([r.latency_ms for r in records], 50),
        "p95_ms": percentile([r.latency_ms for r in records], 95),
    }


def answer_metrics_by_category(records: Sequence[AnswerRecord]) -> dict[str, dict[str, float | None]]:
    cats: dict[str, list[AnswerRecord]] = {}
    for r in records:
        cats.setdefault(r.question.category or "-", []).append(r)
    return {cat: answer_metrics(rs) for cat, rs in sorted(cats.items())}


ANSWER_COLUMNS = [  # (metric, heading) of the answer tables, CLI and report
    ("must_mention_recall", "must_mention"), ("lead_must_mention_recall", "lead must_mention"),
    ("citation_precision", "cit. precision"), ("citation_recall", "cit. recall"),
    ("abstention_rate", "abstention (unanswerable)"), ("abstention_rate_out_of_scope", "abst. out-of-scope"),
    ("abstention_rate_near_miss", "abst. near-miss"), ("false_abstention_rate", "false abstention"),
    ("exact_quote_rate", "exact quotes"),
]


def rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def answer_table(overall: dict, by_category: dict[str, dict], latency: bool = False) -> str:
    """A Markdown table: all answers, then one row per category; `latency` adds p50/p95 columns."""
    cols = ANSWER_COLUMNS + ([("p50_ms", "p50 ms"), ("p95_ms", "p95 ms")] if latency else [])
    head = ["| category | n | " + " | ".join(h for _, h in cols) + " |", "|---|---|" + "---|" * len(cols)]
    rows = [f"| {name} | {int(m['questions'])} | "
            + " | ".join(f"{m[c]:.1f}" if c.endswith("_ms") else rate(m.get(c)) for c, _ in cols) + " |"
            for name, m in [("all", overall), *by_category.items()]]
    return "\n".join(head + rows)
