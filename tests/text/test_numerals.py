"""Chinese, Arabic and mixed numerals: one value however a number is written."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.text.numerals import clause_numeral, iso_date, numbers, parse_number, to_chinese_numeral, written_values


@pytest.mark.parametrize(
    "text, value",
    [
        ("四亿", 400_000_000),
        ("1.5亿", 150_000_000),
        ("一点五亿", 150_000_000),
        ("三千万", 30_000_000),
        ("5,000万", 50_000_000),
        ("１，０００万", 10_000_000),
        ("1亿5000万", 150_000_000),
        ("一亿五千万", 150_000_000),
        ("3万亿", 3 * 10**12),
        ("十万", 100_000),
        ("百分之五", 5),
        ("百分之五十", 50),
        ("5%", 5),
        ("５％", 5),
        ("5‰", Decimal("0.5")),
        ("二〇二五", 2025),
        ("二零二一", 2021),
        ("十", 10),
        ("十四", 14),
        ("二十", 20),
        ("一百零五", 105),
        ("一百一十", 110),
        ("一千零五", 1005),
        ("两千", 2000),
        ("两", 2),
        ("一万五", 15_000),  # spoken: 一万五 is 15000, not 10005
        ("三千五", 3_500),
        ("一百五", 150),
        ("一万零五", 10_005),
        ("5千", 5_000),
        ("三点一四", Decimal("3.14")),
        ("-100万", -1_000_000),
        ("2.5", Decimal("2.5")),
    ],
)
def test_a_numeral_is_read_as_its_value(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["十四五", "万", "十百", "第一", "五点", "abc", "", "一二三四五六七八九十"])
def test_what_is_not_one_numeral_reads_as_none(text):
    assert parse_number(text) is None


@pytest.mark.parametrize(
    "n, numeral",
    [(0, "零"), (1, "一"), (10, "十"), (12, "十二"), (20, "二十"), (95, "九十五"), (100, "一百"), (105, "一百零五"),
     (110, "一百一十"), (132, "一百三十二"), (1005, "一千零五"), (1010, "一千零一十"), (1259, "一千二百五十九"),
     (10_005, "一万零五"), (100_000, "十万"), (110_000, "十一万"), (100_010_000, "一亿零一万")],
)
def test_numbers_are_written_as_legal_texts_number_articles(n, numeral):
    assert to_chinese_numeral(n) == numeral
    assert parse_number(numeral) == n


@pytest.mark.parametrize("raw, numeral", [("95", "九十五"), ("1259", "一千二百五十九"), ("九十五", "九十五"), ("0", "0")])
def test_a_clause_number_typed_in_digits_reads_as_the_clause_path_writes_it(raw, numeral):
    assert clause_numeral(raw) == numeral


def _keys(text: str) -> list[tuple[str, Decimal]]:
    return [n.key for n in numbers(text)]


@pytest.mark.parametrize(
    "forms",
    [
        ("1000万元", "一千万元", "1,000万元", "１，０００万元", "1000 万元"),
        ("50%", "百分之五十", "５０％"),
        ("三年", "3年"),
        ("五个月", "5个月"),
        ("二〇二五年", "2025年"),
        ("第九十五条", "第95条"),
        ("4个亿", "四亿", "4亿", "400000000", "四个亿"),
        ("1.5亿元", "1亿5000万元", "一亿五千万元", "15000万元"),
        ("0.5%", "5‰"),
    ],
)
def test_the_same_figure_written_differently_has_one_value(forms):
    values = {n.value for form in forms for n in numbers(form)}
    kinds = {n.kind for form in forms for n in numbers(form)}
    assert len(values) == 1 and len(kinds) == 1, [(form, numbers(form)) for form in forms]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("给予不超过1000万元支持", [("amount", 10_000_000)]),
        ("5,000万元至2亿元", [("amount", 50_000_000), ("amount", 200_000_000)]),
        ("500 万元/亩", [("amount", 5_000_000)]),
        ("百分之十五", [("percent", 15)]),
        ("2.5%", [("percent", Decimal("2.5"))]),
        ("第九十五条", [("ref", 95)]),
        ("营收4个亿", [("amount", 400_000_000)]),
        ("营收3个多亿", [("amount", 300_000_000)]),  # "a bit over 3亿": read as its lower bound
        ("补贴三千万", [("amount", 30_000_000)]),
        ("5，10，100家", [("amount", 5), ("amount", 10), ("amount", 100)]),  # a list, not 10100
    ],
)
def test_figures_in_text_are_found_with_their_values(text, expected):
    assert _keys(text) == [(kind, Decimal(value)) for kind, value in expected]


@pytest.mark.parametrize(
    "text",
    ["十四五规划", "一事一议", "千亿级产业", "第一", "一家企业", "一个团队", "统一日程", "唯一人选", "逐一核对",
     "千万不要", "一次性", "一二三四", "十万火急"],
)
def test_chinese_numerals_that_are_not_quantities_are_not_figures(text):
    assert numbers(text) == []


def test_a_figure_knows_its_unit_and_where_it_is_in_the_original_text():
    text = "企业注册成立５个月，营收３，０００万元，〔2016〕32号"
    found = numbers(text)
    assert [(n.text, n.unit) for n in found] == [("５个月", "个月"), ("３，０００万元", "元"), ("2016", ""), ("32号", "号")]
    assert all(text[n.start : n.end] == n.text for n in found)


@pytest.mark.parametrize(
    "text, money",
    [("营收4亿", True), ("三千万", True), ("500元", True), ("500万人", False), ("5年", False), ("50%", False)],
)
def test_a_figure_with_wan_or_yi_and_no_other_unit_is_money(text, money):
    assert [n.is_money for n in numbers(text)] == [money]


@pytest.mark.parametrize(
    "text, values",
    [
        ("最近一年销售收入小于5,000万元（含）", {1, 5000}),
        ("营业收入超过3亿元", {3, 30000}),
        ("不低于百分之五十的比例", {50}),
        ("注册成立一年以上", {1}),
        ("比例不低于10％", {10}),
        ("每年从营业利润中提取", set()),
    ],
)
def test_written_values_are_the_numbers_as_the_text_writes_them(text, values):
    assert written_values(text) == {float(v) for v in values}


@pytest.mark.parametrize(
    "text, whole, iso",
    [
        ("二〇二一年十一月十三日", True, "2021-11-13"),
        ("二○二一年三月一日", True, "2021-03-01"),
        ("2021年11月13日", True, "2021-11-13"),
        ("2021-11-13", True, "2021-11-13"),
        ("2021.11.13", True, "2021-11-13"),
        ("２０２１年１１月１３日", True, "2021-11-13"),
        ("于2021年11月13日印发", False, "2021-11-13"),
        ("于2021年11月13日印发", True, ""),
        ("2021年2月30日", True, ""),  # no such day
        ("二〇二一年十三月一日", True, ""),
        ("没有日期", False, ""),
    ],
)
def test_dates_are_read_in_either_script(text, whole, iso):
    assert iso_date(text, whole=whole) == iso
