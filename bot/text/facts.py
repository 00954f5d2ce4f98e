"""The fact vocabulary: one name, unit, label and question per fact, from bot/data/facts.yaml.

The profile, the matcher, the answerer's condition checks, the guided chat and the web form all name
the same facts; here each has one canonical key (revenue_wan, st_staff_share, talents.age), the older
keys some callers still use (st_share, age, registered_months) and the cue words that name it in text,
so a threshold in a clause can be tied to the fact it measures (`fact_for`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from .units import convert, format_wan


@dataclass(frozen=True)
class FactDefinition:
    """What a fact is (label, unit, how it is asked and named), not any enterprise's value of it."""

    key: str
    label: str  # 营业收入
    unit: str = ""  # 万元, %, 年, 人, 岁, 件; "" for yes/no, words and structures
    question: str = ""  # what to ask when it is missing; "" if never asked directly
    form: str = ""  # the web form's label where it differs from label（unit）
    aliases: Mapping[str, str] = field(default_factory=dict)  # older key -> the unit its values are in
    cues: tuple[str, ...] = ()  # words that name it in text
    choices: Mapping[str, str] = field(default_factory=dict)  # stored value -> how it reads
    note: str = ""  # what a profile field's description adds to label（unit）: its period, an example
    group: str = ""  # the web form's section (基本情况 …); "" for facts no form field asks
    period: str = ""  # the period the value describes (上一纳税年度), shown with the form field

    @property
    def form_label(self) -> str:
        return self.form or self._labelled

    @property
    def description(self) -> str:
        """The profile field's description (its JSON schema): 营业收入（万元）：上一年度，即销售收入."""
        choices = " / ".join(f"{value} {reads}" for value, reads in self.choices.items())
        details = "；".join(part for part in (self.note, choices) if part)
        return f"{self._labelled}：{details}" if details else self._labelled

    @property
    def _labelled(self) -> str:
        return f"{self.label}（{self.unit}）" if self.unit else self.label

    def show(self, value: Any) -> str:
        """A value as a person reads it: 6 -> 6%, national -> 国家级高新区, True -> 是, 30000 万元 -> 3亿元,
        2/3 年 -> 8个月 (成立8个月 is kept as 0.666… 年)."""
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, str):
            return self.choices.get(value, value)
        if isinstance(value, int):
            return format_wan(value) if self.unit == "万元" else f"{value}{self.unit}"
        if isinstance(value, float):
            if self.unit == "万元":
                return format_wan(value)
            months = value * 12
            if self.unit == "年" and 0 < value < 1 and abs(months - round(months)) < 1e-6:
                return f"{round(months)}个月"
            return f"{value:g}{self.unit}"
        return "—" if value is None else str(value)


@cache
def facts() -> Mapping[str, FactDefinition]:
    """Every fact by canonical key, read once from bot/data/facts.yaml."""
    import yaml

    raw = yaml.safe_load((resources.files("bot") / "data" / "facts.yaml").read_text(encoding="utf-8"))
    out = {}
    for key, entry in raw.items():
        entry = dict(entry)  # an unknown field is a TypeError naming it
        out[key] = FactDefinition(key, aliases=dict(entry.pop("aliases", None) or {}), cues=tuple(entry.pop("cues", None) or ()),
                        choices=dict(entry.pop("choices", None) or {}), **entry)
    return out


@cache
def _by_alias() -> Mapping[str, str]:
    return {alias: f.key for f in facts().values() for alias in f.aliases}


def canonical_key(name: str) -> str:
    """The canonical key for a key or an older alias: st_share -> st_staff_share; KeyError if unknown."""
    if name in facts():
        return name
    return _by_alias()[name]


def fact(name: str) -> FactDefinition:
    """The fact a key or alias names; KeyError if unknown."""
    return facts()[canonical_key(name)]


def canonical(name: str, value: Any) -> tuple[str, Any]:
    """(key, value) under the canonical key and unit: (registered_months, 18) -> (registered_years, 1.5)."""
    key = canonical_key(name)
    unit = facts()[key].aliases.get(name, "")
    if unit and unit != facts()[key].unit and isinstance(value, (int, float)) and not isinstance(value, bool):
        return key, convert(value, unit, facts()[key].unit)
    return key, value


def fact_for(subject: str, unit: str) -> str | None:
    """The fact a threshold measures, from the words before it (Threshold.subject) and its unit
    (canonical: 万元, %, 年…): the fact of that unit whose cue ends nearest the threshold, the longer
    cue on a tie (技术转让收入 over 收入); with no cue, the only fact of that unit (岁 -> talents.age)."""
    best: tuple[int, int, str] | None = None
    of_unit = [f for f in facts().values() if f.unit == unit]
    for f in of_unit:
        for cue in f.cues:
            at = subject.rfind(cue)
            if at >= 0 and (best is None or (at + len(cue), len(cue)) > best[:2]):
                best = (at + len(cue), len(cue), f.key)
    if best:
        return best[2]
    return of_unit[0].key if len(of_unit) == 1 else None
