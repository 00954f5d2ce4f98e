"""Threshold wording -> comparison: 超过5% is > 5, 不高于5% is <= 5, 一年以上 is >= 1年, 未满18周岁 is < 18岁.

The words and whether each includes the number itself:

    >   超过 高于 大于 多于 突破
    >=  不低于 不少于 不小于 达到 至少 最少 最低 满 …以上 …及以上
    <=  不超过 不高于 不大于 不多于 至多 最多 最高 放宽至 未超过 …以下 …以内 …（含）
    <   未满 不满 低于 少于 小于 不足 不到 未达到

以上, 以下 and 以内 include the number: 《中华人民共和国民法典》第一千二百五十九条 "民法所称的'以上'、
'以下'、'以内'、'届满'，包括本数；所称的'不满'、'超过'、'以外'，不包括本数", and policy texts follow it.
A bracketed （含） makes a bound inclusive (小于5,000万元（含） is <= 5000万元) and stands alone for an
inclusive upper bound as band lists write it; （不含） makes it strict. A range 5,000万元至2亿元 is >= its
first figure and <= its second (adjacent bands settle a shared end by their order). 以外 is left out:
in policy texts it names what is excluded, not a bound.
"""

from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass
from typing import Any

from .numerals import NUMERAL_CHARS, Number, numbers
from .units import in_fact_unit
from .width import fold

OPERATORS = {
    ">": ("超过", "高于", "大于", "多于", "突破"),
    ">=": ("不低于", "不少于", "不小于", "达到", "至少", "最少", "最低", "满"),
    "<=": ("不超过", "不高于", "不大于", "不多于", "至多", "最多", "最高", "放宽至", "放宽到", "未超过"),
    "<": ("未满", "不满", "低于", "少于", "小于", "不足", "不到", "未达到"),
}
AFTER = {">=": ("以上", "及以上", "或以上"), "<=": ("以下", "及以下", "或以下", "以内")}

_OP_OF = {word: op for op, words in OPERATORS.items() for word in words}
_AFTER_OP = {word: op for op, words in AFTER.items() for word in words}


def _alternation(words) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_BEFORE = re.compile(rf"(?:{_alternation(_OP_OF)})[ \t]*(?:在[ \t]*)?$")
_INCLUDED = re.compile(r"[（(][ \t]*(不)?含[^）)\n]{0,8}[）)]")  # （含）, （含本数）, （不含）
_BRACKET = r"(?:[ \t]*[（(][ \t]*不?含[^）)\n]{0,8}[）)])?"
_AFTER_RX = re.compile(rf"{_BRACKET}[ \t]*(?P<word>{_alternation(_AFTER_OP)})?{_BRACKET}")
_RANGE = re.compile(r"[ \t]*(?:至|到|-|~|—|－|～)[ \t]*")
_STOP = re.compile(r"[。；;！？!?\n]")
_INCLUSIVE = {">": ">=", "<": "<="}
_STRICT = {">=": ">", "<=": "<"}
SUBJECT_CHARS = 40  # how far back the measured thing is looked for


@dataclass(frozen=True)
class Threshold:
    """One bound a sentence sets: op and value in the canonical unit (3亿元 -> 30000 万元; 6个月 -> 0.5 年),
    the bound as written (超过3亿元), and the words before it that name what is measured (营业收入)."""

    op: str
    value: float
    unit: str
    text: str
    subject: str
    start: int
    end: int


def find_thresholds(sentence: str) -> list[Threshold]:
    """Every bound in `sentence`, left to right. A figure is a bound when a comparison word precedes
    it (超过, 不低于…), follows it (以上, 以内…) or brackets it (（含）), or when it opens or closes a range."""
    return list(_find_thresholds(sentence))


