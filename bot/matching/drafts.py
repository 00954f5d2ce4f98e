"""Candidate rules drafted from a document's clauses, for an admin to review before they match.

A policy an admin adds has no hand-written rule, so the matcher never sees it. When a new or changed
document is ingested, each clause that sets a threshold on a known fact (超过/不低于/以上… + number +
unit, bot.text.thresholds) or grants something sized (给予/奖励/补助/减按/免征… + amount or rate) becomes
one draft rule: its thresholds, and the kind of enterprise it names, are the conditions, its granting
sentence the benefit. Drafts are written to
<rules>/drafts/<doc>.yaml, a folder load_rules never reads, so nothing drafted matches until an admin
accepts it (bot/web/drafts_tab.py moves it to <rules>/<doc>.yaml after validation). Each draft is
run through the same validator as every rule; one that fails is still written, with why above it.

The wording classes read here, each from the policy texts rather than a single sentence:
- a bound after a granting verb or before 的部分/罚款/补助 sizes the benefit (or a penalty), not a condition;
- a bound whose subject is only 比例/比重 measures what the list's lead-in (…符合如下要求：) names;
- in a list item, a bound on a size before 的企业 and one after it make a band (研发费用比例 by revenue);
- a bound an amendment note restates for the same fact replaces the clause's own (source: amendment);
- the same bound written twice in a clause (2年以上 … 满2年) is one condition;
- a goal (到2025年…达到1.8%) and an aside in brackets (实际经营期不满三年的…) set no condition;
- a yes/no fact's label or cue (bot/data/facts.yaml) in the part that names who qualifies is a condition:
  the parts holding a bound or a granting word, the subject before a granting part that has none
  (国家需要重点扶持的高新技术企业，减按…; …落地，符合条件的，按…给予), and a definition after 是指;
  未/非/没有/无/不得 before it, or 除…以外 around it, make it false (未发生重大安全、重大质量事故);
  a fact of a few choices is named by how a choice reads (位于国家级高新区: zone_level == national);
- each item of an enumerated condition list (须同时满足以下条件：（一）…（二）…) is a condition: its bound,
  the yes/no facts it names, or else its text under the field 待定 for the admin to map; unless an item
  reads 其他…: then the items are alternatives (（一）工业企业，…（二）其他企业，…) and name no condition;
- the yes/no facts an amendment note names (适用于除…不适用行业以外的企业) are conditions too;
- each item of a granting list (企业的下列所得，可以免征、减征企业所得税：（一）…) is a draft of its own;
- an exclusion (没有单独计算的，不得享受企业所得税优惠) holds for the drafts of the benefit it names:
  its own clause's (本条), every one of the document (本办法), or those whose benefit has its words;
- what a document says of a status in other clauses (its definition, validity, cancellation) holds
  for the drafts relying on that status (bot/matching/draft_status.py).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from bot.records import Amendment, Clause
from bot.text.facts import fact_for, facts
from bot.text.numerals import numbers
from bot.text.thresholds import Threshold, find_thresholds
from bot.text.width import compact

log = logging.getLogger(__name__)

DRAFTS = "drafts"  # the folder under the rules folder that holds drafts
UNKNOWN_FIELD = "待定"  # a condition's field when its threshold names no fact of the vocabulary
BENEFIT_WORDS = ("给予", "奖励", "补助", "补贴", "资助", "奖补", "减按", "免征", "减征", "减半征收", "加计扣除",
                 "抵扣", "抵免", "贴息", "准予")
GRANT_WORDS = (*BENEFIT_WORDS, "提取", "按照", "按")  # a bound right after these is the benefit's size
SIZE_AFTER = ("的部分", "罚款", "罚金", "补助", "奖励", "补贴", "资助", "贴息", "的奖励", "的补助")
GENERIC = ("比例", "比重", "占比", "比率")
_PART = re.compile(r"[^。；;\n]+")
_ITEM_MARK = r"[（(][一二三四五六七八九十\d]+[)）]|\d+[.．、]"  # （一） 1.
_MARK = rf"第[一二三四五六七八九十百零]+条|{_ITEM_MARK}"  # and 第十一条
_ITEM = re.compile(rf"^\s*(?:{_ITEM_MARK})")
_CONDITION_LIST = re.compile(r"(?:下列|以下|如下)条件|同时满足|同时具备")  # 须同时满足以下条件：
SUBJECTLESS = (*BENEFIT_WORDS, "按", "对", "由", "可", "自")  # a granting part opening so names no one itself
_EXCLUDES = re.compile(r"不得?享受|不予(?:支持|奖励|补助|补贴|资助)|不适用(?=本法)")  # …的企业，不享受本办法规定的奖励；…不适用本法
# 自…起享受税收优惠 grants; 已享受的…优惠 and 享受低税率优惠的 (those who had it) do not
_ENJOYS = re.compile(r"(?<![已不得未])享受[^，,。；;]*优惠(?!的)")
_EXCLUDED_BENEFIT = re.compile(r"(.*?)(?:优惠|奖励|补助|补贴|资助|政策|待遇)")  # 不得享受|企业所得税|优惠
WHOLE_DOCUMENT = ("本法", "本办法", "本措施", "本规定", "本细则", "本政策", "本通知")
WHOLE = "*"  # an exclusion's reach: every benefit of the document
_LIST_LEAD = re.compile(r"下列|以下|如下")
# after a kind of enterprise: it names the enterprise's status (通过高新技术企业认定的; 高新技术企业资格)
# or is the subject of what follows (创业投资企业在本市完成备案), not a modifier of another noun
KIND_NEXT = ("", "，", "的", "、", "资格", "认定的", "称号", "在", "已", "应", "须", "经", "依法")
NEGATIONS = ("非", "未", "没有", "无", "不得", "不属于")  # before a yes/no fact's term: == false
_MARKER = re.compile(rf"^\s*(?:{_MARK})?\s*")
_LEAD = re.compile(rf"^(?:{_MARK}|其中|是指|[且并和及或与对在，,、：:\s])+")  # and the connectives before a phrase
_TAIL_STOP = re.compile(r"[，,；;：:、]")
_COMMA_PART = re.compile(r"[^，,：:]+")
_TARGET = re.compile(r"到\s*20\d\d\s*年|力争|目标")  # 到2025年…比重达到1.8%: a goal, not a condition
CAPS = ("最长", "最高", "最多")  # 准予结转…但结转年限最长不得超过五年: how far the benefit goes
SANCTIONS = ("处分", "处理", "通报", "批评", "警告", "处罚", "罚款", "追缴")  # 给予警告 grants nothing


@dataclass(frozen=True)
class Bound:
    """One threshold of a clause as a condition: the fact it measures (None: none of the vocabulary),
    the words that name it and the bound as the clause writes them (营业收入超过3亿元)."""

    threshold: Threshold
    fact: str | None
    wording: str
    tail: str  # the measured phrase: 营业收入
    start: int  # where the wording starts in its sentence

    @property
    def key(self) -> tuple:
        t = self.threshold
        return self.fact or self.tail, t.op, round(t.value, 6), t.unit


@dataclass
class DocumentDraft:
    """The draft rules of one document, each with its validation problems (empty: valid)."""

    slug: str
    rules: list[dict] = field(default_factory=list)
    problems: list[list[str]] = field(default_factory=list)
    skipped: int = 0  # clauses drafted but refused by the rule schema

    @property
    def invalid(self) -> int:
        return sum(1 for p in self.problems if p)


# ---- drafting ----

def draft_document(slug: str, title: str, clauses: Iterable[Clause],
                   amendments: Mapping[str, Amendment]) -> list[dict]:
    """Draft rules (plain dicts in the rule file schema) for the clauses of one document, in order."""
    from bot.matching.draft_status import attach_status_conditions

    base = _id_base(slug)
    scope = "guizhou" if "贵州" in title else "national"
    clauses = list(clauses)
    out = []
    shut_out = []  # (condition, reach) a clause sets for benefits beyond its own (本办法; 企业所得税优惠)
    for clause in clauses:
        shut_out += [(c, reach) for c, reach in _exclusions(clause) if reach]
        amendment = amendments.get(clause.id)
        rules = _granting_list(clause, amendment, scope) or [draft_clause(clause, amendment, scope)]
        for rule in filter(None, rules):
            rule["id"] = f"{base}-{len(out) + 1}"
            out.append(rule)
    for rule in out:
        words = compact(rule["benefit"]["text"])
        for condition, reach in shut_out:
            if reach == WHOLE or compact(reach) in words:
                attach(rule, condition)
    attach_status_conditions(out, clauses)
    return out


def attach(rule: dict, condition: dict) -> None:
    """Add a condition another clause sets, citing that clause, unless the rule has one on its fact."""
    if condition["field"] in {c["field"] for c in rule.get("conditions", [])}:
        return
    rule.setdefault("conditions", []).append(condition)
    if condition["clause"] not in rule["clauses"]:
        rule["clauses"].append(condition["clause"])


def _granting_list(clause: Clause, amendment: Amendment | None, scope: str) -> list[dict]:
    """Each item of a granting list (企业的下列所得，可以免征、减征企业所得税：（一）…（四）符合条件的技术转让
    所得) as a draft of its own: the lead-in is the benefit, what the item names the conditions. The
    items are alternatives, so one naming no known fact is left out: a draft fewer, never a wrong one."""
    if clause.instructs or (amendment is not None and amendment.status == "repealed"):
        return []
    out = []
    lead = None
    for part in _PART.finditer(clause.text):
        sentence = part.group(0)
        if sentence.rstrip().endswith(("：", ":")):
            granting = _grants(sentence) and _LIST_LEAD.search(sentence) and not _CONDITION_LIST.search(sentence)
            lead = sentence if granting else None
            continue
        item = _ITEM.match(sentence)
        if item is None:
            lead = None if clause.text[part.start() - 1:part.start()] in ("", "\n") else lead
            continue
        if lead is None:
            continue
        conditions = [_condition(b, clause.id) for b in _dedupe(_bounds(sentence, ""))
                      if b.fact and not _sizes_benefit(sentence, b.threshold)]
        conditions += _kinds(sentence, clause.id)
        if not conditions:
            continue
        benefit = f"{_clean(lead).rstrip('：:')}：{_clean(sentence)}"
        rule: dict[str, Any] = {"id": "", "name": _name(clause, benefit, item.group(0).strip()), "scope": scope,
                                "benefit": {"text": benefit, **_benefit_size(lead, [])},
                                "conditions": conditions, "clauses": [clause.id]}
        if amendment is not None:
            rule["amendment_note"] = amendment.note
            _amend(rule, amendment.note, clause.id)
        out.append(rule)
    return out


def _exclusions(clause: Clause) -> list[tuple[dict, str]]:
    """The yes/no facts a sentence shuts out (从事国家限制或禁止行业的企业，不享受本办法规定的奖励) as
    conditions, negated, each with its reach: "" for this clause's benefit (本条), WHOLE for every
    benefit of the document (本办法), else the words naming the benefits it holds for (没有单独计算的，
    不得享受企业所得税优惠: 企业所得税)."""
    out: list[tuple[dict, str]] = []
    for part in _PART.finditer(clause.text):
        sentence = part.group(0)
        shut = _EXCLUDES.search(sentence)
        if shut is None:
            continue
        named = sentence[shut.end():]
        benefit = _EXCLUDED_BENEFIT.match(named)
        reach = "" if "本条" in named else WHOLE if any(w in named for w in WHOLE_DOCUMENT) else (
            _clean(benefit.group(1)).removeprefix("规定的") if benefit else "")
        out += [({**c, "value": not c["value"]}, reach) for c in _kinds(sentence[:shut.start()], clause.id)]
    return out


def draft_clause(clause: Clause, amendment: Amendment | None, scope: str = "national") -> dict | None:
    """One rule from a clause that grants something or bounds a known fact; None for any other, or
    for a repealed clause."""
    if clause.instructs or (amendment is not None and amendment.status == "repealed"):
        return None
    text = clause.text
    conditions: list[Bound | list[tuple[Bound, Bound]]] = []
    granting: str | None = None
    granted_size = False
    sizes: list[Threshold] = []
    lead = ""
    named: list[str] = []  # the sentence parts that say who qualifies (see _who)
    unmapped: list[str] = []  # condition list items naming neither a bound nor a known fact
    listing = False  # past the lead-in of an enumerated condition list
    items: list[str] = []
    for part in _PART.finditer(text):
        sentence = part.group(0)
        if _TARGET.search(sentence) or _EXCLUDES.search(sentence):  # an exclusion: see _exclusions
            continue
        found = _bounds(sentence, lead)
        sized = [b.threshold for b in found if _sizes_benefit(sentence, b.threshold)]
        if _grants(sentence) and (granting is None or (sized and not granted_size) or (
                not _benefit_size(granting, sizes) and _benefit_size(sentence, sized))):
            # 给予不超过200万元补助 over the heading 研发补助; 给予奖励30万元 over 申请奖励的企业，须…
            granting, granted_size = sentence, bool(sized)
        sizes += sized
        found = [b for b in found if not _sizes_benefit(sentence, b.threshold)]
        named += _who(sentence, [b.threshold.start for b in found] + [t.start for t in sized])
        if listing and _ITEM.match(sentence) and not sentence.rstrip().endswith(("：", ":")):
            named.append(sentence)
            items.append(sentence)
            if not found and not sized and not _kinds(sentence, clause.id):
                unmapped.append(_clean(sentence))
        band = _band(sentence, found)
        if band:
            if conditions and isinstance(conditions[-1], list) and conditions[-1][0][1].key[:2] == band[1].key[:2]:
                conditions[-1].append(band)
            else:
                conditions.append([band])
        else:
            conditions += found
        if sentence.rstrip().endswith(("：", ":")):
            lead = sentence
            listing = listing or bool(_CONDITION_LIST.search(sentence))  # a sub-list (符合如下要求：) stays in it
    if any(_clean(item).startswith("其他") for item in items):  # （一）工业企业，…（二）其他企业，…: alternatives
        named = [n for n in named if n not in items]
    singles = _dedupe([c for c in conditions if isinstance(c, Bound)])
    kinds = _kinds("，".join(named), clause.id)
    kinds += [c for c, reach in _exclusions(clause) if not reach and c["field"] not in {k["field"] for k in kinds}]
    if not any(b.fact for b in singles) and not any(isinstance(c, list) for c in conditions) and not (
            granting and _benefit_size(granting, sizes)) and not (kinds and (granting or listing)):
        return None  # no bound, sized benefit, nor who gets a benefit or meets listed conditions: nothing to review
    specs = [_condition(c, clause.id) for c in conditions if not isinstance(c, Bound) or c in singles]
    specs += kinds
    specs += [{"field": UNKNOWN_FIELD, "op": "==", "value": True, "wording": item, "clause": clause.id}
              for item in unmapped]
    rule: dict[str, Any] = {"id": "", "name": "", "scope": scope, "benefit": {}, "conditions": specs,
                            "clauses": [clause.id]}
    if amendment is not None:
        rule["amendment_note"] = amendment.note
        _amend(rule, amendment.note, clause.id)
    benefit = _clean(granting or next(_PART.finditer(text)).group(0))
    rule["benefit"] = {"text": benefit, **_benefit_size(granting, sizes)}
    rule["name"] = _name(clause, benefit)
    if not rule["conditions"]:
        del rule["conditions"]
    return rule


def _grants(sentence: str) -> bool:
    return (any(w in sentence for w in BENEFIT_WORDS) or bool(_ENJOYS.search(sentence))) and not any(
        w in sentence for w in SANCTIONS)


def _grants_here(part: str) -> bool:
    """A granting word outside the yes/no facts' terms: 可以…约定奖励和报酬的方式 names a fact, grants nothing."""
    for term, _ in _kind_terms():
        part = part.replace(term, "·")
    return _grants(part)


