"""Issue 17's wrong verdicts: a Guizhou place spelled as a company writes it, facts the profile already
implies (an excluded industry, a loss this year), a company registered on 29 February, a talent from
the Chinese mainland written another way, an amendment's end date switching off its clause; conditions
the corpus attaches to a benefit outside its own clause; facts assumed when not given. Each is judged by
the shipped rules against a profile."""

from __future__ import annotations

from datetime import date

import pytest

from bot.matching.engine import match
from bot.matching.profile import parse_profile
from tests.matching.test_engine import (
    DROP,
    HITECH,
    SMALL,
    SUPER,
    TALENT,
    _profile,
    _talent,
)

TODAY = date(2025, 6, 1)
GUIZHOU_RULES = ("gz-major-st-achievement-conversion", "gz-star-market-listing-cultivation", TALENT,
                 "gz-talent-housing", "gz-ip-pledge-financing", "gz-hightech-project-priority")
PREFECTURES = ("贵阳市", "六盘水市", "遵义市", "安顺市", "毕节市", "铜仁市", "黔西南布依族苗族自治州",
               "黔东南苗族侗族自治州", "黔南布依族苗族自治州", "黔南州", "遵义")


def _verdict(by_id, rule_id, overrides, today=TODAY):
    return match(_profile(overrides), [by_id[rule_id]], today)[0]


def _condition(verdict, field):
    return next(c for c in verdict.conditions if c.field == field)


@pytest.mark.parametrize("province", PREFECTURES + ("Guizhou", "GuiZhou", "GUIZHOU", "Gui zhou", "贵州省", "ＧＵＩＺＨＯＵ"))
def test_a_guizhou_city_prefecture_or_english_name_is_in_guizhou(by_id, province):
    for rule_id in GUIZHOU_RULES:
        verdict = _verdict(by_id, rule_id, {"province": province})
        assert _condition(verdict, "in_guizhou").status == "met", (province, rule_id)
        assert verdict.status == _verdict(by_id, rule_id, {}).status  # as for province 贵州


@pytest.mark.parametrize("zone", ["贵阳国家高新区", "安顺高新区", "贵安新区"])
def test_a_guizhou_zone_implies_guizhou_when_no_province_is_given(by_id, zone):
    verdict = _verdict(by_id, TALENT, {"province": DROP, "zone": {"name": zone, "level": "national"}})
    assert _condition(verdict, "in_guizhou").status == "met"
    assert verdict.status == "eligible"


@pytest.mark.parametrize("province", ["四川省", "湖南", "Sichuan"])
def test_another_province_stays_outside_guizhou(by_id, province):
    verdict = _verdict(by_id, TALENT, {"province": province, "zone": {"level": "national"}})
    assert _condition(verdict, "in_guizhou").status == "not_met" and verdict.status == "not_eligible"


@pytest.mark.parametrize("industry", ["烟草制造业", "住宿和餐饮业", "批发和零售业", "房地产业", "租赁和商务服务业",
                                      "娱乐业", "餐饮业", "零售业"])
def test_an_industry_on_the_119_list_is_excluded_from_the_super_deduction(by_id, industry):
    verdict = _verdict(by_id, SUPER, {"industry": industry, "excluded_industry": DROP})
    assert verdict.status == "not_eligible"
    assert _condition(verdict, "excluded_industry").actual is True and "excluded_industry" not in verdict.missing


@pytest.mark.parametrize("industry", ["软件和信息技术服务业", "文化、体育和娱乐业", None])
def test_an_industry_off_the_list_is_asked_about_not_assumed(by_id, industry):
    verdict = _verdict(by_id, SUPER, {"industry": industry, "excluded_industry": DROP})
    assert verdict.status == "needs_info" and "excluded_industry" in verdict.missing


def test_a_stated_excluded_industry_answer_wins_over_the_list(by_id):
    assert _verdict(by_id, SUPER, {"industry": "批发和零售业", "excluded_industry": False}).status == "eligible"


@pytest.mark.parametrize("rule_id", ["loss-carryforward-five-years", "loss-carryforward"])
def test_negative_taxable_income_is_a_loss_to_carry_forward(by_id, rule_id):
    verdict = _verdict(by_id, rule_id, {"taxable_income_wan": -320, "has_unrecovered_losses": DROP})
    assert verdict.status == "eligible" and not verdict.missing


def test_a_profit_this_year_says_nothing_about_earlier_losses(by_id):
    verdict = _verdict(by_id, "loss-carryforward-five-years", {"taxable_income_wan": 20, "has_unrecovered_losses": DROP})
    assert verdict.status == "needs_info" and "has_unrecovered_losses" in verdict.missing


@pytest.mark.parametrize("today, status", [(date(2025, 2, 27), "not_eligible"), (date(2025, 2, 28), "eligible"),
                                           (date(2025, 3, 1), "eligible")])
