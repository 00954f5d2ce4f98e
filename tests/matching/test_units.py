"""Issue 17's "units left unclear": 当年职工总数 (高企认定) and 从业人数 (全年季度平均值, 小型微利企业) are two facts,
each rule reads its own and neither fills in for the other; every figure says its period; 研发投入强度 and
the three-year share read apart; and the legal form (企业所得税法第一条: 个人独资企业、合伙企业不适用本法) is read from
the company name or asked, never assumed."""

from __future__ import annotations

import pytest

from bot.matching.groups import question_groups
from bot.text.facts import facts
from tests.matching.test_engine import DROP, HITECH as RECOGNITION, SMALL, SUPER
from tests.matching.test_verdicts import _verdict

INCOME_TAX_RULES = (SMALL, SUPER, "hitech-enterprise-tax-rate", "tech-transfer-income-relief", "venture-capital-deduction",
                    "loss-carryforward", "loss-carryforward-five-years")


@pytest.mark.parametrize("staff, status", [(300, "eligible"), (301, "not_eligible")])
def test_small_low_profit_reads_the_quarterly_average_headcount_not_the_year_end_total(by_id, staff, status):
    # 当年职工总数 of 500 would fail 300 and of 50 would pass: the verdict follows 从业人数 alone
    for employees in (50, 500):
        verdict = _verdict(by_id, SMALL, {"staff_quarterly_avg": staff, "employees": employees})
        assert verdict.status == status


def test_a_profile_giving_only_the_year_end_total_is_asked_for_the_quarterly_average(by_id):
    verdict = _verdict(by_id, SMALL, {"staff_quarterly_avg": DROP, "employees": 50})
    assert verdict.status == "needs_info" and set(verdict.missing) == {"staff_quarterly_avg"}
    assert "全年各季度平均值" in verdict.missing["staff_quarterly_avg"]


@pytest.mark.parametrize("employees, status", [(100, "eligible"), (101, "not_eligible")])
def test_recognition_reads_the_year_end_total_for_the_10_percent_share(by_id, employees, status):
    # 10 科技人员 of 100 is 10% (met), of 101 is not; the quarterly average (10) changes nothing
    verdict = _verdict(by_id, RECOGNITION, {"st_staff": 10, "employees": employees, "staff_quarterly_avg": 10})
    assert verdict.status == status


def test_the_quarterly_average_does_not_fill_in_the_year_end_total(by_id):
    verdict = _verdict(by_id, RECOGNITION, {"st_staff": 10, "employees": DROP, "staff_quarterly_avg": 100})
    assert verdict.status == "needs_info" and set(verdict.missing) == {"employees"}


def test_each_headcount_and_money_figure_says_its_period_and_the_two_headcounts_read_apart():
    vocabulary = facts()
    for key in ("employees", "staff_quarterly_avg", "st_staff", "revenue_wan", "taxable_income_wan",
                "total_assets_wan", "rd_expense_wan", "rd_intensity", "rd_share_3y"):
        assert vocabulary[key].period, key
    assert "上一纳税年度" in vocabulary["employees"].question and "季度平均值" not in vocabulary["employees"].period
    assert "季度平均值" in vocabulary["staff_quarterly_avg"].question
    assert "季度平均值" in vocabulary["total_assets_wan"].label  # as 实施条例第九十二条 reads it
    scale = question_groups()["scale"]
    assert "上一纳税年度" in scale.question
    assert "季度平均值" in scale.items["staff_quarterly_avg"] and "季度平均值" not in scale.items["employees"]


def test_rd_intensity_and_the_three_year_share_are_told_apart_in_every_place_they_are_asked():
    vocabulary, shares = facts(), question_groups()["shares"].items
    assert "上一年度" in vocabulary["rd_intensity"].question and "近三个会计年度" in vocabulary["rd_share_3y"].question
    assert "上一年度" in shares["rd_intensity"] and "近三个会计年度" in shares["rd_share_3y"]
    assert "内部研发投入强度" in vocabulary["rd_intensity"].form_label + vocabulary["rd_intensity"].period
    assert "近三年" in vocabulary["rd_share_3y"].label


# ---- the legal form: 企业所得税法第一条 ----

@pytest.mark.parametrize("rule_id", INCOME_TAX_RULES)
def test_every_income_tax_rule_cites_article_1(by_id, rule_id):
    condition = next(c for c in by_id[rule_id].conditions if c.field == "sole_or_partnership")
    assert condition.value is False and condition.clause.endswith("enterprise-income-tax-law-2018#第一条")


@pytest.mark.parametrize("name", ["贵阳示例软件科技有限公司", "贵州示例材料股份有限公司", "示例有限责任公司"])
def test_a_company_name_is_read_as_a_company(by_id, name):
    assert _verdict(by_id, SMALL, {"name": name}).status == "eligible"


@pytest.mark.parametrize("name", ["贵阳示例创业投资合伙企业（有限合伙）", "贵阳示例咨询中心（普通合伙）"])
def test_a_partnership_name_is_refused_every_income_tax_benefit(by_id, name):
    for rule_id in INCOME_TAX_RULES:
        verdict = _verdict(by_id, rule_id, {"name": name})
        assert verdict.status == "not_eligible" and [c.field for c in verdict.unmet] == ["sole_or_partnership"]


def test_a_stated_sole_proprietorship_wins_over_the_name(by_id):
    verdict = _verdict(by_id, SMALL, {"name": "示例有限公司", "sole_or_partnership": True})
    assert verdict.status == "not_eligible"


@pytest.mark.parametrize("name", [DROP, "示例·贵阳某软件公司", "贵阳示例软件工作室"])
def test_a_name_that_does_not_say_the_legal_form_is_asked_about(by_id, name):
    verdict = _verdict(by_id, SMALL, {"name": name})
    assert verdict.status == "needs_info" and set(verdict.missing) == {"sole_or_partnership"}
    assert "个人独资企业或合伙企业" in verdict.missing["sole_or_partnership"]


def test_a_drafted_income_tax_rule_carries_article_1_as_an_exclusion(clauses, amendments):
    from bot.matching.drafts import draft_document

    slug = "enterprise-income-tax-law-2018"
    drafted = draft_document(slug, "", [c for c in clauses.values() if c.doc_slug == slug], amendments)
    rate = next(r for r in drafted if f"{slug}#第二十八条" in r["clauses"])
    exclusion = next(c for c in rate["conditions"] if c["field"] == "sole_or_partnership")
    assert exclusion["value"] is False and exclusion["clause"] == f"{slug}#第一条"
