"""Question sets: reading and checking the JSONL files the evaluation puts to the bot.

A bad line is a QuestionSetError naming the file, the line and the field, never a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from bot.errors import QuestionSetError


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


def _in_line(turn: Question, category: str, note: str) -> Question:
    return replace(turn, category=category, note=turn.note or note)


def turn_id(question_id: str, n: int) -> str:
    """The id of turn n (from 1) of a multi-turn question, as `ask --questions --json` writes it: q150#2."""
    return f"{question_id}#{n}"


def read_jsonl(path: Path, what: str):
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
    for n, obj in read_jsonl(path, "问题集"):
        if not isinstance(obj, dict):
            raise QuestionSetError(f"{path} 第 {n} 行缺少文本字段 question")
        qid = str(obj.get("id", f"line{n}"))
        if "turns" in obj:
            turns = obj["turns"]
            if not isinstance(turns, list) or not turns:
                raise QuestionSetError(f"{path} 第 {n} 行的 turns 应为非空列表")
            category, note = str(obj.get("category", "")), str(obj.get("note", ""))
            asked = tuple(  # a turn is scored in its line's category; the line's note (near-miss …) unless its own
                _in_line(_turn_question(t, f"{path} 第 {n} 行第 {i} 轮", turn_id(qid, i)), category, note)
                for i, t in enumerate(turns, 1)
            )
            first = asked[0]  # retrieval metrics use the first turn: the later ones lean on it
            out.append(replace(first, id=qid, answerable=bool(obj.get("answerable", first.answerable)), note=note, turns=asked))
            continue
        out.append(_turn_question(obj, f"{path} 第 {n} 行", qid))
    if not out:
        raise QuestionSetError(f"{path}：问题集为空")
    return out