def _who(sentence: str, bounds: list[int]) -> list[str]:
    """The parts of a sentence that name who qualifies: each comma part holding a bound or a granting
    word; before a granting part that names no one (给予…, 按…给予, 由…给予), the part before it and,
    while that one ends in 的, the one before (…项目引进转化落地，符合条件的，按…给予); every part of a
    definition from 是指 on (所称小型微利企业，是指从事国家非限制和禁止行业，…)."""
    parts = [(m.start(), m.group(0)) for m in _COMMA_PART.finditer(sentence)]
    out = []
    defining = False
    for i, (start, part) in enumerate(parts):
        defining = defining or "是指" in part
        grants = _grants_here(part)
        if grants and _MARKER.sub("", part).lstrip().startswith(SUBJECTLESS):
            before = []
            for _, earlier in reversed(parts[:i]):
                before.append(earlier)
                if not earlier.rstrip().endswith("的"):
                    break
            out += reversed(before)
        if defining or grants or any(start <= at < start + len(part) for at in bounds):
            out.append(part)
    return list(dict.fromkeys(out))


@cache
def _kind_terms() -> tuple[tuple[str, tuple[tuple[str, bool | str], ...]], ...]:
    """(term, ((fact, value), …)) for the facts a condition may name without a number, longest term
    first. A yes/no fact (value True): its label and cues of four characters or more (高企 alone would
    match 提高企业); a term may name two (境外高端人才: talents.is_foreign and talents.is_high_end). A fact
    of a few choices: how each choice reads, and a cue that reads so without 级 (国家高新区 -> national)."""
    from bot.matching.validate import condition_fields

    known = condition_fields()
    terms: dict[str, list[tuple[str, bool | str]]] = {}
    for f in facts().values():
        if f.unit or f.key not in known:
            continue
        named = [(t, True) for t in dict.fromkeys((f.label, *f.cues))] if not f.choices else [
            (t, value) for value, reads in f.choices.items()
            for t in (reads, *(c for c in f.cues if c == reads.replace("级", "")))]
        for term, value in named:
            if len(term) >= 3 if f.choices else len(term) >= 4:
                terms.setdefault(term, []).append((f.key, value))
    return tuple(sorted(((t, tuple(k)) for t, k in terms.items()), key=lambda t: -len(t[0])))


