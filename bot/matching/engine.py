"""Eligibility: an enterprise profile held against the rules of corpus/rules (bot.matching.rules).

Boundaries follow the wording as bot.text.thresholds reads it: 超过/高于 are strict, 不低于/以上/达到
are not, 不超过/以下/（含） are inclusive upper bounds, 未满/不足 strict ones. `match` gives one
Verdict per rule: eligible, not_eligible, or needs_info with the questions that would settle it
(bot.matching.guided picks which to ask). bot.matching.render shows verdicts as text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from bot.matching.derived import Fact
from bot.matching.distance import distance
from bot.matching.profile import EnterpriseProfile, Talent
from bot.matching.rules import TALENT, Band, Condition, Rule
from bot.text.facts import facts
from bot.text.thresholds import compare
from bot.text.units import convert

SCOPES = {
    "national": "全国",
    "guizhou": "贵州省",
    "all_zones": "贵州省高新区（国家级或省级）",
    "national_hitech_zones": "贵州省国家高新区",
}
STATUS_LABELS = {"eligible": "符合条件", "not_eligible": "不符合条件", "needs_info": "需补充信息"}
OBLIGATION_LABELS = {"eligible": "适用", "not_eligible": "不适用", "needs_info": "需补充信息"}


@dataclass(frozen=True)
class ConditionResult:
    """One condition of a rule against the profile: met, not_met, or unknown (and what to ask)."""

    field: str
    label: str
    op: str
    threshold: Any  # in the profile field's unit (万元, %, 年…); True/False; a list for `in`
    unit: str
    wording: str  # the clause's (or amendment note's) own words for the condition
    clause_id: str
    status: Literal["met", "not_met", "unknown"]
    actual: Any = None  # the profile's value; None when unknown
    source: str = "clause"  # clause | amendment | scope | validity
    detail: str = ""  # e.g. which talent was checked
    ask: tuple[str, ...] = ()  # profile fields that would settle an unknown
    distance: str = ""  # a not-met numeric condition's gap (bot.matching.distance): 还差 0.4 个百分点才超过5%
    basis: str = ""  # what a derived value rests on (根据行业推定); empty for a stated one


@dataclass(frozen=True)
class Verdict:
    """One rule against one profile."""

    rule_id: str
    name: str
    kind: str  # benefit | obligation
    status: Literal["eligible", "not_eligible", "needs_info"]
    conditions: tuple[ConditionResult, ...]
    missing: dict[str, str] = field(default_factory=dict)  # profile field -> question to ask
    citations: tuple[str, ...] = ()  # clause ids the rule rests on
    benefit: str = ""
    amount: str | None = None
    rate: str | None = None
    current_benefit: str | None = None  # the benefit as a later document amended it
    amendment_note: str | None = None  # editor's note, never a quote
    scope: str = "national"

    @property
    def status_label(self) -> str:
        return (OBLIGATION_LABELS if self.kind == "obligation" else STATUS_LABELS)[self.status]

    @property
    def unmet(self) -> tuple[ConditionResult, ...]:
        return tuple(c for c in self.conditions if c.status == "not_met")


def match(profile: EnterpriseProfile, rules: Iterable[Rule], today: date | None = None) -> list[Verdict]:
    """One Verdict per rule, in rule order. `today` (default: profile.as_of, else today) decides
    rule validity and the age of a company given by its registration date."""
    today = today or profile.as_of or date.today()
    return [_judge(profile, rule, today) for rule in rules]


def _judge(profile: EnterpriseProfile, rule: Rule, today: date) -> Verdict:
    results: list[ConditionResult] = []
    if rule.validity:
        results.append(_validity(rule, today))
    results += _scope(profile, rule, today)
    conditions, current = _in_force(rule, today)
    talent_conditions = [c for c in conditions if c.field.startswith(TALENT)]
    for cond in conditions:
        if cond.field.startswith(TALENT):
            if cond is talent_conditions[0]:
                results += _talents(profile, rule, talent_conditions)
            continue
        results.append(_bands(profile, rule, cond, today) if cond.bands else _single(profile, rule, cond, today))
    results = [replace(r, distance=distance(r, profile)) if r.status == "not_met" else r for r in results]
    statuses = {r.status for r in results}
    status = "not_eligible" if "not_met" in statuses else "needs_info" if "unknown" in statuses else "eligible"
    missing: dict[str, str] = {}
    if status == "needs_info":
        for r in results:
            for name in r.ask:
                missing.setdefault(name, facts()[name].question)
    b = rule.benefit
    return Verdict(rule.id, rule.name, rule.kind, status, tuple(results), missing, rule.clauses, b.text, b.amount,
                   b.rate, current, rule.amendment_note, rule.scope)


def _in_force(rule: Rule, today: date) -> tuple[tuple[Condition, ...], str | None]:
    """The conditions and amended benefit that hold on `today`: once an amendment has ended
    (rule.amendment_ends), the clause's own conditions replace the amendment's and its benefit stands."""
    end = rule.amendment_ends
    if end is None or today <= end.until:
        return rule.conditions, rule.benefit.current
    return tuple(c for c in rule.conditions if c.source != "amendment") + end.conditions, None


def _canonical(value: Any, unit: str, fact: str) -> Any:
    """A rule's threshold in the unit the profile keeps the fact in: (3, 亿元, revenue_wan) -> 30000."""
    want = facts()[fact].unit if fact in facts() else unit
    return convert(value, unit, want) if unit and unit != want else value



