"""Rules from corpus/rules against enterprise profiles: boundaries as the texts word them, the
validator over the shipped rules and the real corpus clauses, and the questions a chat asks next.
No index, no embedder: the corpus is parsed directly."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from bot.errors import DocumentError
from bot.matching.engine import match
from bot.matching.render import condition_line, format_verdict
from bot.matching.rules import Rule, load_rules, read_rule_file
from bot.matching.validate import condition_fields, validate_rules
from bot.matching.profile import load_profile, parse_profile
from bot.text.facts import facts
from bot.text.thresholds import implied_op

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
TODAY = date(2025, 6, 1)


# A complete enterprise in 贵阳国家高新区 that meets every condition it can; each case changes a little.
BASE = {
    "name": "贵阳示例软件科技有限公司",
    "province": "贵州",
    "zone": {"name": "贵阳国家高新区", "level": "national"},
    "registered_years": 3,
    "revenue_wan": 35000,
    "rd_intensity": 6,
    "rd_share_3y": 5,
    "domestic_rd_share": 80,
    "hightech_income_share": 70,
    "employees": 100,
    "staff_quarterly_avg": 100,
    "st_staff": 20,
    "ip": {"invention_patents": 2, "software_copyrights": 5},
    "owns_core_ip": True,
    "in_key_hitech_field": True,
    "innovation_assessment_ok": True,
    "major_incident_last_year": False,
    "is_hightech": True,
    "hightech_certified_years": 1,
    "hightech_revocation_grounds": False,
    "is_st_sme": False,
    "is_tech_enterprise": True,
    "is_high_growth": True,
    "listing_status": "unlisted",
    "taxable_income_wan": 250,
    "total_assets_wan": 4000,
    "restricted_industry": False,
    "excluded_industry": False,
    "rd_expense_wan": 2100,
    "tech_transfer_income_wan": 800,
    "preferential_income_separate": True,
    "is_venture_capital": True,
    "vc_target_unlisted_sme_hightech": True,
    "vc_holding_years": 3,
    "has_major_achievement_project": True,
    "needs_talent_housing": True,
    "has_unrecovered_losses": True,
    "converted_service_achievement": True,
    "has_reward_agreement": False,
    "talents": [{"name": "Hans", "age": 63, "nationality": "德国", "position": "总工程师", "is_high_end": True}],
}
DROP = object()  # an override that removes the field


def _profile(overrides: dict):
    data = {k: v for k, v in BASE.items()}
    for key, value in overrides.items():
        if value is DROP:
            data.pop(key, None)
        else:
            data[key] = value
    return parse_profile(data)


def _talent(age, nationality="德国", high_end=True):
    return [{"name": "T", "age": age, "nationality": nationality, "is_high_end": high_end}]


LISTING = "gz-star-market-listing-cultivation"
TALENT = "gz-foreign-talent-work-permit-age-65"
HITECH = "hitech-enterprise-recognition"
SUPER = "rd-expense-super-deduction"
SMALL = "small-low-profit-enterprise-rate"

# (case, rule id, overrides, expected status, fields asked for when needs_info)
CASES = [
    # 科创板上市培育: 内部研发投入强度超过5%且营业收入超过3亿元 — both strict
    ("rd-intensity-exactly-5-is-not-over-5", LISTING, {"rd_intensity": 5}, "not_eligible", None),
    ("rd-intensity-5.1-is-over-5", LISTING, {"rd_intensity": 5.1}, "eligible", None),
    ("revenue-exactly-3yi-is-not-over-3yi", LISTING, {"revenue_wan": 30000}, "not_eligible", None),
    ("revenue-written-3yi-is-not-over-3yi", LISTING, {"revenue_wan": "3亿元"}, "not_eligible", None),
    ("revenue-just-over-3yi", LISTING, {"revenue_wan": 30000.5}, "eligible", None),
    ("rd-intensity-derived-from-expense", LISTING, {"rd_intensity": DROP, "rd_expense_wan": 1800}, "eligible", None),
    ("rd-intensity-unknown-asks", LISTING, {"rd_intensity": DROP, "rd_expense_wan": DROP}, "needs_info",
     {"rd_intensity"}),
    ("revenue-unknown-asks", LISTING, {"revenue_wan": DROP}, "needs_info", {"revenue_wan"}),
    ("provincial-zone-counts-for-all-zones", LISTING, {"zone": {"name": "遵义高新区", "level": "provincial"}},
     "eligible", None),
    ("outside-any-zone", LISTING, {"zone": {"level": "none"}}, "not_eligible", None),
    ("zone-outside-guizhou", LISTING, {"province": "四川", "zone": {"name": "成都高新区", "level": "national"}},
     "not_eligible", None),
    ("already-listed", LISTING, {"listing_status": "listed"}, "not_eligible", None),
    # 境外高端人才工作许可年龄可放宽至65岁: national zones only, 65 inclusive
    ("talent-aged-65", TALENT, {"talents": _talent(65)}, "eligible", None),
    ("talent-aged-66", TALENT, {"talents": _talent(66)}, "not_eligible", None),
    ("talent-in-provincial-zone", TALENT, {"zone": {"name": "遵义高新区", "level": "provincial"},
                                           "talents": _talent(60)}, "not_eligible", None),
    ("talent-chinese-national", TALENT, {"talents": _talent(62, "中国")}, "not_eligible", None),
    ("one-of-two-talents-qualifies", TALENT, {"talents": _talent(66) + _talent(64)}, "eligible", None),
    ("no-talent-list-asks", TALENT, {"talents": DROP}, "needs_info", {"talents"}),
    ("talent-high-end-unknown-asks", TALENT, {"talents": _talent(63, high_end=None)}, "needs_info",
     {"talents.is_high_end"}),
    ("zone-unknown-asks", TALENT, {"zone": DROP}, "needs_info", {"zone"}),
    # 高新技术企业认定: R&D share by revenue band; 5,000万元（含） and 2亿元（含） stay in the lower band
    ("band1-revenue-5000-needs-5pct", HITECH, {"revenue_wan": 5000, "rd_share_3y": 4.9}, "not_eligible", None),
    ("band1-revenue-5000-at-5pct", HITECH, {"revenue_wan": 5000, "rd_share_3y": 5}, "eligible", None),
    ("band2-revenue-5001-at-4pct", HITECH, {"revenue_wan": 5001, "rd_share_3y": 4}, "eligible", None),
    ("band2-revenue-2yi-needs-4pct", HITECH, {"revenue_wan": 20000, "rd_share_3y": 3.5}, "not_eligible", None),
    ("band3-revenue-over-2yi-at-3pct", HITECH, {"revenue_wan": 20001, "rd_share_3y": 3}, "eligible", None),
    ("band3-revenue-over-2yi-below-3pct", HITECH, {"revenue_wan": 30000, "rd_share_3y": 2.9}, "not_eligible", None),
    ("band-unknown-revenue-asks", HITECH, {"revenue_wan": DROP}, "needs_info", {"revenue_wan"}),
    ("st-staff-exactly-10pct", HITECH, {"st_staff": 10, "employees": 100}, "eligible", None),
    ("st-staff-9pct", HITECH, {"st_staff": 9, "employees": 100}, "not_eligible", None),
    ("st-staff-unknown-asks", HITECH, {"st_staff": DROP}, "needs_info", {"st_staff"}),
    ("registered-exactly-1-year", HITECH, {"registered_years": 1}, "eligible", None),
    ("registered-under-1-year", HITECH, {"registered_years": 0.9}, "not_eligible", None),
    ("registered-on-this-day-last-year", HITECH, {"registered_years": DROP, "registration_date": "2024-06-01"},
     "eligible", None),
    ("registered-one-day-short", HITECH, {"registered_years": DROP, "registration_date": "2024-06-02"},
     "not_eligible", None),
    ("domestic-rd-exactly-60", HITECH, {"domestic_rd_share": 60}, "eligible", None),
    ("domestic-rd-59.9", HITECH, {"domestic_rd_share": 59.9}, "not_eligible", None),
    ("hightech-income-exactly-60", HITECH, {"hightech_income_share": 60}, "eligible", None),
    ("major-incident-last-year", HITECH, {"major_incident_last_year": True}, "not_eligible", None),
    ("no-ip-at-all-means-no-core-ip", HITECH, {"ip": dict.fromkeys(["invention_patents", "utility_models",
     "design_patents", "software_copyrights", "other"], 0), "owns_core_ip": DROP}, "not_eligible", None),
    ("core-ip-unknown-asks", HITECH, {"owns_core_ip": DROP}, "needs_info", {"owns_core_ip"}),
    # 研发费用加计扣除: not for the industries excluded by 财税〔2015〕119号 (amendment note)
    ("excluded-industry", SUPER, {"excluded_industry": True}, "not_eligible", None),
    ("not-excluded-industry", SUPER, {}, "eligible", None),
    ("excluded-industry-unknown-asks", SUPER, {"excluded_industry": DROP}, "needs_info", {"excluded_industry"}),
    ("no-rd-expense", SUPER, {"rd_expense_wan": 0, "rd_intensity": DROP, "rd_share_3y": DROP}, "not_eligible", None),
    # 小型微利企业: amended thresholds, 不超过 inclusive, in force until 2027-12-31
    ("small-at-every-upper-bound", SMALL, {"taxable_income_wan": 300, "staff_quarterly_avg": 300, "st_staff": 30,
                                           "total_assets_wan": 5000}, "eligible", None),
    ("small-taxable-income-over", SMALL, {"taxable_income_wan": 300.5}, "not_eligible", None),
    ("small-too-many-staff", SMALL, {"staff_quarterly_avg": 301}, "not_eligible", None),
    ("small-loss-year-counts", SMALL, {"taxable_income_wan": -50}, "eligible", None),
    ("small-restricted-industry", SMALL, {"restricted_industry": True}, "not_eligible", None),
    ("small-assets-unknown-asks", SMALL, {"total_assets_wan": DROP}, "needs_info", {"total_assets_wan"}),
    # the other rules
    ("hitech-rate-for-hitech", "hitech-enterprise-tax-rate", {}, "eligible", None),
    ("hitech-rate-not-hitech", "hitech-enterprise-tax-rate", {"is_hightech": False}, "not_eligible", None),
    ("hitech-rate-unknown-asks", "hitech-enterprise-tax-rate", {"is_hightech": DROP}, "needs_info", {"is_hightech"}),
    ("tech-transfer-income", "tech-transfer-income-relief", {}, "eligible", None),
    ("no-tech-transfer-income", "tech-transfer-income-relief", {"tech_transfer_income_wan": 0}, "not_eligible", None),
    ("vc-held-2-years", "venture-capital-deduction", {"vc_holding_years": 2}, "eligible", None),
    ("vc-held-under-2-years", "venture-capital-deduction", {"vc_holding_years": 1.9}, "not_eligible", None),
    ("loss-carry-st-sme", "loss-carryforward", {"is_hightech": False, "is_st_sme": True}, "eligible", None),
    ("loss-carry-neither", "loss-carryforward", {"is_hightech": False, "is_st_sme": False}, "not_eligible", None),
    ("loss-five-years-any-company", "loss-carryforward-five-years",
     {"has_unrecovered_losses": True, "is_hightech": False, "is_st_sme": False}, "eligible", None),
    ("no-loss-nothing-to-carry", "loss-carryforward-five-years", {"has_unrecovered_losses": False}, "not_eligible", None),
    ("conversion-support-anywhere-in-guizhou", "gz-major-st-achievement-conversion", {"zone": {"level": "none"}},
     "eligible", None),
    ("conversion-support-not-in-guizhou", "gz-major-st-achievement-conversion",
     {"province": "云南", "zone": {"level": "none"}}, "not_eligible", None),
    ("conversion-support-province-unknown", "gz-major-st-achievement-conversion",
     {"province": DROP, "zone": {"level": "none"}}, "needs_info", {"province"}),
    ("ip-pledge-ip-unknown", "gz-ip-pledge-financing", {"ip": DROP}, "needs_info", {"ip"}),
    ("reward-obligation-with-own-agreement", "researchers-conversion-reward", {"has_reward_agreement": True},
     "not_eligible", None),
    ("reward-obligation-applies", "researchers-conversion-reward", {}, "eligible", None),
]


@pytest.mark.parametrize("case, rule_id, overrides, status, asked", CASES, ids=[c[0] for c in CASES])
def test_profile_case(by_id, case, rule_id, overrides, status, asked):
    verdict, = match(_profile(overrides), [by_id[rule_id]], today=TODAY)
    assert verdict.status == status, format_verdict(verdict)
    if asked is not None:
        assert set(verdict.missing) == asked
        assert all(q.endswith("？") for q in verdict.missing.values())
    else:
        assert verdict.missing == {}


def test_the_table_is_big_enough():
    assert len(CASES) >= 30


def test_shipped_rules_pass_the_validator(rules, clauses, amendments):
    assert validate_rules(rules, clauses, amendments) == []


def test_rules_cover_the_issue(by_id):
    for rule_id in (LISTING, TALENT, HITECH, SUPER, SMALL, "gz-major-st-achievement-conversion", "gz-talent-housing",
                    "gz-ip-pledge-financing", "hitech-enterprise-tax-rate", "tech-transfer-income-relief",
                    "venture-capital-deduction", "researchers-conversion-reward"):
        assert rule_id in by_id
    assert by_id[TALENT].scope == "national_hitech_zones"
    assert "guizhou-hitech-zones-plan-2021#四.(八)" in by_id["gz-major-st-achievement-conversion"].clauses
    assert "enterprise-income-tax-law-2018#第二十八条" in by_id["hitech-enterprise-tax-rate"].clauses


def test_rules_citing_amended_clauses_carry_the_note(rules, amendments):
    for rule in rules:
        amended = [c for c in rule.clauses if c in amendments]
        assert (rule.amendment_note is not None) == bool(amended), rule.id
        if amended:
            assert rule.amendment_note == amendments[amended[0]].note


def test_condition_fields_all_have_labels_and_questions():
    for name in condition_fields():
        assert facts()[name].label, name


def _dump(rule: Rule) -> dict:
    return rule.model_dump(by_alias=True, exclude_none=True)


def _planted(by_id, rule_id, change) -> Rule:
    data = _dump(by_id[rule_id])
    change(data)
    return Rule.model_validate(data)


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


PLANTED = [
    ("nonexistent-clause-id", LISTING, _set(["clauses"], ["guizhou-hitech-zones-plan-2021#四.(九十九)"]),
     "引用的条款不存在"),
    ("number-not-in-clause", LISTING, lambda d: (_set(["conditions", 1, "value"], 6)(d),
                                                  _set(["conditions", 1, "wording"], "内部研发投入强度超过6%")(d)),
     "不在所引条款"),
    ("threshold-disagrees-with-wording", LISTING, _set(["conditions", 2, "value"], 4), "数值 4 不在措辞"),
    ("operator-disagrees-with-wording", LISTING, _set(["conditions", 1, "op"], ">="), "应为 >"),
    ("benefit-amount-not-in-clause", "gz-major-st-achievement-conversion",
     _set(["benefit", "amount"], "不超过2000万元"), "数字 2000 不在所引条款中"),
    ("band-edge-operator", HITECH, _set(["conditions", 4, "bands", 2, "when", "op"], ">"), "应为 >="),
    ("band-value", HITECH, _set(["conditions", 4, "bands", 0, "value"], 6), "数值 6 不在措辞"),
    ("unknown-profile-field", LISTING, _set(["conditions", 0, "field"], "is_rocket_company"), "不是企业画像中的字段"),
    ("unit-does-not-fit-field", LISTING, _set(["conditions", 2, "unit"], "%"), "单位"),
    ("amendment-note-dropped", SUPER, lambda d: d.pop("amendment_note"), "amendment_note"),
    ("amendment-wording-not-in-note", SMALL, _set(["conditions", 1, "wording"], "年度应纳税所得额不超过500万元"),
     "不在 amendment_note 中"),
    ("condition-clause-not-cited", HITECH, _set(["conditions", 0, "clause"], "enterprise-income-tax-law-2018#第二十八条"),
     "不在本规则的 clauses 中"),
]


@pytest.mark.parametrize("case, rule_id, change, expected", PLANTED, ids=[p[0] for p in PLANTED])
def test_validator_catches_a_planted_bad_rule(by_id, clauses, amendments, case, rule_id, change, expected):
    problems = validate_rules([_planted(by_id, rule_id, change)], clauses, amendments)
    assert problems, case
    assert any(expected in p for p in problems), problems
    assert all(p.startswith(rule_id) for p in problems)


def test_validator_flags_duplicate_ids(rules, clauses):
    assert any("重复" in p for p in validate_rules([rules[0], rules[0]], clauses))


BAD_FILES = [
    ("bad-operator", ("- id: r1\n  name: 测试\n  scope: national\n  benefit: {text: x}\n  clauses: [a#b]\n"
                      "  conditions:\n    - {field: revenue_wan, op: '>>', value: 1, wording: 超过1}\n"),
     ["r1", "conditions[0].op"]),
    ("missing-wording", ("- id: r2\n  name: 测试\n  scope: national\n  benefit: {text: x}\n  clauses: [a#b]\n"
                         "  conditions:\n    - {field: revenue_wan, op: '>', value: 1}\n"),
     ["r2", "conditions[0].wording"]),
    ("unknown-key", "- id: r3\n  name: 测试\n  scope: national\n  benefit: {text: x}\n  clauses: [a#b]\n  colour: red\n",
     ["r3", "colour"]),
    ("bad-scope", "- id: r4\n  name: 测试\n  scope: moon\n  benefit: {text: x}\n  clauses: [a#b]\n", ["r4", "scope"]),
    ("no-clauses", "- id: r5\n  name: 测试\n  scope: national\n  benefit: {text: x}\n  clauses: []\n", ["r5", "clauses"]),
    ("rule-without-id", "- name: 测试\n  scope: national\n  benefit: {text: x}\n  clauses: [a#b]\n", ["第 1 条规则", "id"]),
    ("not-a-list", "id: r6\n", ["规则列表"]),
    ("yaml-syntax", "- id: r7\n  name: [unclosed\n", ["YAML", "行"]),
]


@pytest.mark.parametrize("case, text, expected", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_malformed_rule_file_names_file_rule_and_field(tmp_path, case, text, expected):
    (tmp_path / "broken.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(DocumentError) as info:
        read_rule_file(tmp_path / "broken.yaml")
    message = str(info.value)
    assert "broken.yaml" in message and "\n" not in message
    for part in expected:
        assert part in message, message


def test_a_duplicate_rule_id_in_a_later_file_refuses_that_file(tmp_path, clauses):
    rule = ("- id: same\n  name: 测试\n  scope: national\n  benefit: {text: x}\n"
            "  clauses: ['enterprise-income-tax-law-2018#第二十八条']\n")
    (tmp_path / "a.yaml").write_text(rule, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(rule, encoding="utf-8")
    loaded = load_rules(tmp_path, clauses)
    assert [r.source_file for r in loaded.rules] == ["a.yaml"]
    assert loaded.refused == ("规则文件 b.yaml 未载入：规则 same：id 与 a.yaml 中的规则重复",)


def test_verdict_cites_the_rule_clauses_and_is_frozen(by_id):
    verdict, = match(_profile({}), [by_id[HITECH]], today=TODAY)
    assert verdict.citations == by_id[HITECH].clauses
    assert all(c.clause_id in verdict.citations for c in verdict.conditions)
    assert {c.status for c in verdict.conditions} == {"met"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.status = "eligible"
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.conditions[0].status = "met"


def test_band_condition_reports_the_band_that_applies(by_id):
    verdict, = match(_profile({"revenue_wan": 20000, "rd_share_3y": 3.5}), [by_id[HITECH]], today=TODAY)
    band = next(c for c in verdict.conditions if c.field == "rd_share_3y")
    assert band.status == "not_met" and band.threshold == 4
    assert band.wording == "最近一年销售收入在5,000万元至2亿元（含）的企业，比例不低于4%"


def test_amended_rule_verdict_shows_current_benefit_and_editor_note(by_id, amendments):
    verdict, = match(_profile({}), [by_id[SUPER]], today=TODAY)
    assert "100%" in verdict.current_benefit and "50%" in verdict.benefit
    text = format_verdict(verdict)
    assert "【编者注】" in text and amendments[
        "enterprise-income-tax-law-implementing-regulations-2024#第九十五条"].note in text
    excluded = next(c for c in verdict.conditions if c.field == "excluded_industry")
    assert excluded.source == "amendment" and "【编者注】" in condition_line(excluded)


def test_rule_out_of_its_validity_period_is_not_eligible(by_id):
    verdict, = match(_profile({}), [by_id[HITECH]], today=date(2015, 12, 31))
    assert verdict.status == "not_eligible"
    assert verdict.unmet[0].field == "today" and verdict.unmet[0].wording == "本办法自2016年1月1日起实施"


def test_profile_as_of_is_the_default_day(by_id):
    profile = _profile({"as_of": "2028-01-01"})
    verdict, = match(profile, [by_id[SMALL]])
    assert verdict.current_benefit is None  # the amendment's 5% burden ended on 2027-12-31


def test_obligation_reads_as_applies(by_id):
    verdict, = match(_profile({}), [by_id["hitech-enterprise-annual-report"]], today=TODAY)
    assert verdict.kind == "obligation" and verdict.status_label == "适用"


def test_revenue_question_is_worded_for_the_enterprise(rules):
    verdicts = match(_profile({"revenue_wan": DROP}), rules, today=TODAY)
    assert "贵公司上一年度的营业收入是多少（万元）？" in [q for v in verdicts for q in v.missing.values()]


def test_not_eligible_verdicts_ask_nothing(by_id):
    verdict, = match(_profile({"rd_intensity": 4, "revenue_wan": DROP}), [by_id[LISTING]], today=TODAY)
    assert verdict.status == "not_eligible" and verdict.missing == {}


def test_example_profiles_load_and_match(rules):
    files = sorted((ROOT / "eval" / "profiles").iterdir())
    assert files
    for path in files:
        verdicts = match(load_profile(path), rules, today=TODAY)
        assert len(verdicts) == len(rules)
        assert all(format_verdict(v) for v in verdicts)


@pytest.mark.parametrize("wording, op", [
    ("超过5%", ">"), ("不低于10%", ">="), ("一年以上", ">="), ("不超过300万元", "<="), ("2亿元以上", ">="),
    ("小于5,000万元（含）", "<="), ("年龄可放宽至65岁", "<="), ("低于3%", "<"), ("创业投资企业", None),
])
def test_operator_implied_by_wording(wording, op):
    assert implied_op(wording) == op
