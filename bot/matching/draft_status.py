"""Conditions a document sets on a status in clauses of their own, attached to the drafts relying on it.

A benefit's clause rarely says all a status takes: 认定办法 says in one clause what the status means
(第二条 本办法所称的高新技术企业是指：…注册的居民企业), in another how long it lasts (第九条 其资格自颁发
证书之日起有效期为三年), in a third what takes it away (第十九条 有下列行为之一的，由认定机构取消其高新
技术企业资格). Each of these clause classes gives conditions on a status X, a yes/no fact of
bot/data/facts.yaml (or, for a definition, the words it defines), found in the draft's own document:
- a definition (所称X是指…): the yes/no facts its meaning names, for drafts whose benefit names X or
  whose conditions require X;
- a validity (X…资格…有效期为三年): the fact whose label or cues name X and 有效期, == true;
- a cancellation (…有下列行为之一的，…取消其X资格): the fact whose label or cues name X and 取消, == false.
Validity and cancellation hold only for drafts requiring X (X == true): a company applying to become X
(认定为高新技术企业须同时满足以下条件) holds no certificate yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.matching.drafts import _PART, _clean, _kind_terms, _kinds, attach
from bot.records import Clause
from bot.text.facts import facts
from bot.text.width import compact

_DEFINITION = re.compile(r"所称的?(?P<status>[^，,。；;：:]+?)[，,]?是指[：:]?(?P<meaning>.+)")
_VALIDITY = re.compile(r"资格.*有效期为?[一二三四五六七八九十两\d]+年")
_CANCELLATION = re.compile(r"有下列(?:行为|情形)之一的.*取消其?(?P<status>[^，,。；;：:]+?)资格")


@dataclass(frozen=True)
class StatusCondition:
    """A condition one clause sets on holding a status (status: its fact key, None for words no fact
    names; words: how the document names it)."""

    status: str | None
    words: str
    condition: dict
    held_only: bool  # only for drafts that require holding the status


def attach_status_conditions(rules: list[dict], clauses: Iterable[Clause]) -> None:
    """Attach each status condition of the document to its drafts relying on that status."""
    found = [s for clause in clauses for s in status_conditions(clause)]
    for rule in rules:
        required = {c["field"] for c in rule.get("conditions", []) if c["op"] == "==" and c.get("value") is True}
        benefit = compact(rule["benefit"]["text"])
        for s in found:
            if s.status in required or (not s.held_only and compact(s.words) in benefit):
                attach(rule, s.condition)


def status_conditions(clause: Clause) -> list[StatusCondition]:
    """The definitions, validities and cancellations of one clause as conditions on the status named."""
    out = []
    for part in _PART.finditer(clause.text):
        sentence = part.group(0)
        if defined := _DEFINITION.search(sentence):
            words = _clean(defined["status"])
            keys = _statuses(words) or [None]
            out += [StatusCondition(key, words, c, held_only=False) for key in keys
                    for c in _kinds(defined["meaning"], clause.id) if c["field"] != key]
            continue
        cancelled = _CANCELLATION.search(sentence)
        valid = _VALIDITY.search(sentence)
        if not (cancelled or valid):
            continue
        named, mark, value = (cancelled["status"], "取消", False) if cancelled else (
            sentence[:valid.start()], "有效期", True)
        for key in _statuses(named):
            fact = _status_fact(key, mark)
            if fact:
                wording = _clean(sentence.rstrip("：:"))
                out.append(StatusCondition(key, _clean(named), {"field": fact, "op": "==", "value": value,
                                                                 "wording": wording, "clause": clause.id}, True))
    return out


def _statuses(text: str) -> list[str]:
    """The yes/no facts (value true) a text names by label or cue, longest term first."""
    keys: list[str] = []
    for term, named in _kind_terms():
        if term in text:
            text = text.replace(term, "·")
            keys += [key for key, value in named if value is True and key not in keys]
    return keys


def _status_fact(status: str, mark: str) -> str | None:
    """The yes/no fact whose label or cues name the status and the mark (高新技术企业 + 有效期:
    hightech_certificate_valid)."""
    terms = [t for t in (facts()[status].label, *facts()[status].cues) if len(t) >= 4]
    for f in facts().values():
        named = (f.label, *f.cues)
        if f.key != status and not f.unit and not f.choices and any(
                mark in n and any(t in n for t in terms) for n in named):
            return f.key
    return None
