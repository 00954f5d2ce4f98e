"""Scoring rules on hand-made outputs whose right metrics are worked out by hand."""

import math

import pytest

from bot.evaluation.metrics import (
    AnswerRecord,
    RetrievalResult,
    answer_metrics,
    citation_precision,
    citation_recall,
    gains,
    is_relevant,
    mention_recall,
    ndcg_at,
)
from bot.evaluation.questions import Question

GOLD = "给予不超过1000万元省级重大科技成果转化项目支持"  # 25 characters: 60% is a run of 15


@pytest.mark.parametrize("passage, relevant", [
    ("按“一事一议”方式给予不超过1000万元省级重大科技成果转化项目支持。", True),  # the whole quote
    ("给予不超过 1000 万元省级重大\n科技成果转化项目支持", True),  # whitespace ignored
    ("……给予不超过1000万元省级重大……", True),  # first 15 of 25 contiguous: exactly 60%
    ("……给予不超过1000万元省级重……", False),  # 14 of 25: 56%
    ("……科技成果转化项目支持，不超过1000万元省级……", False),  # two runs of 10 and 12: neither is 60%
    ("不超过1000万元 省级重大科技 成果转化", True),  # a 17-character run once whitespace is dropped
    ("省级重大项目支持不超过1000万元", False),  # the words, but no long contiguous run
])
def test_a_passage_is_relevant_with_a_gold_quote_or_60_percent_of_one_contiguous(passage, relevant):
    assert is_relevant(passage, [GOLD]) == relevant


def test_relevance_needs_only_one_of_several_gold_quotes():
    assert is_relevant("对内部研发投入强度超过5%且营业收入超过3亿元的科技型企业", ["按科创板方向抓好上市培育", "研发投入强度超过5%"])
    assert not is_relevant("无关文本", ["按科创板方向抓好上市培育", "研发投入强度超过5%"])


def test_ndcg_counts_each_gold_quote_once_and_rewards_rank():
    quotes = ["甲乙丙丁戊己庚辛", "子丑寅卯辰巳午未"]
    passages = ["无关", "甲乙丙丁戊己庚辛", "甲乙丙丁戊己庚辛 again", "子丑寅卯辰巳午未", "无关"]
    assert gains(passages, quotes) == [0, 1, 0, 1, 0]  # the repeat of quote 1 brings nothing new
    ideal = 1 + 1 / math.log2(3)
    assert ndcg_at([0, 1, 0, 1, 0], 2, 5) == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / ideal)
    assert ndcg_at([1, 1, 0, 0, 0], 2, 5) == pytest.approx(1.0)
    assert ndcg_at([1, 0, 0, 0, 0], 1, 5) == 1.0
    assert ndcg_at([0, 0, 0, 0, 0, 1], 1, 5) == 0.0  # beyond k


def test_retrieval_metrics_from_first_relevant_ranks():
    result = RetrievalResult("hybrid")
    q = {i: Question(f"q{i}", "问", gold_quotes=("甲乙丙丁戊己庚辛",), category=c) for i, c in enumerate(["a", "a", "b", "b"])}
    hit = "甲乙丙丁戊己庚辛"
    result.add(q[0], [hit, "x", "x"], 10.0)  # rank 1
    result.add(q[1], ["x", "x", hit], 20.0)  # rank 3
    result.add(q[2], ["x", "x", "x", "x", "x"], 30.0)  # missed
    result.add(q[3], ["x", hit], 40.0)  # rank 2
    m = result.metrics()
    assert (m["recall@1"], m["recall@3"], m["recall@5"]) == (0.25, 0.75, 0.75)
    assert m["mrr"] == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)
    cats = result.by_category()
    assert cats["a"]["recall@1"] == 0.5 and cats["b"]["recall@3"] == 0.5
    assert cats["b"]["p95_ms"] == 40.0


def test_must_mention_and_citation_scores():
    assert mention_recall("最多１０００万元，一事一议", ["1000万元", "一事一议", "省科技厅"]) == pytest.approx(2 / 3)
    assert mention_recall("任何回答", []) is None
    cited = ["……给予不超过1000万元省级重大科技成果转化项目支持……", "无关条款"]
    assert citation_precision(cited, [GOLD]) == 0.5
    assert citation_recall(cited, [GOLD, "按科创板方向抓好上市培育"]) == 0.5
    assert citation_precision([], [GOLD]) is None


def _rec(qid, answerable, abstained, text="", cited=(), exact=True, gold=(GOLD,), mention=(), lead=None, note=""):
    q = Question(qid, "问", answerable=answerable, gold_quotes=gold if answerable else (), must_mention=mention, note=note)
    return AnswerRecord(q, text, abstained, list(cited), exact, 10.0, lead=lead)


def test_abstention_and_false_abstention_rates():
    records = [
        _rec("a1", True, False, "1000万元", [GOLD], mention=("1000万元",)),
        _rec("a2", True, True, "没有依据", mention=("1000万元",)),  # false abstention
        _rec("u1", False, True, "没有依据"),
        _rec("u2", False, False, "瞎答", ["无关"], exact=False),  # answered an unanswerable question
    ]
    m = answer_metrics(records)
    assert m["abstention_rate"] == 0.5
    assert m["false_abstention_rate"] == 0.5
    assert m["must_mention_recall"] == 0.5  # over answerable questions: 1 and 0
    assert m["citation_precision"] == 1.0  # only answered answerable questions count
    assert m["exact_quote_rate"] == 0.5  # over records that cite something


def test_lead_must_mention_is_scored_on_the_lead_by_the_same_matching_rules():
    records = [
        _rec("a1", True, False, "答：最多1000万元，一事一议。", lead="最多１０００万元", mention=("1000万元", "一事一议")),
        _rec("a2", True, True, "没有依据", lead="没有依据", mention=("65岁",)),
        _rec("a3", True, False, "x", lead=None, mention=("x",)),  # a system that gives no lead: not scored
        _rec("u1", False, True, "没有依据", lead="没有依据"),  # unanswerable: nothing to mention
    ]
    m = answer_metrics(records)
    assert m["must_mention_recall"] == pytest.approx((1 + 0 + 1) / 3)
    assert m["lead_must_mention_recall"] == pytest.approx((0.5 + 0) / 2)  # full-width digits folded as in the answer


def test_abstention_is_reported_for_near_miss_and_other_unanswerable_questions_and_all():
    records = [
        _rec("u1", False, True, note="near-miss: the corpus has 补贴 clauses, not this one"),
        _rec("u2", False, False, note="near-miss"),
        _rec("u3", False, True, note="weather, not policy"),
        _rec("u4", False, True),
        _rec("a1", True, False, mention=("x",)),
    ]
    m = answer_metrics(records)
    assert (m["abstention_rate"], m["abstention_rate_near_miss"], m["abstention_rate_out_of_scope"]) == (0.75, 0.5, 1.0)
    assert answer_metrics(records[2:])["abstention_rate_near_miss"] is None  # no near-miss question: no figure
