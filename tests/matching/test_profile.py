"""Enterprise profiles: lenient about how a value is written, strict about what it means; every
malformed profile is one ProfileError line that names the field."""

from __future__ import annotations

import json
from datetime import date

import pytest
from pydantic import ValidationError

from bot.errors import PolicyBotError, ProfileError
from bot.matching.profile import EnterpriseProfile, load_profile, parse_profile
from bot.text.facts import fact

MALFORMED = [
    # (case, profile data, field named, words in the message)
    ("negative-revenue", {"revenue_wan": -100}, "revenue_wan", "不能为负数"),
    ("revenue-not-a-number", {"revenue_wan": "很多"}, "revenue_wan", "应为数字"),
    ("revenue-a-list", {"revenue_wan": [1, 2]}, "revenue_wan", "应为数字"),
    ("revenue-a-boolean", {"revenue_wan": True}, "revenue_wan", "应为数字"),
    ("employees-not-a-number", {"employees": "abc"}, "employees", "应为数字"),
    ("employees-fractional", {"employees": 10.5}, "employees", "应为整数"),
    ("negative-employees", {"employees": -1}, "employees", "不能为负数"),
    ("bool-not-yes-no", {"is_hightech": "maybe"}, "is_hightech", "是/否"),
    ("unknown-zone-level", {"zone": {"name": "某园区", "level": "city"}}, "zone.level", "national"),
    ("zone-level-missing", {"zone": {"name": "某园区"}}, "zone.level", "必须填写"),
    ("zone-as-plain-text", {"zone": "贵阳国家高新区"}, "zone", "level: national"),
    ("rd-intensity-as-fraction", {"rd_intensity": 0.06}, "rd_intensity", "应填百分数，如 6 表示 6%"),
    ("rd-intensity-fraction-as-text", {"rd_intensity": "0.06"}, "rd_intensity", "应填百分数，如 6 表示 6%"),
    ("domestic-share-as-fraction", {"domestic_rd_share": 0.8}, "domestic_rd_share", "应填百分数，如 6 表示 6%"),
    ("hightech-income-share-as-fraction", {"hightech_income_share": 0.65}, "hightech_income_share", "应填百分数"),
    ("share-over-100", {"hightech_income_share": 120}, "hightech_income_share", "应不大于 100"),
    ("talent-age-not-a-number", {"talents": [{"age": "old"}]}, "talents[0].age", "应为数字"),
    ("talent-too-young", {"talents": [{"age": 12}]}, "talents[0].age", "应不小于 16"),
    ("talents-not-a-list", {"talents": "John"}, "talents", "应为列表"),
    ("bad-registration-date", {"registration_date": "last year"}, "registration_date", "应为日期"),
    ("registration-in-the-future", {"registration_date": "2999-01-01"}, "registration_date", "晚于今天"),
    ("more-st-staff-than-employees", {"st_staff": 50, "employees": 10}, "st_staff", "不能多于"),
    ("misspelt-field", {"revnue_wan": 1}, "revnue_wan", "是否想写 revenue_wan"),
    ("unknown-listing-status", {"listing_status": "maybe"}, "listing_status", "unlisted"),
    ("negative-patent-count", {"ip": {"invention_patents": -1}}, "ip.invention_patents", "不能为负数"),
    ("unknown-ip-kind", {"ip": {"trademarks": 3}}, "ip.trademarks", "未知字段"),
]


