"""Another system's outputs are scored by the same rules as ours; outputs without ids are refused."""

import pytest

from bot.errors import QuestionSetError
from bot.evaluation.metrics import answer_metrics
from bot.evaluation.questions import load_questions
from bot.evaluation.system_outputs import load_system_outputs, score_system

from .test_metrics import GOLD
from .test_questions import MULTI, write_jsonl


def test_another_systems_outputs_are_scored_with_the_same_rules(tmp_path):
    questions = load_questions(write_jsonl(tmp_path / "q.jsonl", [
        {"id": "q1", "question": "成果转化最多支持多少？", "gold_quotes": [GOLD], "must_mention": ["1000万元"], "category": "amount"},
        {"id": "q2", "question": "火星上的税率？", "answerable": False, "category": "out_of_scope"},
        MULTI,
        {"id": "q9", "question": "没有输出的问题？", "gold_quotes": [GOLD], "category": "amount"},
    ]))
    clause = "按“一事一议”方式给予不超过1000万元省级重大科技成果转化项目支持。"
    outputs = load_system_outputs(write_jsonl(tmp_path / "sys.jsonl", [
        {"id": "q1", "hits": [{"clause_id": "c9", "text": "无关"}, {"clause_id": "c1", "text": clause}],
         "answer": "最多1000万元", "abstained": False,
         "citations": [{"clause_id": "c1", "quote": "给予不超过1000万元"}, {"clause_id": "c9", "quote": "编造的引文"}]},
        {"id": "q2", "hits": [], "answer": "没有依据", "abstained": True, "citations": []},
        {"id": "q150", "turn": 1, "hits": [{"clause_id": "c1", "text": clause}], "answer": "1000万元", "abstained": False,
         "citations": [{"clause_id": "c1", "quote": "给予不超过1000万元"}]},
        {"id": "q150/2", "hits": [], "answer": "没有依据", "abstained": True, "citations": []},
    ]))
    retrieval, records, missing = score_system(questions, outputs)
    assert missing == ["q9"]
    assert retrieval.ranks == {"q1": 2, "q150": 1, "q9": None}
    by_id = {r.question.id: r for r in records}
    assert by_id["q1"].cited_texts == [clause, "无关"] and by_id["q1"].quotes_exact is False
    assert by_id["q150#1"].quotes_exact is True
    m = answer_metrics(records)
    assert m["abstention_rate"] == 1.0
    assert m["false_abstention_rate"] == pytest.approx(1 / 4)  # q150#2; the missing q9 is an empty answer
    assert m["must_mention_recall"] == pytest.approx(2 / 3)  # q1, q150#1 yes; q150#2 no; q9 has no must_mention
    assert m["citation_precision"] == pytest.approx((0.5 + 1.0) / 2)
    assert m["exact_quote_rate"] == 0.5


def test_system_outputs_without_ids_are_rejected(tmp_path):
    with pytest.raises(QuestionSetError, match="第 1 行缺少字段 id"):
        load_system_outputs(write_jsonl(tmp_path / "s.jsonl", [{"answer": "x"}]))
