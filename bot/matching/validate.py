"""The rule validator: a rule cannot quote a clause that does not say what the rule says.

Every cited clause exists; every wording is in the clause it names (or in the amendment note, for
`source: amendment`); every number of a condition, band or benefit occurs in that text; the
operator agrees with the wording as bot.text.thresholds reads it; units fit the profile field; a
rule citing an amended clause carries its note verbatim. bot.matching.rules runs it on every load.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.matching.derived import DERIVED
from bot.matching.profile import EnterpriseProfile
from bot.matching.rules import NUMERIC_OPS, TALENT, AmendmentEnd, Condition, Rule
from bot.records import Amendment, Clause
from bot.text.facts import facts
from bot.text.numerals import written_values
from bot.text.thresholds import implied_op
from bot.text.units import convert
from bot.text.width import compact


def condition_fields() -> set[str]:
    """Names a condition may compare: stored profile fields, derived facts, talent facts (those with a
    question to ask when a talent's is unknown)."""
    stored = set(EnterpriseProfile.model_fields) - {"name", "zone", "ip", "talents", "registration_date",
                                                    "hightech_certificate_date", "as_of"}
    return stored | set(DERIVED) | {k for k, f in facts().items() if k.startswith(TALENT) and f.question}


def validate_rules(rules: Sequence[Rule], clauses: Mapping[str, Clause],
                   amendments: Mapping[str, Amendment] | None = None) -> list[str]:
    """Problems with `rules`, one line each, led by the rule id and its file (empty: all good).
    Without `amendments`, amendment notes are not checked against amendments.yaml."""
    problems: list[str] = []
    known = condition_fields()
    seen: set[str] = set()
    for rule in rules:
        where = f"{rule.id}（{rule.source_file}）" if rule.source_file else rule.id
        found = (["id 重复"] if rule.id in seen else []) + rule_problems(rule, clauses, amendments, known)
        problems += [f"{where}：{text}" for text in found]
        seen.add(rule.id)
    return problems


def rule_problems(rule: Rule, clauses: Mapping[str, Clause], amendments: Mapping[str, Amendment] | None,
                  known: set[str]) -> list[str]:
    """The problems of one rule (`known`: condition_fields()), each naming the field it is in."""
    return _RuleCheck(rule, clauses, amendments, known).run()


class _RuleCheck:
    """The checks of one rule; `run` returns its problems."""

    def __init__(self, rule: Rule, clauses: Mapping[str, Clause], amendments: Mapping[str, Amendment] | None,
                 known: set[str]):
        self.rule, self.amendments, self.known = rule, amendments, known
        self.problems: list[str] = [f"引用的条款不存在：{cid}" for cid in rule.clauses if cid not in clauses]
        self.texts = {cid: compact(clauses[cid].text) for cid in rule.clauses if cid in clauses}
        self.cited_numbers = set().union(*(written_values(clauses[c].text) for c in self.texts))
        self.note = compact(rule.amendment_note or "")

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def run(self) -> list[str]:
        rule = self.rule
        self._amendment()
        for i, cond in enumerate(rule.conditions):
            self._condition(cond, f"conditions[{i}]（{cond.field}）")
        for part in ("text", "amount", "rate"):
            value = getattr(rule.benefit, part)
            for number in sorted(written_values(value or "") - self.cited_numbers):
                self.problem(f"benefit.{part} 中的数字 {number:g} 不在所引条款中")
        if rule.benefit.current:
            if not rule.amendment_note:
                self.problem("benefit.current 需要 amendment_note")
            for number in sorted(written_values(rule.benefit.current) - written_values(rule.amendment_note or "")):
                self.problem(f"benefit.current 中的数字 {number:g} 不在 amendment_note 中")
        if rule.scope_wording and not any(compact(rule.scope_wording) in t for t in self.texts.values()):
            self.problem(f"scope_wording“{rule.scope_wording}”不在所引条款中")
        if rule.validity:
            v = rule.validity
            if self._located(v.wording, v.clause, v.source, "validity"):
                for day in (v.valid_from, v.until):
                    if day and not {day.year, day.month, day.day} <= written_values(v.wording):
                        self.problem(f"validity 的日期 {day} 与措辞“{v.wording}”不符")
            if not (v.valid_from or v.until):
                self.problem("validity 需要 from 或 until")
            if v.until and v.source == "amendment":
                self.problem("validity 的截止日期出自修改公告：到期的只是修改部分，条款本身仍然有效，请改用 amendment_ends")
        if rule.amendment_ends:
            self._amendment_ends(rule.amendment_ends)
        return self.problems

    def _amendment_ends(self, end: AmendmentEnd) -> None:
        """The end date is the amendment note's; the conditions that return are the clause's own words."""
        if self._located(end.wording, None, "amendment", "amendment_ends") and not (
                {end.until.year, end.until.month, end.until.day} <= written_values(end.wording)):
            self.problem(f"amendment_ends 的日期 {end.until} 与措辞“{end.wording}”不符")
        if not any(c.source == "amendment" for c in self.rule.conditions):
            self.problem("amendment_ends 需要至少一个 source: amendment 的条件（到期后被替换的条件）")
        for i, cond in enumerate(end.conditions):
            what = f"amendment_ends.conditions[{i}]（{cond.field}）"
            if cond.source != "clause":
                self.problem(f"{what}应是条款本身的条件（source: clause）")
            self._condition(cond, what)

    def _amendment(self) -> None:
        if self.amendments is None:
            return
        rule = self.rule
        amended = [self.amendments[c] for c in rule.clauses if c in self.amendments]
        if len(amended) > 1:
            self.problem("引用了多个被修改的条款，amendment_note 只能对应一个")
        elif amended and self.note != compact(amended[0].note):
            self.problem(f"引用的条款 {amended[0].clause_id} 已被修改，amendment_note 应照抄 amendments.yaml 中的 note")
        elif not amended and rule.amendment_note:
            self.problem("有 amendment_note，但引用的条款都没有被修改")

    def _located(self, wording: str, clause: str | None, source: str, what: str) -> bool:
        """Whether `wording` is where it says it is; reports it if not."""
        rule = self.rule
        if clause is not None and clause not in rule.clauses:
            self.problem(f"{what}的 clause {clause} 不在本规则的 clauses 中")
            return False
        if source == "amendment":
            if not rule.amendment_note:
                self.problem(f"{what}标为 source: amendment，但规则没有 amendment_note")
                return False
            if compact(wording) not in self.note:
                self.problem(f"{what}的措辞“{wording}”不在 amendment_note 中")
                return False
            return True
        if clause is None and len(rule.clauses) > 1:
            self.problem(f"{what}未写 clause，而规则引用了多个条款")
            return False
        texts = self.texts
        pool = [texts[clause]] if clause in texts else ([] if clause else list(texts.values()))
        if pool and not any(compact(wording) in t for t in pool):
            self.problem(f"{what}的措辞“{wording}”不在所引条款 {clause or rule.clauses[0]} 中")
            return False
        return bool(pool)

    def _threshold(self, value: Any, wording: str, op: str, unit: str, fact: str, what: str) -> None:
        if fact not in self.known:
            self.problem(f"{what}的字段 {fact} 不是企业画像中的字段")
            return
        if op not in NUMERIC_OPS:
            return
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            self.problem(f"{what}的 op {op} 需要数值，收到 {value!r}")
            return
        want = facts()[fact].unit if fact in facts() else ""
        if unit != want and not _convertible(unit, want):
            self.problem(f"{what}的单位 {unit or '（空）'} 与字段 {fact} 的单位 {want or '（无）'} 不符")
        if float(value) not in written_values(wording):
            self.problem(f"{what}的数值 {value:g} 不在措辞“{wording}”中")
        implied = implied_op(wording)
        if implied is None:
            self.problem(f"{what}的措辞“{wording}”没有说明比较方式（超过、不低于、不超过……）")
        elif implied != op:
            self.problem(f"{what}的 op {op} 与措辞“{wording}”（应为 {implied}）不符")

    def _condition(self, cond: Condition, what: str) -> None:
        self._located(cond.wording, cond.clause, cond.source, what)
        target = cond.clause if cond.clause in self.texts else None
        pool = [self.texts[target]] if target else list(self.texts.values())
        for original in cond.replaces:
            if not any(compact(original) in t for t in pool):
                self.problem(f"{what}的 replaces“{original}”不在所引条款中")
        if cond.source == "clause" and cond.replaces:
            self.problem(f"{what}有 replaces 却不是 source: amendment")
        if not cond.bands:
            if cond.op == "in" and not isinstance(cond.value, list):
                self.problem(f"{what}的 op in 需要列表")
            elif cond.op in ("==", "!=") and not isinstance(cond.value, (bool, str)):
                self.problem(f"{what}的 op {cond.op} 需要 true/false 或文字")
            self._threshold(cond.value, cond.wording, cond.op, cond.unit, cond.field, what)
            return
        if cond.value is not None:
            self.problem(f"{what}既有 value 又有 bands")
        if cond.field not in self.known:
            self.problem(f"{what}的字段 {cond.field} 不是企业画像中的字段")
        for j, band in enumerate(cond.bands):
            bwhat = f"{what}.bands[{j}]"
            if self._located(band.wording, cond.clause, cond.source, bwhat):
                self._threshold(band.value, band.wording, cond.op, cond.unit, cond.field, bwhat)
            g = band.when
            if self._located(g.wording, cond.clause, cond.source, f"{bwhat}.when"):
                self._threshold(g.value, g.wording, g.op, g.unit, g.field, f"{bwhat}.when")


def _convertible(unit: str, to: str) -> bool:
    try:
        convert(1, unit, to)
    except ValueError:
        return False
    return True