@cache
def _measure_cues() -> tuple[str, ...]:
    """The cues of the facts measured in a unit (技术转让所得): a kind of enterprise before one owns it."""
    return tuple(c for f in facts().values() if f.unit for c in f.cues if len(c) >= 4)


def _kinds(text: str, clause_id: str) -> list[dict]:
    """Yes/no conditions on the facts the text names as who qualifies, fact == true, false when
    negated (_negated). A short kind of enterprise (…企业) counts only ending a comma part, before
    KIND_NEXT or before a quantity it owns (居民企业技术转让所得); else it is a modifier
    (高新技术企业所得税) or an object (投资于高新技术企业)."""
    out: dict[str, dict] = {}
    at = 0
    while at < len(text):
        hit = next(((term, keys) for term, keys in _kind_terms() if text.startswith(term, at)), None)
        if hit is None:
            at += 1
            continue
        term, keys = hit
        end = at + len(term)
        if term.endswith("企业") and len(term) < 10 and (text[at - 1:at] == "于" or _modifies(text, end) or not (
                text[end:end + 1] in KIND_NEXT or text.startswith(KIND_NEXT[4:], end) or text.startswith(_measure_cues(), end))):
            at = end
            continue
        negated = _negated(text, at, end)
        for key, value in keys:
            value, op = (value != negated, "==") if value is True else (value, "!=" if negated else "==")
            out.setdefault(key, {"field": key, "op": op, "value": value,
                                 "wording": _clean(_phrase(text, at, end)), "clause": clause_id})
        at = end
    return list(out.values())


