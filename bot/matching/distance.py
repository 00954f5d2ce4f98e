"""What it would take: how far a not-met condition is from being met, and which policies an
enterprise is closest to.

A numeric condition's gap is computed from its operator, threshold and the enterprise's value in
the fact's unit: percentages in 个百分点 ("研发投入强度 4.6%，还差 0.4 个百分点才超过5%"), sums in
万元 or 亿元 as people read them ("营业收入需超过3亿元，目前2.4亿元，还差6000万元"), years with the day
a registration date reaches them. 超过 (>) is not met by the threshold itself, 达到/不低于 (>=) is.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.matching.derived import _anniversary
from bot.matching.rules import NUMERIC_OPS
from bot.text.facts import facts

if TYPE_CHECKING:
    from bot.matching.engine import ConditionResult, Verdict
    from bot.matching.profile import EnterpriseProfile

_VERBS = {">": "超过", ">=": "达到", "<": "低于", "<=": "不超过"}
CLOSEST = 3  # policies listed as closest


def _numeric(result: ConditionResult) -> bool:
    numbers = (result.threshold, result.actual)
    return result.op in NUMERIC_OPS and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in numbers)


def _show(result: ConditionResult, value: float) -> str:
    value = round(value, 2) if result.unit == "%" else value  # 8.57%, not 8.57143%
    return facts()[result.field].show(value) if result.field in facts() else f"{value:g}{result.unit}"


def gap(result: ConditionResult) -> float | None:
    """How much the value must rise (a lower bound) or fall (an upper bound), in the fact's unit;
    None unless a numeric condition is not met."""
    if result.status != "not_met" or not _numeric(result):
        return None
    return result.threshold - result.actual if result.op in (">", ">=") else result.actual - result.threshold


def distance(result: ConditionResult, profile: EnterpriseProfile | None = None) -> str:
    """A not-met numeric condition's gap as a sentence; "" for any other condition."""
    amount = gap(result)
    if amount is None:
        return ""
    verb, limit, now = _VERBS[result.op], _show(result, result.threshold), _show(result, result.actual)
    if amount == 0:
        return f"{result.label} {now}，恰好等于{limit}，需{verb}{limit}"
    if result.unit == "%":
        points = f"{round(amount, 2):g} 个百分点"
        if result.op in (">", ">="):
            return f"{result.label} {now}，还差 {points}才{verb}{limit}"
        return f"{result.label} {now}，超出 {points}（需{verb}{limit}）"
    if day := _reached(result, profile):
        return f"{result.label}需{verb}{limit}：{profile.registration_date.isoformat()}注册成立，{day}起满足"
    more = "还差" if result.op in (">", ">=") else "超出"
    return f"{result.label}需{verb}{limit}，目前{now}，{more}{_show(result, amount)}"


def _reached(result: ConditionResult, profile: EnterpriseProfile | None) -> str:
    """成立年限 counted from a registration date: the day it is met (the anniversary; for 超过, the day
    after); "" otherwise."""
    if result.field != "registered_years" or profile is None or profile.registration_date is None:
        return ""
    if result.op not in (">", ">=") or not float(result.threshold).is_integer():
        return ""
    day = _anniversary(profile.registration_date, int(result.threshold))
    day += timedelta(days=1 if result.op == ">" else 0)
    return day.isoformat()


def _relative(result: ConditionResult) -> float:
    """A gap as a share of its threshold: 0.08 for 4.6% against 5%."""
    return gap(result) / abs(result.threshold) if result.threshold else 1.0


def closest(verdicts: Iterable[Verdict], limit: int = CLOSEST) -> list[Verdict]:
    """Not-eligible benefits that fail only on figures (each unmet condition has a distance), fewest
    then smallest gaps first. A yes/no condition is left out: 有亏损 or 创业投资企业 is no target to
    close, and a lapsed policy or another place is none either."""
    reachable = [v for v in verdicts if v.status == "not_eligible" and v.kind == "benefit"
                 and all(c.distance for c in v.unmet)]
    return sorted(reachable, key=lambda v: (len(v.unmet), sum(_relative(c) for c in v.unmet),
                                            sum(c.status == "unknown" for c in v.conditions)))[:limit]
