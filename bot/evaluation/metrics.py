"""Question sets and metrics. Metrics are small pure functions over hits and gold quotes."""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from pathlib import Path
from typing import Callable, Iterable, Sequence

from bot.errors import QuestionSetError
from bot.text.width import compact

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
    turns: tuple["Question", ...] = ()  # a multi-turn question: each turn asked in one Conversation

    @property
    def asked(self) -> tuple["Question", ...]:
        """What is put to the bot: the turns in order, or the question itself."""
        return self.turns or (self,)


def _turn_question(obj: dict, where: str, qid: str) -> Question:
    if not isinstance(obj, dict) or not isinstance(obj.get("question"), str) or not obj["question"].strip():
        raise QuestionSetError(f"{where}缺少文本字段 question")
    for key in ("gold_quotes", "must_mention"):
        if not isinstance(obj.get(key, []), list):
            raise QuestionSetError(f"{where}的 {key} 应为列表")
    return Question(
        id=qid,
        question=obj["question"],
        answerable=bool(obj.get("answerable", True)),
        gold_quotes=tuple(str(q) for q in obj.get("gold_quotes", [])),
        must_mention=tuple(str(m) for m in obj.get("must_mention", [])),
        category=str(obj.get("category", "")),
        note=str(obj.get("note", "")),
    )


def turn_id(question_id: str, n: int) -> str:
    """The id of turn n (from 1) of a multi-turn question, as system outputs key it: q150/2."""
    return f"{question_id}/{n}"


def _jsonl(path: Path, what: str):
    """(line number, parsed object) for each non-blank line; unreadable files and bad lines are errors."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionSetError(f"{path}：无法读取{what}（{exc}）") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuestionSetError(f"{path} 第 {n} 行不是有效的 JSON：{exc.msg}") from None
        except RecursionError:
            raise QuestionSetError(f"{path} 第 {n} 行嵌套层次过深，不是有效的 JSON 对象") from None


def load_questions(path: Path) -> list[Question]:
    """Read a JSONL question set; a bad line is an error naming the file, line and field."""
    out: list[Question] = []
    for n, obj in _jsonl(path, "问题集"):
        if not isinstance(obj, dict):
            raise QuestionSetError(f"{path} 第 {n} 行缺少文本字段 question")
        qid = str(obj.get("id", f"line{n}"))
        if "turns" in obj:
            turns = obj["turns"]
            if not isinstance(turns, list) or not turns:
                raise QuestionSetError(f"{path} 第 {n} 行的 turns 应为非空列表")
            category, note = str(obj.get("category", "")), str(obj.get("note", ""))
            asked = tuple(
                replace(_turn_question(t, f"{path} 第 {n} 行第 {i} 轮", turn_id(qid, i)), category=category)
                for i, t in enumerate(turns, 1)
            )
            first = asked[0]  # retrieval metrics use the first turn: the later ones lean on it
            out.append(replace(first, id=qid, answerable=bool(obj.get("answerable", first.answerable)), note=note, turns=asked))
            continue
        out.append(_turn_question(obj, f"{path} 第 {n} 行", qid))
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


# ---- another system's outputs (DESIGN.md --json shape), scored the same way ----


def load_system_outputs(path: Path) -> dict[str, dict]:
    """JSONL of `ask --json` objects keyed by `id` (a turn of a multi-turn question: `q150/2`,
    or `"id": "q150", "turn": 2`)."""
    out: dict[str, dict] = {}
    for n, obj in _jsonl(path, "系统输出"):
        if not isinstance(obj, dict) or "id" not in obj:
            raise QuestionSetError(f"{path} 第 {n} 行缺少字段 id")
        for key, kind in (("hits", list), ("citations", list), ("answer", str), ("abstained", bool)):
            if key in obj and not isinstance(obj[key], kind):
                raise QuestionSetError(f"{path} 第 {n} 行的 {key} 类型不对")
        key = turn_id(str(obj["id"]), int(obj["turn"])) if "turn" in obj else str(obj["id"])
        out[key] = obj
    if not out:
        raise QuestionSetError(f"{path}：系统输出为空")
    return out


def _output_for(outputs: dict[str, dict], question: Question, turn: Question) -> dict | None:
    if turn.id in outputs:
        return outputs[turn.id]
    if turn is question.asked[0] and question.id in outputs:  # a single-turn question, or turn 1 by the bare id
        return outputs[question.id]
    return None


def score_system(
    questions: Sequence[Question], outputs: dict[str, dict], clause_texts: dict[str, str] | None = None
) -> tuple[RetrievalResult, list[AnswerRecord], list[str]]:
    """Retrieval (from `hits`) and answer records (from `answer`, `abstained`, `citations`) of another
    system. A cited clause is read from its hit's text, else from `clause_texts`, else its quote; a
    question with no output counts as retrieving nothing and answering nothing. Also returns missing ids."""
    clause_texts = clause_texts or {}
    retrieval = RetrievalResult("system")
    records: list[AnswerRecord] = []
    missing: list[str] = []
    for q in questions:
        first = _output_for(outputs, q, q.asked[0])
        if q.answerable and q.gold_quotes:
            hits = (first or {}).get("hits", [])
            retrieval.add(q, [str(h.get("text", "")) for h in hits[:5]], first.get("took_ms") if first else None)
        for turn in q.asked:
            out = _output_for(outputs, q, turn)
            if out is None:
                missing.append(turn.id)
                records.append(AnswerRecord(turn, "", False, [], True, 0.0))
                continue
            by_id = {h.get("clause_id"): str(h.get("text", "")) for h in out.get("hits", [])}
            cited, exact = [], True
            for c in out.get("citations", []):
                quote = str(c.get("quote", ""))
                text = by_id.get(c.get("clause_id")) or clause_texts.get(c.get("clause_id"))
                if text is None:
                    text = quote  # the clause is unknown here: the quote is all there is to score
                exact = exact and bool(quote) and quote in text
                cited.append(text)
            records.append(
                AnswerRecord(turn, str(out.get("answer", "")), bool(out.get("abstained", False)), cited, exact,
                             float(out.get("took_ms", 0.0) or 0.0))
            )
    return retrieval, records, missing


# ---- regressions against an earlier metrics.json ----

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


def compare(old: dict, new: dict, keys: Iterable[str] = ("retrieval", "retrieval_by_category", "answers",
            "answers_by_category", "matching")) -> list[Change]:
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


def compare_table(changes: Sequence[Change], only_changed: bool = True) -> str:
    rows = ["| metric | before | now | change | |", "|---|---|---|---|---|"]
    for c in changes:
        if only_changed and abs(c.new - c.old) < 1e-9:
            continue
        rows.append(f"| {c.metric} | {c.old:.3f} | {c.new:.3f} | {c.new - c.old:+.3f} | {c.mark} |")
    return "\n".join(rows)