def _modifies(text: str, end: int) -> bool:
    """A kind of enterprise before 的 and another kind later in its comma part is what the other one
    does or is (投资初创科技型企业的创业投资企业: a venture capital enterprise, not a tech enterprise)."""
    if text[end:end + 1] != "的":
        return False
    rest = _COMMA_PART.match(text, end + 1)
    return rest is not None and any(t.endswith("企业") and t in rest.group(0) for t, _ in _kind_terms())


def _phrase(text: str, start: int, end: int) -> str:
    """The words from the comma before a term to the one after it: 未发生重大安全、重大质量事故或严重环境违法行为."""
    left = max(text.rfind(c, 0, start) for c in "，,：:") + 1
    right = min((i for i in (text.find(c, end) for c in "，,：:") if i >= 0), default=len(text))
    return text[left:right]


def _negated(text: str, start: int, end: int) -> bool:
    """未/非/没有/无/不得 between the term and the comma or 、 before it (前一年内未发生…; 非限制和禁止行业;
    也未与科技人员约定…), or 除 before it and 以外 after it in its comma part."""
    left = max(text.rfind(c, 0, start) for c in "，,、：:") + 1
    if any(w in text[left:start] for w in NEGATIONS):
        return True
    phrase = _phrase(text, start, end)
    here = text.find(phrase)
    return "除" in text[here:start] and any(w in text[end:here + len(phrase)] for w in ("以外", "之外"))


