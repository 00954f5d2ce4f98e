"""Another system's outputs (the `ask --json` lines of DESIGN.md), scored by the same metrics as ours."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

from bot.errors import QuestionSetError
from bot.evaluation.metrics import AnswerRecord, RetrievalResult
from bot.evaluation.questions import Question, read_jsonl, turn_id


_TURN = re.compile(r"(.+)[#/](\d+)")


def load_system_outputs(path: Path) -> dict[str, dict]:
    """JSONL of `ask --json` objects keyed by `id` (a turn of a multi-turn question: `q150#2` as
    `ask --questions` writes it, `q150/2` as earlier versions did, or `"id": "q150", "turn": 2`)."""
    out: dict[str, dict] = {}
    for n, obj in read_jsonl(path, "系统输出"):
        if not isinstance(obj, dict) or "id" not in obj:
            raise QuestionSetError(f"{path} 第 {n} 行缺少字段 id")
        for key, kind in (("hits", list), ("citations", list), ("answer", str), ("lead", str), ("abstained", bool)):
            if key in obj and not isinstance(obj[key], kind):
                raise QuestionSetError(f"{path} 第 {n} 行的 {key} 类型不对")
        key = turn_id(str(obj["id"]), int(obj["turn"])) if "turn" in obj else str(obj["id"])
        if turn := _TURN.fullmatch(key):
            key = turn_id(turn.group(1), int(turn.group(2)))
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
                             float(out.get("took_ms", 0.0) or 0.0), lead=out.get("lead"))
            )
    return retrieval, records, missing
