"""Questions that ask a few related facts at once (bot/data/question_groups.yaml), as a service
window does: 财务 "1.2亿，260万，700万", a 资质 checklist "1 3" or "都没有".

A reply is read part by part through the same fact readers as a one-fact reply
(bot.matching.guided.field_value): figures in the order asked or labelled ("营收1.2亿，研发700万"),
checklist numbers, 都没有/都是, "不清楚" for all or "第2个不清楚" for one. What a reply leaves out or
holds unreadably is returned as unread, to be asked again alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from bot.errors import ProfileError
from bot.text.facts import DONT_KNOW, dont_know, facts, read_yes_no
from bot.text.numerals import numbers

# facts a question may hold and stay readable: four figures, or five short yes/no items to tick
MAX_ITEMS = {"figures": 4, "checklist": 5}
_PARTS = re.compile(r"[，,、；;。\s]+")
_ONE_UNKNOWN = re.compile(r"第?\s*(\d+)\s*[个项条]?[^，,、；;。\d]{0,4}?(?:不清楚|不知道|不确定|不太清楚|说不准|跳过)")


@dataclass(frozen=True)
class QuestionGroup:
    """A few facts asked in one question, with how each reads as an item."""

    key: str
    kind: Literal["figures", "checklist"]
    question: str
    items: Mapping[str, str]  # fact key -> its item's wording, in the order asked

    def text(self, names: Sequence[str]) -> str:
        """The question over `names` (the group's facts still open), items numbered from 1."""
        return "\n".join([self.question] + [f"{i}. {self.items[n]}" for i, n in enumerate(names, 1)])


@dataclass(frozen=True)
class GroupReply:
    values: dict[str, Any]  # fact -> value read
    unknown: tuple[str, ...]  # answered 不清楚
    unread: tuple[str, ...]  # left out or not understood: asked again alone


@cache
def question_groups() -> Mapping[str, QuestionGroup]:
    """Every question group by key, read once from bot/data/question_groups.yaml."""
    import yaml

    text = (resources.files("bot") / "data" / "question_groups.yaml").read_text(encoding="utf-8")
    groups = {key: QuestionGroup(key, **entry) for key, entry in yaml.safe_load(text).items()}
    for group in groups.values():
        unknown = set(group.items) - set(facts())
        limit = MAX_ITEMS[group.kind]
        if unknown or len(group.items) > limit:
            raise ValueError(f"question group {group.key}: unknown facts {sorted(unknown)} or more than {limit}")
    return groups


def read_group(group: QuestionGroup, names: Sequence[str], text: str,
               read: Callable[[str, str], Any]) -> GroupReply:
    """The reply to `group` asked over `names`; `read(name, part)` reads one fact's part (a
    ProfileError when it holds no value). ProfileError when the reply holds nothing for any item."""
    text = text.strip()
    unknown = {names[int(m.group(1)) - 1] for m in _ONE_UNKNOWN.finditer(text) if 0 < int(m.group(1)) <= len(names)}
    rest = _ONE_UNKNOWN.sub("", text)
    if not unknown and dont_know(text) and not numbers(rest):
        return GroupReply({}, tuple(names), ())
    values = (_figures if group.kind == "figures" else _checklist)(group, list(names), unknown, rest, read)
    if not values and not unknown:
        raise ProfileError("请按编号回答各项（如“1 3”或“1.2亿，260万”），或回答“都没有”“不清楚”", group.key)
    unread = tuple(n for n in names if n not in values and n not in unknown)
    return GroupReply(values, tuple(n for n in names if n in unknown), unread)


def _figures(group: QuestionGroup, names: list[str], unknown: set[str], text: str,
             read: Callable[[str, str], Any]) -> dict[str, Any]:
    """Figures labelled ("营收1.2亿") go to their fact; the others fill the remaining items in order."""
    names = [n for n in names if n not in unknown]
    parts = [p for p in _PARTS.split(text) if p]
    labelled = {i: _label(group, names, p) for i, p in enumerate(parts)}
    values: dict[str, Any] = {}
    for i, name in labelled.items():
        if name and name not in values:
            values[name] = _part(read, name, parts[i], unknown)
    free = iter(n for n in names if n not in values)
    for i, part in enumerate(parts):
        if not labelled[i] and (name := next(free, None)):
            values[name] = _part(read, name, part, unknown)
    return {k: v for k, v in values.items() if v is not None}


def _label(group: QuestionGroup, names: list[str], part: str) -> str | None:
    """The fact a part names by a cue or its item's words (研发 for 研发费用), or None."""
    words = DONT_KNOW.sub("", re.split(r"[\d０-９.-]", part, maxsplit=1)[0])  # 研发不清楚: 研发
    words = re.sub(r"^(是|为|有|约|大概|大约)|(是|为|约|大概|大约)$", "", words)
    if len(words) < 2:
        return None
    for name in names:
        f = facts()[name]
        names_it = (*f.cues, f.label, group.items[name])
        if any(cue in words for cue in f.cues) or any(n.startswith(words) for n in names_it):
            return name
    return None


def _part(read: Callable[[str, str], Any], name: str, part: str, unknown: set[str]) -> Any:
    """One item's value from its part of the reply; None (and `name` added to `unknown` when the
    part says 不清楚) when it holds none."""
    if dont_know(part):
        unknown.add(name)
        return None
    try:
        return read(name, part)
    except ProfileError:
        return None


def _checklist(group: QuestionGroup, names: list[str], unknown: set[str], text: str,
               read: Callable[[str, str], Any]) -> dict[str, Any]:
    """The item numbers named apply, the others do not; 都没有 -> none, 都是 -> all."""
    open_names = [n for n in names if n not in unknown]
    if not numbers(text):
        rest = text.strip(" ，,。")
        said = read_yes_no(rest) if rest else False if unknown else None  # "第2个不清楚": the others do not apply
        if said and not rest.startswith(("都", "全")):  # "有高企证书" names no item: not "all of them"
            said = None
        return {} if said is None else dict.fromkeys(open_names, said)
    picked: set[int] = set()
    for n in numbers(text):
        digits = str(int(n.value))  # "13" with fewer than 13 items: items 1 and 3
        picked |= {int(d) for d in digits} if int(n.value) > len(names) else {int(n.value)}
    if not picked & set(range(1, len(names) + 1)):
        return {}
    return {name: i in picked for i, name in enumerate(names, 1) if name not in unknown}