def _bounds(sentence: str, lead: str) -> list[Bound]:
    """The sentence's bounds as conditions, leaving out asides in brackets (实际经营期不满三年的按…计算)."""
    out = []
    for t in find_thresholds(sentence):
        before = sentence[:t.start]
        if before.count("（") + before.count("(") > before.count("）") + before.count(")"):
            continue
        tail = _tail(t.subject)
        fact = fact_for(t.subject, t.unit) if t.subject else None
        if lead and tail.removesuffix("的") in GENERIC:  # 比例不低于5%: the lead-in names what
            fact = fact_for(lead, t.unit) or fact
        start = sentence.rfind(tail, 0, t.start) if tail else -1
        start = start if start >= 0 else t.start
        out.append(Bound(t, fact, _clean(sentence[start:t.end]), tail, start))
    return out


def _tail(subject: str) -> str:
    """The measured phrase: the subject's words after its last comma or bracket, connectives dropped."""
    stops = list(_TAIL_STOP.finditer(subject))
    tail = subject[stops[-1].end():] if stops else subject
    figures = [n for n in numbers(tail) if n.kind == "percent" or n.is_money]  # 投资额的70%在股权持有
    return _clean(tail[figures[-1].end:] if figures else tail)


def _clean(text: str) -> str:
    return _LEAD.sub("", text.strip()).strip()