def test_registered_on_29_february_is_one_year_old_on_28_february(by_id, today, status):
    overrides = {"registered_years": DROP, "registration_date": "2024-02-29", "as_of": today.isoformat()}
    verdict = _verdict(by_id, HITECH, overrides, today)
    assert _condition(verdict, "registered_years").status == ("met" if status == "eligible" else "not_met")
    assert verdict.status == status


def test_29_february_anniversaries_in_a_leap_year_fall_on_29_february():
    profile = parse_profile({"registration_date": "2024-02-29"})
    assert profile.fact("registered_years", date(2028, 2, 29)).value == 4
    assert profile.fact("registered_years", date(2028, 2, 28)).value < 4


@pytest.mark.parametrize("nationality", ["中国（内地）", "中国(内地)", "中国大陆", "中国大陆地区", "中华人民共和国", "PRC",
                                         "China", "china", "People's Republic of China"])
def test_a_mainland_talent_is_not_foreign_however_written(by_id, nationality):
    verdict = _verdict(by_id, TALENT, {"talents": _talent(63, nationality)})
    assert _condition(verdict, "talents.is_foreign").status == "not_met" and verdict.status == "not_eligible"


@pytest.mark.parametrize("nationality", ["中国香港", "中国（香港）", "中国台湾地区", "德国"])
def test_hong_kong_taiwan_and_abroad_stay_foreign(by_id, nationality):
    assert _verdict(by_id, TALENT, {"talents": _talent(63, nationality)}).status == "eligible"


# ---- an amendment's end date ends the amendment, not the benefit (实施条例第九十二条, 公告2023年第12号) ----

END, AFTER = date(2027, 12, 31), date(2028, 1, 1)
SMALL_FIRM = {"taxable_income_wan": 25, "restricted_industry": False, "industrial_enterprise": DROP}


@pytest.mark.parametrize("industrial, employees, assets, status", [
    (True, 100, 3000, "eligible"), (True, 101, 3000, "not_eligible"), (True, 100, 3001, "not_eligible"),
    (False, 80, 1000, "eligible"), (False, 81, 1000, "not_eligible"), (False, 80, 1001, "not_eligible"),
])
def test_after_2027_a_small_low_profit_enterprise_keeps_20_percent_under_the_clause_thresholds(
        by_id, industrial, employees, assets, status):
    overrides = {**SMALL_FIRM, "industrial_enterprise": industrial, "staff_quarterly_avg": employees, "total_assets_wan": assets}
    verdict = _verdict(by_id, SMALL, overrides, AFTER)
    assert verdict.status == status, [(c.wording, c.status) for c in verdict.conditions]
    assert verdict.current_benefit is None and verdict.rate == "20%"
    assert all(c.source == "clause" for c in verdict.conditions)


def test_after_2027_the_taxable_income_bound_is_30_wan_again(by_id):
    overrides = {**SMALL_FIRM, "taxable_income_wan": 30.5, "staff_quarterly_avg": 50, "total_assets_wan": 500}
    verdict = _verdict(by_id, SMALL, {**overrides, "industrial_enterprise": False}, AFTER)
    assert verdict.status == "not_eligible"
    assert [c.wording for c in verdict.unmet] == ["年度应纳税所得额不超过30万元"]


def test_until_the_end_date_the_wider_thresholds_and_5_percent_burden_hold(by_id):
    overrides = {"taxable_income_wan": 250, "staff_quarterly_avg": 280, "total_assets_wan": 4800, "industrial_enterprise": False}
    before, after = (_verdict(by_id, SMALL, overrides, day) for day in (END, AFTER))
    assert before.status == "eligible" and "实际税负5%" in before.current_benefit
    assert after.status == "not_eligible" and after.current_benefit is None
    assert {c.field for c in after.unmet} == {"taxable_income_wan", "staff_quarterly_avg", "total_assets_wan"}
    assert "today" not in {c.field for c in after.conditions}  # the benefit itself has not ended


def test_after_2027_whether_it_is_industrial_is_asked_unless_the_industry_says(by_id):
    overrides = {**SMALL_FIRM, "staff_quarterly_avg": 90, "total_assets_wan": 2000}
    asked = _verdict(by_id, SMALL, {**overrides, "industry": "软件和信息技术服务业"}, AFTER)
    assert asked.status == "needs_info" and set(asked.missing) == {"industrial_enterprise"}
    assert "工业企业，从业人数不超过100人；其他企业，从业人数不超过80人" in [c.wording for c in asked.conditions]
    assert _verdict(by_id, SMALL, {**overrides, "industry": "汽车零部件制造业"}, AFTER).status == "eligible"
    assert _verdict(by_id, SMALL, {**overrides, "industry": "汽车零部件制造业"}, END).status == "eligible"


