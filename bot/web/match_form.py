"""The 政策匹配 form's fields and how its values become a profile; no Gradio here (bot/web/match_tab.py
places the components).

The fields are not listed by hand: they are the facts an empty profile would be asked for by the
loaded rules (so a new rule's fact gets a field), grouped and labelled by bot/data/facts.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import ProfileError
from bot.text.facts import fact, facts

GROUPS = ("基本情况", "财务", "研发与知识产权", "人才", "资质")
OTHER = "其他"
YES, NO, UNSURE = "是", "否", "不清楚"
YES_NO = [YES, NO, UNSURE]
HAS_TALENTS = ["有", "没有", UNSURE]
TALENT_COLUMNS = ["姓名", "年龄（岁）", "国籍或地区", "职位", "境外高端人才（是/否）"]
_TALENT_KEYS = ["name", "age", "nationality", "position", "is_high_end"]
# A fact asked as a whole whose form fields are its parts.
_PARTS = {"zone": ["zone.name", "zone_level"],
          "ip": ["ip.invention_patents", "ip.utility_models", "ip.design_patents", "ip.software_copyrights", "ip.other"]}
_TEXT = {"province", "zone.name"}  # free words; every other fact without a unit or choices is yes/no


@dataclass(frozen=True)
class Field:
    """One form field: the fact it sets, how it is entered, and what a person reads beside it."""

    key: str
    kind: str  # number | text | choice | yes_no | talents

    @property
    def label(self) -> str:
        return fact(self.key).form_label

    @property
    def info(self) -> str:
        """What is shown under the field: the period the value describes (上一纳税年度；亏损填负数),
        else the profile field's note (如 贵州)."""
        f = fact(self.key)
        return f.period or f.note


def asked_facts(rules: Iterable[Any]) -> list[str]:
    """The profile fields the rules ask an enterprise that has said nothing: every fact a condition,
    a band or a scope reads, reduced to what can be stored (st_staff_share -> st_staff, employees)."""
    from bot.matching.engine import match
    from bot.matching.profile import parse_profile

    asked: dict[str, None] = {}
    for verdict in match(parse_profile({"resident_enterprise": None}), list(rules)):
        for result in verdict.conditions:
            asked.update(dict.fromkeys(result.ask))
    return list(asked)


def form_fields(rules: Iterable[Any]) -> list[tuple[str, list[Field]]]:
    """(group, fields) in GROUPS order, each group in facts.yaml order; a fact facts.yaml gives no
    group (a new rule's) still gets a field, under OTHER (tests/system/test_match_form.py refuses that)."""
    asked = set(asked_facts(rules))
    out = []
    for group in (*GROUPS, OTHER):
        keys = [k for k, f in facts().items() if k in asked and (f.group if f.group in GROUPS else OTHER) == group]
        fields = [Field(part, _kind(part)) for k in keys for part in _PARTS.get(k, [k])]
        if fields:
            out.append((group, fields))
    return out


def _kind(key: str) -> str:
    f = fact(key)
    if key == "talents":
        return "talents"
    if f.choices:
        return "choice"
    if f.unit:
        return "number"
    return "text" if key in _TEXT else "yes_no"


def profile_from_fields(fields: Sequence[Field], values: Sequence[Any], talents: Any = None) -> dict:
    """A profile mapping for parse_profile from the form's values (in `fields` order): blanks and 不清楚
    stay unknown, 是/否 are read, the zone and IP counts nested, the talents table read row by row."""
    data: dict[str, Any] = {}
    for field, value in zip(fields, values):
        if isinstance(value, str):
            value = value.strip()
        if value in (None, "", UNSURE):
            continue
        if field.kind == "yes_no":
            value = value == YES
        elif field.kind == "talents":
            if value != "有":
                data["talents"] = []  # 没有: none, so a talent condition is not met rather than open
            continue
        head, _, part = field.key.partition(".")
        if part:
            data.setdefault(head, {})[part] = value
        else:
            data[field.key] = value
    level = data.pop("zone_level", None)
    if level or "zone" in data:
        zone = data.setdefault("zone", {})
        zone["level"] = level or ("national" if "国家" in zone.get("name", "") else None)
        if zone["level"] is None:
            raise ProfileError("请选择高新区级别（国家级高新区 / 省级高新区 / 不在高新区）")
    rows = _talent_rows(talents)
    if rows and "talents" not in data:  # 没有 wins over rows left in the table
        data["talents"] = rows
    return data


def _talent_rows(table: Any) -> list[dict]:
    """The talents table's filled rows as profile talents (是/否 read for 境外高端人才)."""
    if table is None:
        return []
    if isinstance(table, dict):  # as the browser sends it (the event is not preprocessed)
        table = table.get("data") or []
    rows = []
    for row in table or []:
        cells = ["" if c is None else str(c).strip() for c in row]
        talent = {k: c for k, c in zip(_TALENT_KEYS, cells) if c and c != UNSURE}
        if not talent:
            continue
        if "is_high_end" in talent:
            talent["is_high_end"] = talent["is_high_end"] in (YES, "true", "True", "1")
        rows.append(talent)
    return rows


_KEY = re.compile(r"(?<![A-Za-z0-9_])[a-z][a-z0-9_]*(?:\.[a-z_]+)?(?:\[\d+\])?")


def form_error(exc: ProfileError) -> str:
    """A refused profile as the form shows it: the field's Chinese label and why, never a key
    (企业画像字段 revenue_wan（营业收入，万元）：应为数字 -> 上一年度营业收入（万元）：应为数字)."""
    message = exc.reason
    key = re.sub(r"\[\d+\]", "", exc.field)
    if key in facts() and message.startswith("企业画像字段"):
        message = f"{fact(key).form_label}：{message.split('：', 1)[1]}"
    message = _KEY.sub(lambda m: _label_of(m.group(0)), message)
    return re.sub(r"([^（\s：]+)（\1\s*", r"\1（", message)  # 科技人员数（科技人员数 9） -> 科技人员数（9）


def _label_of(word: str) -> str:
    try:
        return fact(re.sub(r"\[\d+\]", "", word)).label
    except KeyError:
        return word