def _sizes_benefit(sentence: str, t: Threshold) -> bool:
    """A bound that sizes what is granted (给予不超过200万元补助, 不超过500万元的部分, 给予补助，最高不超过
    100万元: a condition comes before the grant, a cap after it) or a penalty."""
    after = sentence[t.end:t.end + 4]
    tail = _tail(t.subject)
    cap = t.unit == "万元" and _grants(sentence[:t.start]) or tail.rstrip("不得").endswith(CAPS)
    return cap or tail.endswith(GRANT_WORDS) or any(w in tail for w in BENEFIT_WORDS) or any(
        after.startswith(w) or after[1:].startswith(w) for w in SIZE_AFTER)


def _band(sentence: str, found: list[Bound]) -> tuple[Bound, Bound] | None:
    """(guard, bound) when a list item bounds a size before 的企业 and another fact after it:
    最近一年销售收入小于5,000万元（含）的企业，比例不低于5%."""
    if len(found) < 2:
        return None
    guard, bound = found[-2], found[-1]
    between = sentence[guard.threshold.end:bound.threshold.start]
    if "的企业" not in between or guard.fact is None or guard.fact == bound.fact:
        return None
    if len(found) > 2 and found[-3].fact == guard.fact:  # a range: 在5,000万元至2亿元（含）
        low = found[-3]
        guard = Bound(guard.threshold, guard.fact, _clean(sentence[low.start:guard.threshold.end]), low.tail, low.start)
    return guard, bound


def _dedupe(bounds: list[Bound]) -> list[Bound]:
    """One condition per (fact or phrase, op, value): a bound the clause says twice, or once on an
    unknown fact and once on a known one (2年以上 … 股权持有满2年), is kept once, on the known fact."""
    named = {(b.threshold.op, round(b.threshold.value, 6), b.threshold.unit) for b in bounds if b.fact}
    seen: set[tuple] = set()
    out = []
    for b in bounds:
        same = (b.threshold.op, round(b.threshold.value, 6), b.threshold.unit)
        if (b.fact is None and same in named) or b.key in seen:
            continue
        seen.add(b.key)
        out.append(b)
    return out


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 6)


