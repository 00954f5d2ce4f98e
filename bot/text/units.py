"""Quantities in one unit each: money in 万元 (the unit policy thresholds and profiles use), durations
in 年, ages in 岁, head counts in 人, shares in %. 4个亿 = 4亿元 = 40000万元 = 400000000元.

`to_wan` and `parse_money` read money, `amounts` finds it in text, `format_wan` writes it back
(30000 -> 3亿元, 500 -> 500万元); `in_fact_unit` and `convert` move any quantity to its unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from .numerals import numbers, parse_number
from .width import compact

# 1 <word> in 万元. A unit ending in 元 is the same as without it (亿元 = 亿); 元 alone is one yuan.
_WAN_PER = {"万亿": Decimal(10**8), "亿": Decimal(10**4), "千万": Decimal(1000), "百万": Decimal(100),
            "十万": Decimal(10), "万": Decimal(1), "千": Decimal("0.1"), "": Decimal("0.0001")}
# unit as written -> (canonical unit, factor): 6个月 = 0.5年, 60周岁 = 60岁.
_CANONICAL = {"%": ("%", Decimal(1)), "‰": ("%", Decimal("0.1")), "个百分点": ("%", Decimal(1)),
              "年": ("年", Decimal(1)), "周年": ("年", Decimal(1)), "个月": ("年", Decimal(1) / 12),
              "岁": ("岁", Decimal(1)), "周岁": ("岁", Decimal(1)),
              "人": ("人", Decimal(1)), "名": ("人", Decimal(1)),
              "日": ("日", Decimal(1)), "天": ("日", Decimal(1))}


def is_money_unit(unit: str) -> bool:
    """亿元, 万, 个亿, 千万元, 元: a unit money is written in."""
    return bool(unit.strip()) and _money_word(unit) in _WAN_PER


def to_wan(value: float | Decimal, unit: str) -> float:
    """Money in 万元: (4, 亿) -> 40000, (4, 个亿) -> 40000, (3000, 万元) -> 3000, (500000, 元) -> 50."""
    if not is_money_unit(unit):
        raise ValueError(f"not a money unit: {unit!r}")
    return float(Decimal(str(value)) * _WAN_PER[_money_word(unit)])


def _money_word(unit: str) -> str:
    """亿元 -> 亿, 个亿 -> 亿, 元 -> "" (the key of _WAN_PER)."""
    return unit.replace("个", "").strip().removesuffix("元")


_MONEY_TEXT = re.compile(r"-?[\d.零〇一二两三四五六七八九十百千万亿点]+")


def parse_money(text: str) -> float | None:
    """One sum as a person writes it, in 万元: 3亿元 -> 30000, 4个亿 -> 40000, 5,000万 -> 5000,
    三千万 -> 3000, 1亿5000万 -> 15000, 500000元 -> 50, -100万 -> -100; a bare number is already
    万元 (3000 -> 3000). None if `text` is not one sum."""
    s = compact(text).replace("个", "")
    yuan = s.endswith("元")
    s = s.removesuffix("元")
    value = parse_number(s) if _MONEY_TEXT.fullmatch(s) else None
    if value is None:
        return None
    return float(value / 10**4) if yuan or "万" in s or "亿" in s else float(value)


@dataclass(frozen=True)
class Amount:
    """A sum of money in a text: as written, where, and in 万元."""

    text: str
    wan: float
    start: int
    end: int


def amounts(text: str) -> list[Amount]:
    """Every sum of money in `text`, left to right: 4个亿, 三千万, 1,000万元, 500元, 1亿5000万元.
    A figure with 万/亿 and no other unit counts as money (营收4亿); 500万人 does not."""
    return [Amount(n.text, float(n.value / 10**4), n.start, n.end) for n in numbers(text) if n.is_money]


def format_wan(wan: float) -> str:
    """万元 as a person reads it: 30000 -> 3亿元, 15000 -> 1.5亿元, 500 -> 500万元, 0.5 -> 0.5万元."""
    if abs(wan) >= 10000:
        return f"{_plain(wan / 10000)}亿元"
    return f"{_plain(wan)}万元"


def _plain(x: float) -> str:
    """No exponent, at most 4 decimals, no trailing zeros: 1e6 -> 1000000, 1.23456 -> 1.2346."""
    text = format(Decimal(str(round(x, 4))), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def in_fact_unit(value: float | Decimal, unit: str) -> tuple[float, str]:
    """A quantity in the unit facts are kept in: (3, 亿元) -> (30000, 万元), (6, 个月) -> (0.5, 年),
    (60, 周岁) -> (60, 岁); a unit with no other form is returned as it is."""
    amount, to = _in_fact_unit(Decimal(str(value)), unit)
    return float(amount), to


def convert(value: float | Decimal, unit: str, to: str) -> float:
    """`value` in `unit` expressed in `to`: (2, 亿元, 万元) -> 20000, (1, 年, 个月) -> 12; ValueError
    if they measure different things (人 and 万元)."""
    have, have_unit = _in_fact_unit(Decimal(str(value)), unit)
    one, want_unit = _in_fact_unit(Decimal(1), to)
    if have_unit != want_unit:
        raise ValueError(f"cannot convert {unit!r} to {to!r}")
    return float(have / one)


def _in_fact_unit(value: Decimal, unit: str) -> tuple[Decimal, str]:
    if is_money_unit(unit):
        return value * _WAN_PER[_money_word(unit)], "万元"
    to, factor = _CANONICAL.get(unit, (unit, Decimal(1)))
    return value * factor, to
