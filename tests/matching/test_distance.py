"""What it would take: the distance of each not-met numeric condition, and the closest policies."""

import pytest

from bot.matching.distance import closest
from bot.matching.engine import match
from bot.matching.profile import parse_profile
from bot.matching.render import condition_line

BASE = {"province": "贵州", "zone": {"level": "national"}, "as_of": "2026-12-06"}


def distances(rules, **data) -> dict[str, list[str]]:
    verdicts = match(parse_profile({**BASE, **data}), rules)
    return {v.rule_id: [c.distance for c in v.conditions if c.distance] for v in verdicts}


@pytest.mark.parametrize("data,rule,wanted", [
    # percent points, strict 超过
    ({"rd_intensity": 4.6}, "gz-star-market-listing-cultivation", "研发投入强度 4.6%，还差 0.4 个百分点才超过5%"),
    # 万元 shown in 亿元
    ({"revenue_wan": 24000}, "gz-star-market-listing-cultivation", "营业收入需超过3亿元，目前2.4亿元，还差6000万元"),
    # the threshold itself does not meet 超过 (>) …
    ({"rd_intensity": 5}, "gz-star-market-listing-cultivation", "研发投入强度 5%，恰好等于5%，需超过5%"),
    # … a share below 不低于 (>=), rounded as people read it
    ({"st_staff": 30, "employees": 350}, "hitech-enterprise-recognition",
     "科技人员占职工总数比例 8.57%，还差 1.43 个百分点才达到10%"),
    # upper bounds (不超过): how far over
    ({"staff_quarterly_avg": 350}, "small-low-profit-enterprise-rate", "从业人数（全年季度平均值）需不超过300人，目前350人，超出50人"),
    ({"taxable_income_wan": 400}, "small-low-profit-enterprise-rate",
     "年度应纳税所得额需不超过300万元，目前400万元，超出100万元"),
    ({"talents": [{"age": 68, "nationality": "德国", "is_high_end": True}]}, "gz-foreign-talent-work-permit-age-65",
     "人才年龄需不超过65岁，目前68岁，超出3岁"),
    # years: from a registration date, the day the condition is met; else in months
    ({"registration_date": "2026-03-01"}, "hitech-enterprise-recognition",
     "注册成立年限需达到1年：2026-03-01注册成立，2027-03-01起满足"),
    ({"registered_years": 0.5}, "hitech-enterprise-recognition", "注册成立年限需达到1年，目前6个月，还差6个月"),
    # a band's threshold (revenue above 2亿 -> 3%)
    ({"revenue_wan": 30000, "rd_share_3y": 2.5}, "hitech-enterprise-recognition",
     "近三年研发费用占同期销售收入比例 2.5%，还差 0.5 个百分点才达到3%"),
])
def test_a_not_met_figure_says_how_far_it_is(rules, data, rule, wanted):
    assert wanted in distances(rules, **data)[rule]


def test_met_unknown_and_yes_no_conditions_have_no_distance(rules):
    found = distances(rules, rd_intensity=6, st_staff=10, employees=100, is_hightech=False)
    assert found["gz-star-market-listing-cultivation"] == []  # 6% > 5% is met; revenue unknown
    assert found["hitech-enterprise-recognition"] == []  # 10% >= 10% is met
    assert found["hitech-enterprise-tax-rate"] == []  # 否 is no figure


def test_the_distance_is_shown_in_the_condition_line_the_table_and_cli_use(rules):
    verdict = next(v for v in match(parse_profile({**BASE, "rd_intensity": 4.6}), rules)
                   if v.rule_id == "gz-star-market-listing-cultivation")
    line = condition_line(next(c for c in verdict.conditions if c.field == "rd_intensity"))
    assert line.startswith("✗ 研发投入强度：4.6%") and line.endswith("（研发投入强度 4.6%，还差 0.4 个百分点才超过5%）")


def test_the_closest_policies_fail_only_on_figures_smallest_gap_first(rules):
    profile = parse_profile({**BASE, "rd_intensity": 4.6, "revenue_wan": 29000, "is_tech_enterprise": True,
                             "listing_status": "unlisted", "staff_quarterly_avg": 320, "taxable_income_wan": 100,
                             "total_assets_wan": 3000, "restricted_industry": False, "is_hightech": False})
    near = [v.rule_id for v in closest(match(profile, rules))]
    # one gap (从业人数 320 > 300, 6.7% over) before two (4.6% and 2.9亿); 高新技术企业 is no figure to close
    assert near == ["small-low-profit-enterprise-rate", "gz-star-market-listing-cultivation"]