def _condition(c: Bound | list[tuple[Bound, Bound]], clause_id: str) -> dict:
    if isinstance(c, Bound):
        t = c.threshold
        return {"field": c.fact or UNKNOWN_FIELD, "op": t.op, "value": _number(t.value), "unit": t.unit,
                "wording": c.wording, "clause": clause_id}
    first = c[0][1]
    bands = [{"when": {"field": g.fact, "op": g.threshold.op, "value": _number(g.threshold.value),
                       "unit": g.threshold.unit, "wording": g.wording},
              "value": _number(b.threshold.value), "wording": b.wording} for g, b in c]
    return {"field": first.fact or UNKNOWN_FIELD, "op": first.threshold.op, "unit": first.threshold.unit,
            "wording": first.wording, "clause": clause_id, "bands": bands}


def _amend(rule: dict, note: str, clause_id: str) -> None:
    """Bounds the amendment note sets on a fact replace the clause's bounds on that fact."""
    for t in find_thresholds(note):
        fact = fact_for(t.subject, t.unit)
        if fact is None:
            continue
        replaced = [c for c in rule["conditions"] if c["field"] == fact and "bands" not in c]
        rule["conditions"] = [c for c in rule["conditions"] if c not in replaced]
        tail = _tail(t.subject)
        spec = {"field": fact, "op": t.op, "value": _number(t.value), "unit": t.unit,
                "wording": _clean(note[t.start - len(tail):t.end]), "clause": clause_id, "source": "amendment"}
        if replaced:
            spec["replaces"] = list(dict.fromkeys(c["wording"] for c in replaced))
        rule["conditions"].append(spec)
    have = {c["field"] for c in rule["conditions"]}
    rule["conditions"] += [{**c, "source": "amendment"} for c in _kinds(note, clause_id) if c["field"] not in have]


def _benefit_size(granting: str | None, sizes: list[Threshold]) -> dict:
    """amount: the first bound sizing the benefit in money (不超过200万元); rate: the first percent of the
    granting sentence (15%)."""
    out = {}
    money = [t.text for t in sizes if t.unit == "万元" and granting and t.text in granting]
    verb = min((granting.find(w) for w in BENEFIT_WORDS if w in granting), default=-1) if granting else -1
    money += [n.text for n in numbers(granting or "") if n.is_money and n.start > verb >= 0]  # 奖励20万元
    if money:
        out["amount"] = money[0]
    percent = [n for n in numbers(granting or "") if n.kind == "percent"]
    if percent:
        out["rate"] = percent[0].text
    return out


def _name(clause: Clause, benefit: str, item: str = "") -> str:
    short = benefit if len(benefit) <= 30 else benefit[:30] + "…"
    return f"{clause.path}{item}：{short}（草稿）"


def _id_base(slug: str) -> str:
    """A rule id prefix from a document slug: its ASCII letters and digits, or a short hash of it."""
    ascii_slug = re.sub(r"[^a-z0-9]+", "-", slug.lower()).strip("-")
    return ascii_slug or "doc-" + hashlib.sha1(slug.encode()).hexdigest()[:8]


# ---- checking and writing ----

def check_drafts(slug: str, rules: Sequence[dict], clauses: Mapping[str, Clause],
                 amendments: Mapping[str, Amendment]) -> DocumentDraft:
    """Each draft through the rule schema and validator, as load_rules checks an accepted file."""
    from pydantic import ValidationError

    from bot.matching.rules import Rule

    draft = DocumentDraft(slug)
    parsed = []
    for spec in rules:
        try:
            parsed.append(Rule.model_validate(spec))
        except ValidationError as exc:
            log.warning("draft rule %s refused by the schema: %s", spec.get("id"), exc.errors()[0]["msg"])
            draft.skipped += 1
            continue
        draft.rules.append(spec)
    draft.problems = validation_problems(parsed, clauses, amendments)
    return draft


def validation_problems(rules: Sequence[Any], clauses: Mapping[str, Clause],
                        amendments: Mapping[str, Amendment]) -> list[list[str]]:
    """Each rule's problems as load_rules would find them (empty list: it would load)."""
    from bot.matching.validate import condition_fields, rule_problems

    known = condition_fields()
    return [rule_problems(rule, clauses, amendments, known) for rule in rules]


