"""The asker's facts held against the thresholds a quoted sentence states (研发投入强度超过5% …)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answering.question import FACTS
from bot.text.facts import canonical, fact, fact_for
from bot.text.thresholds import compare, find_thresholds


@dataclass(frozen=True)
class ConditionCheck:
    """One threshold of a quoted sentence compared with a fact the asker gave (None: not given)."""

    fact: str  # canonical key (bot/text/facts.yaml)
    value: float | str | None
    phrase: str  # the threshold as the clause words it, e.g. 超过5%
    status: str  # met | not_met | unknown

    def line(self) -> str:
        mark = {"met": "✓ 满足", "not_met": "✗ 不满足", "unknown": "? 无法判断"}[self.status]
        about = fact(self.fact)
        if self.value is None:
            return f"{mark}：条款要求“{self.phrase}”，您未提供{about.label}"
        return f"{mark}：条款要求“{self.phrase}”，您提供的{about.label}为{about.show(self.value)}"


def check_conditions(sentence: str, facts: dict[str, float | str]) -> list[ConditionCheck]:
    """Thresholds in `sentence` held against the asker's facts, each bound as its wording sets it
    (bot.text.thresholds: 超过 strict, 不低于/以上 inclusive, 不高于/以下 upper bounds, 未满/不足 strict).
    Only facts a question can state (analysis.FACTS) are compared. Once the asker has given any fact,
    a threshold on one they did not give is listed as unknown rather than left out."""
    checks: list[ConditionCheck] = []
    described = bool(facts)
    facts = dict(canonical(k, v) for k, v in facts.items())  # older keys too: age, st_share
    if "st_staff" in facts and "employees" in facts and float(facts["employees"]) > 0:
        facts["st_staff_share"] = round(float(facts["st_staff"]) / float(facts["employees"]) * 100, 2)
    for t in find_thresholds(sentence):
        key = fact_for(t.subject, t.unit)
        if key not in FACTS or (key not in facts and not described):
            continue
        if key not in facts:
            checks.append(ConditionCheck(key, None, t.text, "unknown"))
            continue
        status = "met" if compare(facts[key], t.op, t.value) else "not_met"
        checks.append(ConditionCheck(key, facts[key], t.text, status))
    if described and "国家高新区" in sentence and "省级" not in sentence:
        level = facts.get("zone_level")
        status = "unknown" if level is None else "met" if level == "national" else "not_met"
        checks.append(ConditionCheck("zone_level", level, "在国家高新区内", status))
    return checks