@pytest.mark.parametrize("case, data, field, words", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_profile_is_one_line_naming_the_field(case, data, field, words):
    with pytest.raises(ProfileError) as info:
        parse_profile(data)
    error = info.value
    message = str(error)
    assert error.field == field
    assert field in message and words in message, message
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith("企业画像")
    assert isinstance(error, PolicyBotError)


def test_profile_must_be_a_mapping():
    with pytest.raises(ProfileError, match="字段映射"):
        parse_profile([1, 2, 3])


@pytest.mark.parametrize("data, field, value", [
    ({"rd_intensity": "6%"}, "rd_intensity", 6.0),
    ({"rd_intensity": "6％"}, "rd_intensity", 6.0),
    ({"rd_intensity": "0.5%"}, "rd_intensity", 0.5),  # a real sub-1% intensity, written unambiguously
    ({"rd_intensity": 0}, "rd_intensity", 0.0),
    ({"rd_intensity": 1}, "rd_intensity", 1.0),
    ({"rd_intensity": 150}, "rd_intensity", 150.0),  # R&D spend above revenue happens in start-ups
    ({"revenue_wan": "3亿元"}, "revenue_wan", 30000.0),
    ({"revenue_wan": "5,000万元"}, "revenue_wan", 5000.0),
    ({"revenue_wan": "500000元"}, "revenue_wan", 50.0),
    ({"revenue_wan": "4个亿"}, "revenue_wan", 40000.0),
    ({"revenue_wan": "三千万"}, "revenue_wan", 3000.0),
    ({"revenue_wan": "1亿5000万"}, "revenue_wan", 15000.0),
    ({"taxable_income_wan": -80}, "taxable_income_wan", -80.0),  # a loss year
    ({"is_hightech": "是"}, "is_hightech", True),
    ({"is_hightech": "否"}, "is_hightech", False),
    ({"listing_status": "已上市"}, "listing_status", "listed"),
])
def test_values_written_in_everyday_forms(data, field, value):
    assert getattr(parse_profile(data), field) == value


@pytest.mark.parametrize("level, expected", [("国家级", "national"), ("省级", "provincial"), ("none", "none")])
def test_zone_level_in_chinese_or_english(level, expected):
    assert parse_profile({"zone": {"level": level}}).zone.level == expected


def test_profile_is_frozen():
    profile = parse_profile({"revenue_wan": 100})
    with pytest.raises(ValidationError):
        profile.revenue_wan = 200


@pytest.mark.parametrize("data, name, value, ask", [
    ({"st_staff": 10, "employees": 100}, "st_staff_share", 10.0, ()),
    ({"st_staff": 10}, "st_staff_share", None, ("employees",)),
    ({}, "st_staff_share", None, ("st_staff", "employees")),
    ({"rd_expense_wan": 600, "revenue_wan": 10000}, "rd_intensity", 6.0, ()),
    ({"rd_intensity": 4, "rd_expense_wan": 600, "revenue_wan": 10000}, "rd_intensity", 4.0, ()),
    ({"registration_date": "2024-06-01"}, "registered_years", 1.0, ()),
    ({"registered_years": 2.5}, "registered_years", 2.5, ()),
    ({"ip": {"utility_models": 3}}, "has_ip", True, ()),
    ({"ip": {}}, "has_ip", False, ()),
    ({"ip": {}}, "owns_core_ip", False, ()),
    ({"ip": {"invention_patents": 0}}, "has_ip", None, ("ip",)),  # other kinds of IP not given
    ({"ip": {"invention_patents": 0}}, "owns_core_ip", None, ("owns_core_ip",)),
    ({"ip": {"invention_patents": 1}}, "owns_core_ip", None, ("owns_core_ip",)),
    ({"is_st_sme": True}, "hightech_or_st_sme", True, ()),
    ({"is_hightech": False}, "hightech_or_st_sme", None, ("is_st_sme",)),
    ({"is_hightech": True}, "is_tech_enterprise", True, ()),
    ({"zone": {"name": "安顺国家高新区", "level": "national"}}, "in_guizhou", True, ()),
    ({"province": "四川省"}, "in_guizhou", False, ()),
    ({"zone": {"level": "provincial"}}, "in_guizhou", None, ("province",)),
    ({"revenue_wan": 100}, "revenue_wan", 100.0, ()),
    ({}, "revenue_wan", None, ("revenue_wan",)),
])
def test_facts_the_matcher_reads(data, name, value, ask):
    fact = parse_profile(data).fact(name, today=date(2025, 6, 1))
    assert fact.value == value and fact.ask == ask


def test_registration_one_day_short_of_a_year():
    fact = parse_profile({"registration_date": "2024-06-02"}).fact("registered_years", today=date(2025, 6, 1))
    assert 0.99 < fact.value < 1


def test_talent_is_foreign_unless_mainland_chinese():
    talents = parse_profile({"talents": [{"nationality": "德国"}, {"nationality": "中国"},
                                         {"nationality": "中国香港"}, {}]}).talents
    assert [t.is_foreign for t in talents] == [True, False, True, None]


def test_every_askable_field_has_a_question():
    for name in list(EnterpriseProfile.model_fields) + ["talents.age", "talents.is_high_end"]:
        if name in ("name", "registration_date", "hightech_certificate_date", "as_of"):
            continue
        assert fact(name).question.endswith("？"), name


def test_the_schema_describes_every_field_in_the_words_of_its_fact():
    schema = EnterpriseProfile.model_json_schema()
    described = {f"{model}.{name}": field.get("description")
                 for model, part in [("EnterpriseProfile", schema), *schema["$defs"].items()]
                 for name, field in part["properties"].items()}
    assert all(described.values()), [name for name, words in described.items() if not words]
    assert described["EnterpriseProfile.revenue_wan"] == fact("revenue_wan").description == "营业收入（万元）：上一年度，即销售收入"
    assert described["EnterpriseProfile.rd_intensity"] == "研发投入强度（%）：研发费用占营业收入的百分比，6 表示 6%"
    assert described["Zone.level"] == "高新区级别：national 国家级高新区 / provincial 省级高新区 / none 不在高新区"
    assert described["Talent.age"] == "人才年龄（岁）" and described["IPCounts.utility_models"] == "实用新型专利（件）"


def test_load_profile_from_yaml_and_json(tmp_path):
    data = {"revenue_wan": 5000, "rd_intensity": 6, "zone": {"name": "贵阳国家高新区", "level": "national"},
            "talents": [{"age": 63, "nationality": "德国", "position": "总工程师"}]}
    (tmp_path / "p.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "p.yaml").write_text(
        "revenue_wan: 5000\nrd_intensity: 6\nzone: {name: 贵阳国家高新区, level: national}\n"
        "talents:\n  - {age: 63, nationality: 德国, position: 总工程师}\n", encoding="utf-8")
    assert load_profile(tmp_path / "p.json") == load_profile(tmp_path / "p.yaml")


@pytest.mark.parametrize("name, text, words", [
    ("broken.yaml", "revenue_wan: [1, 2\n", "YAML 格式错误"),
    ("broken.json", '{"revenue_wan": 1,}', "JSON 格式错误"),
    ("empty.yaml", "", "空的"),
    ("list.yaml", "- 1\n- 2\n", "字段映射"),
    ("percent.yaml", "rd_intensity: 0.06\n", "应填百分数，如 6 表示 6%"),
])
def test_bad_profile_files(tmp_path, name, text, words):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert name in str(info.value) and words in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_profile_file(tmp_path):
    with pytest.raises(ProfileError, match="不存在"):
        load_profile(tmp_path / "nope.yaml")
