"""Condition checks: a clause's thresholds held against the facts the asker gave, by the threshold
wording's own rule (超过 strict, 不低于/以上 inclusive, 不高于/以下 upper bounds, 未满 strict)."""

import pytest

from bot.answering.conditions import check_conditions


@pytest.mark.parametrize(
    "sentence,facts,status",
    [
        ("对内部研发投入强度超过5%且营业收入超过3亿元的科技型企业", {"rd_intensity": 5.0}, "not_met"),  # 超过 is strict
        ("对内部研发投入强度超过5%且营业收入超过3亿元的科技型企业", {"rd_intensity": 5.1}, "met"),
        ("对内部研发投入强度超过5%且营业收入超过3亿元的科技型企业", {"revenue_wan": 30000.0}, "not_met"),
        ("科技人员占企业当年职工总数的比例不低于10%", {"st_staff": 20.0, "employees": 200.0}, "met"),  # 不低于 is not
        ("科技人员占企业当年职工总数的比例不低于10%", {"st_staff": 18.0, "employees": 200.0}, "not_met"),
        ("申请工作许可的年龄可放宽至65岁", {"age": 65}, "met"),
        ("申请工作许可的年龄可放宽至65岁", {"age": 66}, "not_met"),
        ("在国家高新区内企业工作的境外高端人才", {"zone_level": "provincial"}, "not_met"),
        ("研发投入强度不高于5%的企业", {"rd_intensity": 6.0}, "not_met"),  # 不高于 is an upper bound
        ("研发投入强度不高于5%的企业", {"rd_intensity": 5.0}, "met"),
        ("企业申请认定时须注册成立一年以上", {"registered_years": 8 / 12}, "not_met"),  # 一年 is a figure
        ("企业申请认定时须注册成立一年以上", {"registered_years": 1.0}, "met"),  # 以上 includes it
        ("申请人年龄未满65岁", {"talents.age": 65}, "not_met"),  # 未满 excludes it
    ],
)
def test_thresholds_follow_the_wording_of_the_clause(sentence, facts, status):
    assert [c.status for c in check_conditions(sentence, facts) if c.value is not None] == [status]


def test_a_condition_on_a_fact_the_asker_did_not_give_is_unknown_not_left_out():
    checks = check_conditions("对内部研发投入强度超过5%且营业收入超过3亿元的科技型企业", {"rd_intensity": 6.0})
    assert [(c.fact, c.status) for c in checks] == [("rd_intensity", "met"), ("revenue_wan", "unknown")]
    assert checks[1].line() == "? 无法判断：条款要求“超过3亿元”，您未提供营业收入"
    zone = check_conditions("在国家高新区内企业工作的境外高端人才,申请工作许可的年龄可放宽至65岁", {"age": 63})
    assert [(c.fact, c.status) for c in zone] == [("talents.age", "met"), ("zone_level", "unknown")]
    assert check_conditions("对内部研发投入强度超过5%的企业", {}) == []  # nothing said about the asker


def test_six_percent_rd_intensity_does_not_meet_no_higher_than_five_percent():
    """The old answerer read 不高于5% as 高于5% and told the asker 6% met it."""
    (check,) = check_conditions("研发投入强度不高于5%的企业，可以申请", {"rd_intensity": 6.0})
    assert check.status == "not_met"
    assert check.line() == "✗ 不满足：条款要求“不高于5%”，您提供的研发投入强度为6%"


def test_a_range_is_checked_at_both_ends():
    checks = check_conditions("最近一年销售收入在5,000万元至2亿元（含）的企业", {"revenue_wan": 3000.0})
    assert [(c.phrase, c.status) for c in checks] == [("5,000万元", "not_met"), ("2亿元（含）", "met")]


def test_a_threshold_on_another_share_is_not_checked_against_rd_intensity():
    """不低于60% here is the domestic share of R&D spending, a fact no question states."""
    sentence = "其中，企业在中国境内发生的研究开发费用总额占全部研究开发费用总额的比例不低于60%"
    assert check_conditions(sentence, {"rd_intensity": 4.5}) == []


def test_no_threshold_is_checked_without_a_matching_fact():
    assert check_conditions("给予不超过1000万元省级重大科技成果转化项目支持", {"age": 40}) == []