@lru_cache(maxsize=8192)
def _find_thresholds(sentence: str) -> tuple[Threshold, ...]:
    """Cached: an ask reads the same clause sentences as the asks before it."""
    folded = fold(sentence)
    figures = [n for n in numbers(sentence) if n.kind != "ref"]
    found: list[Threshold] = []
    stop = 0  # where the current sentence part starts: after a stop mark or the previous bound
    low: tuple[Number, int, str] | None = None  # a range's first figure, where it starts, its subject
    for i, n in enumerate(figures):
        if n.start < stop:
            continue  # inside the previous bound: 以上（含5000万元）
        if m := _STOP.search(folded[stop:n.start][::-1]):
            stop = n.start - m.start()
        before = _BEFORE.search(folded, stop, n.start)
        start = before.start() if before else n.start
        after = _AFTER_RX.match(folded, n.end)
        end = after.end() if after.group(0).strip() else n.end
        included = _included(after.group(0))
        op = _OP_OF.get(_word(before)) or _AFTER_OP.get(after.group("word") or "")
        subject = low[2] if low else _subject(sentence, stop, start)
        if low is not None:  # n closes a range
            found.append(_bound(">=", low[0], sentence, low[1], low[0].end, subject, like=n))
            op, low = op or "<=", None
        elif op is None and _opens_range(folded, n, figures[i + 1 : i + 2]):
            low = (n, start, subject)
            continue
        elif op is None and included:
            op = "<="  # 5,000万元（含）
        if op is None or not _measured(n):
            continue
        op = _INCLUSIVE.get(op, op) if included is True else _STRICT.get(op, op) if included is False else op
        found.append(_bound(op, n, sentence, start, end, subject))
        stop = end
    return tuple(found)


def _word(before: re.Match[str] | None) -> str:
    return before.group(0).strip().removesuffix("在").strip() if before else ""


def _measured(n: Number) -> bool:
    """A figure with something to measure: a percent, a sum, or a unit (5年, 300人); not a bare 5."""
    return n.kind == "percent" or n.is_money or bool(n.unit)


def _opens_range(folded: str, n: Number, following: list[Number]) -> bool:
    rng = _RANGE.match(folded, n.end)
    return bool(following) and rng is not None and rng.end() == following[0].start and _measured(following[0])


def _included(after: str) -> bool | None:
    """（含…） -> True, （不含…） -> False, neither -> None."""
    m = _INCLUDED.search(after)
    return None if m is None else m.group(1) is None


def _subject(sentence: str, stop: int, start: int) -> str:
    return sentence[max(stop, start - SUBJECT_CHARS):start].strip(" \t，,、：:").removesuffix("在")


def _bound(op: str, n: Number, sentence: str, start: int, end: int, subject: str,
           like: Number | None = None) -> Threshold:
    """A Threshold from a figure; a range's bare first figure is read with the unit of its second
    (5至10万元: 5万元)."""
    if like is not None and not _measured(n):
        unit_text = re.sub(rf"^[\s\d.,，点{NUMERAL_CHARS}]+", "", like.text)
        n = next(iter(numbers(n.text + unit_text)), n)
    if n.is_money:
        value, unit = float(n.value) / 10**4, "万元"
    else:
        value, unit = in_fact_unit(n.value, n.unit)
    return Threshold(op, value, unit, sentence[start:end], subject, start, end)


def implied_op(wording: str) -> str | None:
    """The comparison a rule's wording states (its last bound's): 超过5% >, 一年以上 >=, 小于5,000万元（含）
    <=, 在5,000万元至2亿元（含） <=, 未满3年 <; None when it states none (创业投资企业)."""
    found = find_thresholds(wording)
    return found[-1].op if found else None


def compare(value: Any, op: str, threshold: Any) -> bool:
    """Whether `value` `op` `threshold` holds: > >= < <= on numbers (to 6 decimals, so 5.0000001 is not
    over 5 by rounding noise), == and != on anything, `in` on a collection."""
    if op == "in":
        return value in threshold
    if op == "==":
        return value == threshold
    if op == "!=":
        return value != threshold
    a, t = round(float(value), 6), round(float(threshold), 6)
    if op == ">":
        return a > t
    if op == ">=":
        return a >= t
    if op == "<":
        return a < t
    if op == "<=":
        return a <= t
    raise ValueError(f"unknown comparison {op!r}")
