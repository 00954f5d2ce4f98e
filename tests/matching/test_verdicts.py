"""Issue 17's wrong verdicts: a Guizhou place spelled as a company writes it, facts the profile already
implies (an excluded industry, a loss this year), a company registered on 29 February, a talent from
the Chinese mainland written another way. Each is judged by the shipped rules against a profile."""

from __future__ import annotations

from datetime import date

import pytest

from bot.matching.engine import match
from bot.matching.profile import parse_profile
from tests.matching.test_engine import DROP, HITECH, SUPER, TALENT, _profile, _talent

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
