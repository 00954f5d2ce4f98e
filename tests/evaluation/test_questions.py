"""Question sets: multi-turn questions load turn by turn; a malformed line is named by line and turn."""

import json

import pytest

from bot.errors import QuestionSetError
from bot.evaluation.questions import load_questions

from .test_metrics import GOLD


def write_jsonl(path, lines):
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    return path


MULTI = {"id": "q150", "category": "eligibility", "answerable": True, "note": "n", "turns": [
    {"question": "高新区科技成果转化有什么支持？", "answerable": True, "gold_quotes": [GOLD], "must_mention": ["1000万元"]},
    {"question": "那需要什么条件？", "answerable": True, "gold_quotes": ["按“一事一议”方式"], "must_mention": ["一事一议"]},
]}


def test_multi_turn_question_loads_its_turns_and_retrieves_by_the_first(tmp_path):
    path = write_jsonl(tmp_path / "q.jsonl", [{"id": "q1", "question": "单轮问题？", "category": "amount"}, MULTI])
    single, multi = load_questions(path)
    assert single.asked == (single,)
    assert [t.id for t in multi.asked] == ["q150#1", "q150#2"]
    assert multi.question == "高新区科技成果转化有什么支持？" and multi.gold_quotes == (GOLD,)
    assert all(t.category == "eligibility" for t in multi.asked)
    assert multi.asked[1].must_mention == ("一事一议",)


def test_a_multi_turn_lines_note_marks_its_turns_so_a_near_miss_turn_is_scored_as_one(tmp_path):
    line = {**MULTI, "answerable": False, "note": "near-miss: the follow-up asks for a figure no clause gives",
            "turns": [MULTI["turns"][0], {"question": "那补贴多少钱？", "answerable": False}]}
    (multi,) = load_questions(write_jsonl(tmp_path / "q.jsonl", [line]))
    assert [t.note.startswith("near-miss") for t in multi.asked] == [True, True]
    assert multi.asked[1].answerable is False and multi.asked[1].category == "eligibility"


@pytest.mark.parametrize("line, message", [
    ({"id": "x", "turns": []}, "turns 应为非空列表"),
    ({"id": "x", "turns": [{"question": "好"}, {"answerable": True}]}, "第 2 轮缺少文本字段 question"),
    ({"id": "x", "turns": [{"question": "好", "gold_quotes": "不是列表"}]}, "gold_quotes 应为列表"),
])
def test_malformed_multi_turn_line_names_line_and_turn(tmp_path, line, message):
    with pytest.raises(QuestionSetError, match=message):
        load_questions(write_jsonl(tmp_path / "q.jsonl", [line]))