def _result(cond_field: str, op: str, threshold: Any, wording: str, clause: str, fact: Fact, source: str,
            detail: str = "") -> ConditionResult:
    info = facts().get(cond_field)
    label, unit = (info.label, info.unit) if info else (cond_field, "")
    if fact.value is None:
        status = "unknown"
    else:
        status = "met" if compare(fact.value, op, threshold) else "not_met"
    return ConditionResult(cond_field, label, op, threshold, unit, wording, clause, status, fact.value, source,
                           detail, fact.ask if status == "unknown" else (), basis=fact.basis)


def _clause_of(rule: Rule, cond_clause: str | None) -> str:
    return cond_clause or rule.clauses[0]


def _single(profile: EnterpriseProfile, rule: Rule, cond: Condition, today: date) -> ConditionResult:
    fact = profile.fact(cond.field, today)
    return _result(cond.field, cond.op, _canonical(cond.value, cond.unit, cond.field), cond.wording,
                   _clause_of(rule, cond.clause), fact, cond.source)


def _bands(profile: EnterpriseProfile, rule: Rule, cond: Condition, today: date) -> ConditionResult:
    """The first band whose guard holds sets the threshold; an unknown guard leaves it unknown, worded
    with every band so the reader sees what each answer would require."""
    clause = _clause_of(rule, cond.clause)
    fact = profile.fact(cond.field, today)
    for band in cond.bands:
        g = band.when
        guard = profile.fact(g.field, today)
        if guard.value is None:
            ask = guard.ask + (fact.ask if fact.value is None else ())
            every = "；".join(_band_wording(b) for b in cond.bands)
            unknown = _result(cond.field, cond.op, None, every, clause, Fact(None, ask), cond.source)
            return replace(unknown, actual=fact.value, basis=fact.basis)  # the value given, with what is still missing
        if compare(guard.value, g.op, _canonical(g.value, g.unit, g.field)):
            return _result(cond.field, cond.op, _canonical(band.value, cond.unit, cond.field), _band_wording(band),
                           clause, fact, cond.source)
    info = facts()[cond.field]
    return ConditionResult(cond.field, info.label, cond.op, None, info.unit, cond.wording, clause, "not_met",
                           fact.value, cond.source, "不在条款列出的任何区间", basis=fact.basis)


def _band_wording(band: Band) -> str:
    """最近一年销售收入小于5,000万元（含）的企业，比例不低于5%; 工业企业，从业人数不超过100人."""
    guard = band.when.wording
    return f"{guard}{'' if guard.endswith('企业') else '的企业'}，{band.wording}"


def _talents(profile: EnterpriseProfile, rule: Rule, conds: list[Condition]) -> list[ConditionResult]:
    """Talent conditions hold together for one person: the best-placed talent is reported."""
    def judged(talent: Talent | None) -> list[ConditionResult]:
        out = []
        for c in conds:
            name = c.field[len(TALENT):]
            if talent is None:
                fact = Fact(None, ("talents",))
            else:
                value = talent.fact(name)
                fact = Fact(value, () if value is not None else (c.field,))
            out.append(_result(c.field, c.op, _canonical(c.value, c.unit, c.field), c.wording,
                               _clause_of(rule, c.clause), fact, c.source, talent.describe() if talent else ""))
        return out

    if profile.talents is None:
        return judged(None)
    if not profile.talents:
        return [ConditionResult(c.field, facts()[c.field].label, c.op, c.value, facts()[c.field].unit, c.wording,
                                _clause_of(rule, c.clause), "not_met", None, c.source, "没有境外人才")
                for c in conds]
    ranked = sorted((judged(t) for t in profile.talents),
                    key=lambda rs: (sum(r.status == "not_met" for r in rs), sum(r.status == "unknown" for r in rs)))
    return ranked[0]


def _scope(profile: EnterpriseProfile, rule: Rule, today: date) -> list[ConditionResult]:
    if rule.scope == "national":
        return []
    wording = rule.scope_wording or SCOPES[rule.scope]
    clause = rule.clauses[0]
    out = [_result("in_guizhou", "==", True, wording, clause, profile.fact("in_guizhou", today), "scope")]
    if rule.scope == "all_zones":
        out.append(_result("zone_level", "in", ["national", "provincial"], wording, clause,
                           profile.fact("zone_level", today), "scope"))
    elif rule.scope == "national_hitech_zones":
        out.append(_result("zone_level", "==", "national", wording, clause, profile.fact("zone_level", today),
                           "scope"))
    return out


def _validity(rule: Rule, today: date) -> ConditionResult:
    v = rule.validity
    ok = (v.valid_from is None or today >= v.valid_from) and (v.until is None or today <= v.until)
    span = f"{v.valid_from or ''}至{v.until or ''}"
    return ConditionResult("today", "政策有效期", "in", span, "", v.wording, _clause_of(rule, v.clause),
                           "met" if ok else "not_met", today.isoformat(), "validity" if v.source == "clause" else
                           "amendment")