def test_no_rule_lets_an_amendment_end_date_switch_off_its_clause(by_id, clauses, amendments):
    from bot.matching.rules import Rule
    from bot.matching.validate import validate_rules

    data = by_id[SMALL].model_dump(by_alias=True, exclude_none=True)
    data["validity"] = {"until": "2027-12-31", "wording": "执行至2027年12月31日", "source": "amendment",
                        "clause": "enterprise-income-tax-law-implementing-regulations-2024#第九十二条"}
    problems = validate_rules([Rule.model_validate(data)], clauses, amendments)
    assert any("amendment_ends" in p for p in problems), problems
    data.pop("validity")
    data["amendment_ends"]["conditions"][0]["value"] = 50  # not what 第九十二条 says
    assert any("数值 50" in p for p in validate_rules([Rule.model_validate(data)], clauses, amendments))


# ---- conditions the corpus attaches to a benefit outside its own clause ----

RATE = "hitech-enterprise-tax-rate"
HITECH_FIRM = {"is_hightech": True, "hightech_certified_years": DROP, "hightech_revocation_grounds": DROP,
               "major_incident_last_year": False}


@pytest.mark.parametrize("issued, status", [("2022-06-01", "eligible"), ("2022-05-31", "not_eligible"),
                                            ("2024-02-29", "eligible")])
def test_the_15_percent_rate_needs_a_certificate_within_its_three_years(by_id, issued, status):
    overrides = {**HITECH_FIRM, "hightech_certificate_date": issued, "hightech_revocation_grounds": False}
    verdict = _verdict(by_id, RATE, overrides, date(2025, 6, 1))
    assert verdict.status == status
    assert _condition(verdict, "hightech_certificate_valid").clause_id.endswith("#第九条")


def test_the_15_percent_rate_asks_when_the_certificate_was_issued(by_id):
    verdict = _verdict(by_id, RATE, {**HITECH_FIRM, "hightech_revocation_grounds": False})
    assert verdict.status == "needs_info" and set(verdict.missing) == {"hightech_certified_years"}


def test_a_major_incident_while_certified_cancels_the_15_percent_rate_and_the_10_year_carry_forward(by_id):
    overrides = {**HITECH_FIRM, "hightech_certified_years": 2, "major_incident_last_year": True, "is_st_sme": DROP}
    rate = _verdict(by_id, RATE, overrides)
    assert rate.status == "not_eligible"
    assert [c.clause_id for c in rate.unmet] == ["hitech-enterprise-recognition-measures-2016-32#第十九条"]
    carry = _verdict(by_id, "loss-carryforward", overrides)
    assert carry.status == "needs_info" and set(carry.missing) == {"is_st_sme"}  # only 科技型中小企业 could still count


def test_unseparated_income_gets_no_technology_transfer_relief(by_id):
    rule = "tech-transfer-income-relief"
    assert _verdict(by_id, rule, {"preferential_income_separate": False}).status == "not_eligible"
    assert set(_verdict(by_id, rule, {"preferential_income_separate": DROP}).missing) == {"preferential_income_separate"}


def test_recognition_needs_a_resident_enterprise_registered_in_the_mainland(by_id):
    assert _verdict(by_id, HITECH, {"resident_enterprise": False}).status == "not_eligible"


# ---- no fact assumed ----

def test_no_profile_field_has_a_default_value():
    from bot.matching.profile import EnterpriseProfile

    assert {n: f.default for n, f in EnterpriseProfile.model_fields.items() if f.default is not None} == {}


@pytest.mark.parametrize("rule_id", ["tech-transfer-income-relief", HITECH])
def test_resident_enterprise_is_asked_not_assumed(by_id, rule_id):
    verdict = _verdict(by_id, rule_id, {"province": "湖南", "zone": {"level": "none"}})
    assert verdict.status == "needs_info" and "resident_enterprise" in verdict.missing
    assert _condition(verdict, "resident_enterprise").status == "unknown"


def test_a_company_registered_in_guizhou_is_a_resident_enterprise(by_id):
    assert _condition(_verdict(by_id, HITECH, {"province": "贵阳市"}), "resident_enterprise").status == "met"


def test_one_zero_ip_count_does_not_mean_no_ip_at_all(by_id):
    verdict = _verdict(by_id, "gz-ip-pledge-financing", {"ip": {"invention_patents": 0}})
    assert verdict.status == "needs_info" and "ip" in verdict.missing


def test_a_fact_inferred_from_others_is_shown_as_inferred_and_a_stated_one_is_not(by_id):
    """根据行业推定: a person checking the verdict sees which values the profile stated and which were inferred."""
    from bot.matching.render import condition_line

    inferred = _condition(_verdict(by_id, SUPER, {"industry": "烟草制造业", "excluded_industry": DROP}), "excluded_industry")
    assert "是（根据行业推定）" in condition_line(inferred) and condition_line(inferred).startswith("✗")
    stated = _condition(_verdict(by_id, SUPER, {"excluded_industry": False}), "excluded_industry")
    assert "推定" not in condition_line(stated)
    loss = _verdict(by_id, "loss-carryforward-five-years", {"taxable_income_wan": -320, "has_unrecovered_losses": DROP})
    assert "（根据应纳税所得额为负推定）" in condition_line(_condition(loss, "has_unrecovered_losses"))
