"""Money in 万元 and quantities in one unit each, read and written back."""

from __future__ import annotations

import pytest

from bot.text.units import amounts, convert, format_wan, in_fact_unit, is_money_unit, parse_money, to_wan


@pytest.mark.parametrize(
    "value, unit, wan",
    [(4, "亿", 40000), (4, "个亿", 40000), (3.3, "亿元", 33000), (3000, "万元", 3000), (3000, "万", 3000),
     (3, "千万", 3000), (2, "百万元", 200), (5, "千元", 0.5), (500000, "元", 50), (1, "万亿元", 100_000_000)],
)
def test_money_is_converted_to_wan(value, unit, wan):
    assert to_wan(value, unit) == wan


@pytest.mark.parametrize("unit", ["", "年", "%", "人"])
def test_a_unit_that_is_not_money_is_refused(unit):
    assert not is_money_unit(unit)
    with pytest.raises(ValueError):
        to_wan(1, unit)


@pytest.mark.parametrize(
    "text, wan",
    [
        ("3亿元", 30000), ("4个亿", 40000), ("1.5亿", 15000), ("５０００万元", 5000), ("5,000万", 5000),
        ("三千万", 3000), ("一千万元", 1000), ("1亿5000万", 15000), ("500000元", 50), ("三千元", 0.3),
        ("-100万", -100), ("3000", 3000),  # a bare number is already 万元, as profiles write it
        (" 3亿元 ", 30000),
    ],
)
def test_a_sum_is_read_in_wan(text, wan):
    assert parse_money(text) == wan


@pytest.mark.parametrize("text", ["", "abc", "5%", "三年", "3亿元左右", "百分之五"])
def test_what_is_not_a_sum_reads_as_none(text):
    assert parse_money(text) is None


def test_sums_are_found_in_a_question_however_written():
    found = amounts("营收4个亿，听说能补三千万，手续费500元，园区有500万人，另有1亿5000万元")
    assert [(a.text, a.wan) for a in found] == [("4个亿", 40000), ("三千万", 3000), ("500元", 0.05),
                                                ("1亿5000万元", 15000)]


@pytest.mark.parametrize(
    "wan, text",
    [(30000, "3亿元"), (15000, "1.5亿元"), (10000, "1亿元"), (500, "500万元"), (0.5, "0.5万元"),
     (12345.67891, "1.2346亿元"), (1e10, "1000000亿元"), (-200, "-200万元")],
)
def test_wan_is_written_as_a_person_reads_it(wan, text):
    assert format_wan(wan) == text


@pytest.mark.parametrize(
    "value, unit, expected",
    [(3, "亿元", (30000, "万元")), (6, "个月", (0.5, "年")), (60, "周岁", (60, "岁")), (300, "名", (300, "人")),
     (5, "‰", (0.5, "%")), (5, "%", (5, "%")), (30, "天", (30, "日")), (2, "倍", (2, "倍"))],
)
def test_a_quantity_is_kept_in_one_unit(value, unit, expected):
    assert in_fact_unit(value, unit) == expected


@pytest.mark.parametrize(
    "value, unit, to, expected",
    [(2, "亿元", "万元", 20000), (20000, "万元", "亿元", 2), (1, "年", "个月", 12), (18, "个月", "年", 1.5),
     (500000, "元", "万元", 50)],
)
def test_a_quantity_converts_between_units_of_one_kind(value, unit, to, expected):
    assert convert(value, unit, to) == expected


def test_units_of_different_kinds_do_not_convert():
    with pytest.raises(ValueError):
        convert(300, "人", "万元")
