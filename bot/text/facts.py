"""The fact vocabulary: one name, unit, label and question per fact, from bot/data/facts.yaml.

The profile, the matcher, the answerer's condition checks, the guided chat and the web form all name
the same facts; here each has one canonical key (revenue_wan, st_staff_share, talents.age), the older
keys some callers still use (st_share, age, registered_months) and the cue words that name it in text,
so a threshold in a clause can be tied to the fact it measures (`fact_for`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from .numerals import numbers
from .units import convert, format_wan
from .width import compact


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


# ---- a reply to a fact's question (the guided chat) ----

# "I don't know": a valid answer that leaves the fact unknown. Read before 是/否, since 不知道 starts with 不.
DONT_KNOW = re.compile(r"不清楚|不知道|不确定|不太清楚|说不准|不了解|无法确定|没有数据|没数据|跳过|不好说")
_FILLER = re.compile(r"^(嗯|呃|哦|我们|我司|本公司|公司|企业|目前|现在|暂时|还|都|应该|大概|其实|[，,。.！!～~])+")
_NO = re.compile(r"^(不是|不属于|不需要|不用|不符合|不在|没有|没|无|否|不|未|非)")
_YES = re.compile(r"^(是|有|属于|需要|要|符合|对|在|已|当然|确实|肯定|yes|y$)", re.IGNORECASE)
_LOSS = re.compile(r"亏损|亏了|负")
_COUNT_WORDS = {"个", "名", "位", "家", "项", "件"}


def dont_know(text: str) -> bool:
    """不清楚, 不知道, 跳过…: the asker cannot say."""
    return bool(DONT_KNOW.search(text))


def read_yes_no(text: str) -> bool | None:
    """是/有/属于/需要/对 -> True, 否/没有/不属于/不是/不需要/无 -> False, from the reply's first words
    ("有，证书2023年拿的" -> True); None when it says neither."""
    head = _FILLER.sub("", compact(text).lower())
    if _NO.match(head):
        return False
    if _YES.match(head):
        return True
    return None


def read_quantity(text: str, unit: str) -> float | None:
    """A reply about a quantity kept in `unit` (万元, %, 人, 年, 岁, 件), in that unit: "200" -> 200 (a
    bare figure is in the unit asked), 1.5亿 -> 15000, 2000万元 -> 2000, 15% -> 15, 63岁 -> 63, 18个月 ->
    1.5; 没有 -> 0 for a sum, count or share; 亏损320万 -> -320. None if no figure of that unit is there
    (a calendar year such as 2019年 is a date, not a duration)."""
    for n in numbers(text):
        value = _in_unit(n, unit)
        if value is not None:
            negative = _LOSS.search(text) or text[:n.start].rstrip().endswith(("-", "－"))
            return -abs(value) if negative and unit == "万元" else value
    if unit in ("万元", "%", "人", "件") and read_yes_no(text) is False:
        return 0.0
    return None


def _in_unit(n: Any, unit: str) -> float | None:
    if n.kind == "percent":
        return float(n.value) if unit == "%" else None
    if n.kind != "amount":
        return None
    if n.is_money:
        return float(n.value) / 10**4 if unit == "万元" else None
    if n.scaled:  # 5万人: a count written with 万
        return float(n.value) if unit in ("人", "件") else None
    if not n.unit or n.unit in _COUNT_WORDS:
        return float(n.value)
    if unit == "年" and n.unit == "年" and n.value >= 1900:
        return None
    try:
        return convert(float(n.value), n.unit, unit)
    except ValueError:
        return None
