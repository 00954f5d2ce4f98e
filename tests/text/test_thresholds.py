"""Threshold wording read as a comparison, with the boundary each word implies."""

from __future__ import annotations

import pytest

from bot.text.facts import fact_for
from bot.text.thresholds import compare, find_thresholds, implied_op


@pytest.mark.parametrize(
    "wording, op",
    [
        # strict lower bounds
        ("超过5%", ">"), ("高于5%", ">"), ("大于5%", ">"), ("多于100人", ">"),
        # inclusive lower bounds
        ("5%以上", ">="), ("不低于5%", ">="), ("不少于100人", ">="), ("不小于5%", ">="), ("达到5%", ">="),
        ("至少100人", ">="), ("最低5%", ">="), ("5%及以上", ">="), ("年满18周岁", ">="), ("在2亿元以上", ">="),
        ("3亿元或以上", ">="),
        # inclusive upper bounds
        ("不超过300万元", "<="), ("不高于5%", "<="), ("不大于5%", "<="), ("不多于100人", "<="), ("300人以下", "<="),
        ("3年以内", "<="), ("5,000万元（含）", "<="), ("至多3年", "<="), ("最多3年", "<="), ("最高65岁", "<="),
        ("可放宽至65岁", "<="), ("300人及以下", "<="),
        # strict upper bounds
        ("未满18周岁", "<"), ("不满1年", "<"), ("低于5%", "<"), ("少于100人", "<"), ("小于5%", "<"), ("不足6个月", "<"),
        ("不到100人", "<"), ("未达到5%", "<"),
        # brackets change inclusion
        ("小于5,000万元（含）", "<="), ("5000万元以上（不含）", ">"), ("300人以下（不含本数）", "<"),
        ("大于3亿元（含）", ">="), ("3000万元（含）以下", "<="), ("1亿元以上（含1亿元）", ">="),
    ],
)
def test_each_threshold_word_implies_its_operator(wording, op):
    assert implied_op(wording) == op


@pytest.mark.parametrize(
    "wording, value, met",
    [
        ("超过5%", 5, False), ("超过5%", 5.1, True),
        ("不低于10%", 10, True), ("不低于10%", 9.99, False),
        ("注册成立一年以上", 1, True), ("注册成立一年以上", 0.9, False),  # 以上 includes the number
        ("从业人数300人以下", 300, True), ("从业人数300人以下", 301, False),  # 以下 includes it
        ("3年以内", 3, True),  # 以内 includes it
        ("未满18周岁", 18, False), ("未满18周岁", 17, True),
        ("不足6个月", 0.5, False), ("不足6个月", 0.4, True),  # 6个月 is 0.5年
        ("年龄可放宽至65岁", 65, True), ("年龄可放宽至65岁", 66, False),
        ("营业收入超过3亿元", 30000, False), ("营业收入超过3亿元", 30001, True),  # in 万元
        ("销售收入小于5,000万元（含）", 5000, True),
    ],
)
def test_a_value_on_the_boundary_is_judged_by_the_wording(wording, value, met):
    (threshold,) = find_thresholds(wording)
    assert compare(value, threshold.op, threshold.value) is met


def test_no_higher_than_five_percent_is_not_met_by_six_percent():
    """The old answerer read 不高于5% as 高于5% and judged R&D intensity 6% as meeting it."""
    (threshold,) = find_thresholds("研发投入强度不高于5%的企业")
    assert (threshold.op, threshold.value, threshold.unit, threshold.text) == ("<=", 5, "%", "不高于5%")
    assert fact_for(threshold.subject, threshold.unit) == "rd_intensity"
    assert compare(6, threshold.op, threshold.value) is False
    assert compare(5, threshold.op, threshold.value) is True


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("对内部研发投入强度超过5%且营业收入超过3亿元的科技型企业",
         [(">", 5, "%", "超过5%", "rd_intensity"), (">", 30000, "万元", "超过3亿元", "revenue_wan")]),
        ("（一）工业企业，年度应纳税所得额不超过30万元，从业人数不超过100人，资产总额不超过3000万元；",
         [("<=", 30, "万元", "不超过30万元", "taxable_income_wan"), ("<=", 100, "人", "不超过100人", "staff_quarterly_avg"),
          ("<=", 3000, "万元", "不超过3000万元", "total_assets_wan")]),
        ("企业从事研发和相关技术创新活动的科技人员占企业当年职工总数的比例不低于10％",
         [(">=", 10, "%", "不低于10％", "st_staff_share")]),
        ("最近一年销售收入在5,000万元至2亿元（含）的企业，比例不低于4%",
         [(">=", 5000, "万元", "5,000万元", "revenue_wan"), ("<=", 20000, "万元", "2亿元（含）", "revenue_wan"),
          (">=", 4, "%", "不低于4%", None)]),
        ("研发人员5至10人", [(">=", 5, "人", "5", "st_staff"), ("<=", 10, "人", "10人", "st_staff")]),
        ("在国家高新区内企业工作的境外高端人才，申请工作许可的年龄可放宽至65岁",
         [("<=", 65, "岁", "放宽至65岁", "talents.age")]),
        # policy wordings the rule drafter met: 突破 is "more than", 件 counts patents
        ("年营业收入首次突破1亿元的企业", [(">", 10000, "万元", "突破1亿元", "revenue_wan")]),
        ("企业拥有有效发明专利5件以上的", [(">=", 5, "件", "5件以上", "ip.invention_patents")]),
        ("给予不超过1000万元省级重大科技成果转化项目支持", [("<=", 1000, "万元", "不超过1000万元", None)]),
    ],
)
def test_thresholds_in_a_sentence_carry_value_unit_wording_and_what_they_measure(sentence, expected):
    found = [(t.op, t.value, t.unit, t.text, fact_for(t.subject, t.unit)) for t in find_thresholds(sentence)]
    assert found == expected
    assert all(sentence[t.start : t.end] == t.text for t in find_thresholds(sentence))


@pytest.mark.parametrize(
    "sentence",
    ["创业投资企业", "自2018年1月1日起执行", "按照投资额的70%抵扣", "十四五期间建设一批园区", "第九十五条"],
)
def test_figures_without_a_comparison_are_not_thresholds(sentence):
    assert find_thresholds(sentence) == []


@pytest.mark.parametrize(
    "value, op, threshold, holds",
    [
        (5.0000001, ">", 5, False),  # rounding noise is not "over"
        (6, ">=", 6.0, True), (3, "<", 3, False), (3, "<=", 3, True),
        ("national", "==", "national", True), (True, "!=", False, True),
        ("provincial", "in", ["national", "provincial"], True), ("none", "in", ["national", "provincial"], False),
    ],
)
def test_compare(value, op, threshold, holds):
    assert compare(value, op, threshold) is holds


def test_an_unknown_operator_is_an_error_not_a_false():
    with pytest.raises(ValueError):
        compare(1, "=>", 1)