def draft_text(draft: DocumentDraft, title: str) -> str:
    """The draft file: a header saying what it is, each rule preceded by why it fails validation."""
    import yaml

    lines = [f"# 规则草稿：由 PolicyBot 根据《{title or draft.slug}》（{draft.slug}）的条款自动起草，未经审核，不参与匹配。",
             "# 请逐条核对（字段、比较方式、数值、适用范围 scope），在“文档管理”页编辑后接受；接受时再次校验。", ""]
    for spec, problems in zip(draft.rules, draft.problems):
        lines += [f"# 未通过校验：{p}" for p in problems]
        lines.append(yaml.safe_dump([spec], allow_unicode=True, sort_keys=False, width=1000).rstrip())
        lines.append("")
    return "\n".join(lines)


def cited_documents(rules_dir: Path) -> set[str]:
    """Documents some accepted rule file cites: they have rules already and are not drafted."""
    from bot.errors import DocumentError
    from bot.matching.rules import read_rule_file

    cited: set[str] = set()
    for path in sorted(rules_dir.glob("*.y*ml")) if rules_dir.is_dir() else ():
        try:
            cited.update(cid.split("#")[0] for rule in read_rule_file(path) for cid in rule.clauses)
        except DocumentError:
            continue
    return cited


def rules_folder(corpus_dir: Path) -> Path:
    """The rules folder of a corpus (the one load_corpus_rules reads)."""
    return Path(corpus_dir) / "rules"


def drafts_folder(corpus_dir: Path) -> Path:
    return rules_folder(corpus_dir) / DRAFTS


def draft_new_documents(store, file_hashes: Mapping[str, Mapping[str, str]],
                        previous: Mapping[str, Mapping[str, str]], corpus_dir: Path) -> list[str]:
    """Write drafts for the documents of this ingest that are new or changed since `previous` (the
    serving generation's file hashes), belong to the corpus (in it, or staged by an upload beside
    it), and have neither accepted rules nor a draft already (an admin's edits are never overwritten).
    Returns one line per draft written, for the ingest report."""
    corpus = Path(corpus_dir).resolve()
    from bot.ingest.loaders import staging_root

    homes = (corpus, staging_root(corpus))
    rules_dir, drafts = rules_folder(corpus), drafts_folder(corpus)
    cited = None
    lines: list[str] = []
    for slug, meta in sorted(store.documents.items()):
        source = file_hashes.get(slug, {})
        if previous.get(slug, {}).get("sha256") == source.get("sha256"):
            continue
        if not any(Path(source.get("path", "")).resolve().is_relative_to(home) for home in homes):
            continue
        target = drafts / f"{slug}.yaml"
        if target.exists() or (rules_dir / f"{slug}.yaml").exists():
            continue
        cited = cited_documents(rules_dir) if cited is None else cited
        if slug in cited:
            continue
        clauses = [c for c in store.clauses.values() if c.doc_slug == slug]
        try:
            specs = draft_document(slug, meta.title, clauses, store.amendments)
            draft = check_drafts(slug, specs, store.clauses, store.amendments)
        except Exception:  # the new index already serves: a drafting fault must not fail the ingest
            log.exception("rule drafting failed for %s", slug)
            lines.append(f"{slug}：起草规则时出错，未写入草稿（详情见服务器日志）")
            continue
        if not specs:
            continue
        if not draft.rules:
            lines.append(f"{slug}：起草的 {draft.skipped} 条规则格式不符，未写入草稿")
            continue
        try:
            drafts.mkdir(parents=True, exist_ok=True)
            part = drafts / f".{slug}.yaml.part"
            part.write_text(draft_text(draft, meta.title), encoding="utf-8")
            os.replace(part, target)
        except OSError as exc:
            lines.append(f"{slug}：规则草稿无法写入（{type(exc).__name__}）")
            continue
        note = f"，其中 {draft.invalid} 条未通过校验（原因写在文件中）" if draft.invalid else ""
        skipped = f"，另有 {draft.skipped} 条格式不符未写入" if draft.skipped else ""
        lines.append(f"{slug}：已起草规则 {len(draft.rules)} 条{note}{skipped}，待管理员在“文档管理”页审核")
    return lines
