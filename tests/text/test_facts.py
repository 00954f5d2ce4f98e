"""The fact vocabulary: one key per fact, old keys as aliases, cue words that find the fact in text."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.text.facts import canonical, canonical_key, fact, fact_for, facts

RULES = Path(__file__).resolve().parents[2] / "corpus" / "rules"


@pytest.mark.parametrize(
    "key, label, unit, question",
    [
        ("revenue_wan", "营业收入", "万元", "贵公司上一年度的营业收入是多少（万元）？"),
        ("rd_intensity", "研发投入强度", "%", "贵公司上一年度研发投入占营业收入的比例是多少（%）？"),
        ("st_staff_share", "科技人员占职工总数比例", "%", ""),
        ("employees", "当年职工总数", "人", "贵公司上一纳税年度的职工总数是多少人（高新技术企业认定用）？"),
        ("staff_quarterly_avg", "从业人数（全年季度平均值）", "人",
         "贵公司上一纳税年度的从业人数（含劳务派遣用工，按全年各季度平均值计）是多少人？"),
        ("registered_years", "注册成立年限", "年", "贵公司注册成立多少年了（或成立日期是哪天）？"),
        ("talents.age", "人才年龄", "岁", "贵公司境外人才的年龄分别是多少岁？"),
        ("zone_level", "高新区级别", "", ""),
        ("is_hightech", "高新技术企业", "", "贵公司目前是否持有有效的高新技术企业证书？"),
        ("excluded_industry", "属于研发费用加计扣除不适用行业", "",
         "贵公司是否属于财税〔2015〕119号规定不适用研发费用加计扣除的行业（如烟草制造、住宿餐饮、批发零售、房地产、"
         "租赁和商务服务、娱乐业）？"),
        ("amount_wan", "金额", "万元", ""),
        ("zone.name", "高新区名称", "", ""),
    ],
)
def test_each_fact_has_its_label_unit_and_question(key, label, unit, question):
    f = fact(key)
    assert (f.label, f.unit, f.question) == (label, unit, question)


@pytest.mark.parametrize(
    "alias, key",
    [("st_share", "st_staff_share"), ("age", "talents.age"), ("zone_name", "zone.name"),
     ("zone.level", "zone_level"), ("registered_months", "registered_years"), ("revenue_wan", "revenue_wan")],
)
def test_an_old_key_names_the_same_fact(alias, key):
    assert canonical_key(alias) == key
    assert fact(alias) is fact(key)


@pytest.mark.parametrize(
    "name, value, expected",
    [("registered_months", 18, ("registered_years", 1.5)), ("st_share", 12.5, ("st_staff_share", 12.5)),
     ("age", 63, ("talents.age", 63)), ("zone_name", "贵阳国家高新区", ("zone.name", "贵阳国家高新区"))],
)
def test_a_value_under_an_old_key_moves_to_the_canonical_key_and_unit(name, value, expected):
    assert canonical(name, value) == expected


def test_an_unknown_key_is_an_error():
    with pytest.raises(KeyError):
        fact("revenue")


def test_no_alias_is_also_a_key_or_the_alias_of_two_facts():
    aliases = [a for f in facts().values() for a in f.aliases]
    assert len(aliases) == len(set(aliases))
    assert not set(aliases) & set(facts())


def test_every_fact_a_shipped_rule_compares_is_in_the_vocabulary():
    fields = set()
    for path in RULES.glob("*.yaml"):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8")):
            for cond in rule.get("conditions", []):
                fields.add(cond["field"])
                fields.update(band["when"]["field"] for band in cond.get("bands", []))
    assert fields and fields <= set(facts())


@pytest.mark.parametrize(
    "key, form_label",
    [("revenue_wan", "上一年度营业收入（万元）"), ("rd_intensity", "内部研发投入强度（%，上一年度，6 表示 6%）"),
     ("employees", "当年职工总数（人）"), ("staff_quarterly_avg", "从业人数（人，全年季度平均值）"),
     ("taxable_income_wan", "应纳税所得额（万元）"),
     ("owns_core_ip", "拥有核心知识产权"), ("is_hightech", "高新技术企业")],
)
def test_the_web_form_labels_are_kept(key, form_label):
    assert fact(key).form_label == form_label


@pytest.mark.parametrize(
    "key, value, shown",
    [("revenue_wan", 30000, "3亿元"), ("revenue_wan", 500.0, "500万元"), ("rd_intensity", 6.0, "6%"),
     ("talents.age", 63, "63岁"), ("zone_level", "national", "国家级高新区"), ("listing_status", "preparing", "筹备上市"),
     ("is_hightech", True, "是"), ("employees", None, "—"), ("employees", 1500000, "1500000人"),
     ("registered_years", 8 / 12, "8个月"), ("registered_years", 1.5, "1.5年"), ("registered_years", 0.3, "0.3年")],
)
def test_a_value_is_shown_with_its_unit_or_label(key, value, shown):
    assert fact(key).show(value) == shown


@pytest.mark.parametrize(
    "subject, unit, key",
    [
        ("营收", "万元", "revenue_wan"), ("主营业务收入", "万元", "revenue_wan"), ("销售收入", "万元", "revenue_wan"),
        ("研发投入强度", "%", "rd_intensity"), ("研发费用占比", "%", "rd_intensity"),
        ("研发费用", "万元", "rd_expense_wan"),
        ("研发人员占比", "%", "st_staff_share"),
        ("科技人员占企业当年职工总数的比例", "%", "st_staff_share"),
        ("研发投入占营业收入的比例", "%", "rd_intensity"),
        ("研究开发费用总额占同期销售收入总额的比例", "%", "rd_share_3y"),
        ("企业在中国境内发生的研究开发费用总额占全部研究开发费用总额的比例", "%", "domestic_rd_share"),
        ("近一年高新技术产品（服务）收入占企业同期总收入的比例", "%", "hightech_income_share"),
        ("技术转让收入", "万元", "tech_transfer_income_wan"),  # the longer cue, not 收入
        ("从业人数", "人", "staff_quarterly_avg"), ("职工总数", "人", "employees"), ("科技人员", "人", "st_staff"),
        ("注册成立", "年", "registered_years"), ("股权持有满", "年", "vc_holding_years"),
        ("申请工作许可的", "岁", "talents.age"),  # the only fact in 岁
        ("给予", "万元", None), ("使用时间", "年", None), ("营业收入", "%", None),
    ],
)
def test_a_threshold_is_tied_to_the_fact_its_words_name(subject, unit, key):
    assert fact_for(subject, unit) == key
