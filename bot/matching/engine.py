"""Eligibility: an enterprise profile held against the rules in corpus/rules/*.yaml.

A rule is one benefit or obligation an enterprise can act on. Its conditions name a profile fact,
an operator, a threshold and the exact clause wording the threshold comes from ("超过5%"), and it
cites the clauses it rests on; `validate_rules` checks all of that against the parsed corpus, so a
rule cannot quote a clause that does not say what the rule says.

Boundaries follow the wording as bot.text.thresholds reads it: 超过/高于 are strict, 不低于/以上/达到
are not, 不超过/以下/（含） are inclusive upper bounds, 未满/不足 strict ones. `match` gives one
Verdict per rule: eligible, not_eligible, or needs_info with the questions that would settle it;
`ranked_missing` orders those questions for a chat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from bot.errors import DocumentError
from bot.records import Amendment, Clause
from bot.matching.profile import DERIVED, EnterpriseProfile, Fact, Talent
from bot.text.facts import facts
from bot.text.numerals import written_values
from bot.text.thresholds import compare, implied_op
from bot.text.units import convert
from bot.text.width import compact

Op = Literal[">", ">=", "<", "<=", "==", "!=", "in"]
NUMERIC_OPS = (">", ">=", "<", "<=")
SCOPES = {
    "national": "全国",
    "guizhou": "贵州省",
    "all_zones": "贵州省高新区（国家级或省级）",
    "national_hitech_zones": "贵州省国家高新区",
}
STATUS_LABELS = {"eligible": "符合条件", "not_eligible": "不符合条件", "needs_info": "需补充信息"}
OBLIGATION_LABELS = {"eligible": "适用", "not_eligible": "不适用", "needs_info": "需补充信息"}
_TALENT = "talents."


# ---- the rule file schema ----

class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Guard(_Spec):
    """The revenue band a threshold applies in: 最近一年销售收入小于5,000万元（含）."""

    field: str
    op: Op
    value: float
    unit: str = ""
    wording: str


class Band(_Spec):
    when: Guard
    value: float
    wording: str


class Condition(_Spec):
    field: str = Field(description="a profile fact: EnterpriseProfile field or derived name (bot/text/facts.yaml)")
    op: Op
    value: bool | float | str | list[str] | None = None
    unit: str = ""
    wording: str = Field(description="the threshold exactly as the clause (or amendment note) words it")
    clause: str | None = Field(None, description="the cited clause the wording is in; required if several are cited")
    source: Literal["clause", "amendment"] = "clause"
    replaces: tuple[str, ...] = Field((), description="the clause's own wording an amendment replaced")
    bands: tuple[Band, ...] = Field((), description="ordered; the first band whose `when` holds gives the threshold")


class Benefit(_Spec):
    text: str
    amount: str | None = None
    rate: str | None = None
    current: str | None = Field(None, description="the benefit as amended, from amendment_note")


class Validity(_Spec):
    valid_from: date | None = Field(None, alias="from")
    until: date | None = None
    wording: str
    clause: str | None = None
    source: Literal["clause", "amendment"] = "clause"


class Rule(_Spec):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    kind: Literal["benefit", "obligation"] = "benefit"
    scope: Literal["national", "guizhou", "all_zones", "national_hitech_zones"]
    scope_wording: str | None = None
    benefit: Benefit
    conditions: tuple[Condition, ...] = ()
    validity: Validity | None = None
    clauses: tuple[str, ...] = Field(min_length=1)
    amendment_note: str | None = None
    _source: str = PrivateAttr(default="")

    @property
    def source_file(self) -> str:
        return self._source


def load_rules(folder: str | Path) -> list[Rule]:
    """Every rule in folder/*.yaml (sorted by file name). A malformed file or rule is a DocumentError
    naming the file, the rule id (or its position) and the field."""
    import yaml

    folder = Path(folder)
    if not folder.is_dir():
        raise DocumentError(folder, "规则目录不存在")
    rules: list[Rule] = []
    seen: dict[str, Path] = {}
    for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f"第 {mark.line + 1} 行" if mark else ""
            raise DocumentError(path, f"YAML 无法解析{at}：{getattr(exc, 'problem', None) or exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DocumentError(path, f"无法读取（{type(exc).__name__}）") from None
        if raw is None:
            continue
        if not isinstance(raw, list):
            raise DocumentError(path, "应为规则列表（每条以 - id: 开头）")
        for n, entry in enumerate(raw, 1):
            name = f"第 {n} 条规则"
            if not isinstance(entry, dict):
                raise DocumentError(path, f"{name}不是映射")
            if isinstance(entry.get("id"), str):
                name = f"规则 {entry['id']}"
            try:
                rule = Rule.model_validate(entry)
            except ValidationError as exc:
                raise DocumentError(path, f"{name}：{_rule_problem(exc)}") from None
            if rule.id in seen:
                raise DocumentError(path, f"{name}：id 与 {seen[rule.id].name} 中的规则重复")
            seen[rule.id] = path
            rule._source = path.name
            rules.append(rule)
    return rules


def _rule_problem(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    where = ""
    for part in error["loc"]:
        if isinstance(part, int):
            where += f"[{part}]"
        elif not str(part).startswith(("function-", "literal[")) and part not in ("bool", "float", "str", "list[str]", "none"):
            where += ("." if where else "") + str(part)
    kind = error["type"]
    if kind == "missing":
        return f"缺少字段 {where}"
    if kind == "extra_forbidden":
        return f"未知字段 {where}"
    value = error.get("input")
    shown = repr(value) if isinstance(value, str) else value
    if kind == "literal_error":
        return f"字段 {where} 应为 {error['ctx']['expected']} 之一，收到 {shown}"
    if kind == "string_pattern_mismatch":
        return f"字段 {where} 只能用小写字母、数字和连字符，收到 {shown}"
    return f"字段 {where} 取值无效（{error['msg']}），收到 {shown}"


# ---- the validator ----

def condition_fields() -> set[str]:
    """Names a condition may compare: stored profile fields, derived facts, talent facts (those with a
    question to ask when a talent's is unknown)."""
    stored = set(EnterpriseProfile.model_fields) - {"name", "zone", "ip", "talents", "registration_date", "as_of"}
    return stored | set(DERIVED) | {k for k, f in facts().items() if k.startswith(_TALENT) and f.question}


def validate_rules(rules: Sequence[Rule], clauses: Mapping[str, Clause],
                   amendments: Mapping[str, Amendment] | None = None) -> list[str]:
    """Problems with `rules`, one line each (empty: all good). Every cited clause exists; every wording
    is in the clause it names (or in the amendment note, for `source: amendment`); every number of a
    condition, band or benefit occurs in that text; the operator agrees with the wording; units fit the
    profile field. With `amendments`, a rule citing an amended clause must carry its note verbatim."""
    problems: list[str] = []
    known = condition_fields()
    seen: set[str] = set()
    for rule in rules:
        where = f"{rule.id}（{rule.source_file}）" if rule.source_file else rule.id
        found = (["id 重复"] if rule.id in seen else []) + _RuleCheck(rule, clauses, amendments, known).run()
        problems += [f"{where}：{text}" for text in found]
        seen.add(rule.id)
    return problems


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
        return self.problems

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


def corpus_clauses(folder: str | Path) -> dict[str, Clause]:
    """Clauses of every policy file in `folder` by id, parsed without an index (for validate_rules)."""
    from bot.ingest.loaders import SUPPORTED_SUFFIXES, load_document
    from bot.ingest.structure import parse_clauses

    out: dict[str, Clause] = {}
    for path in sorted(Path(folder).iterdir()):
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES and not path.name.lower().startswith("readme"):
            out.update((c.id, c) for c in parse_clauses(load_document(path)))
    return out


# ---- matching ----

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

    def line(self) -> str:
        mark = {"met": "✓", "not_met": "✗", "unknown": "?"}[self.status]
        actual = "未提供" if self.status == "unknown" else _show(self.field, self.actual)
        who = f"（{self.detail}）" if self.detail else ""
        editor = "【编者注】" if self.source == "amendment" else ""
        return f"{mark} {self.label}{who}：{actual} —— 条件：{editor}“{self.wording}”"


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
    talent_conditions = [c for c in rule.conditions if c.field.startswith(_TALENT)]
    for cond in rule.conditions:
        if cond.field.startswith(_TALENT):
            if cond is talent_conditions[0]:
                results += _talents(profile, rule, talent_conditions)
            continue
        results.append(_bands(profile, rule, cond, today) if cond.bands else _single(profile, rule, cond, today))
    statuses = {r.status for r in results}
    status = "not_eligible" if "not_met" in statuses else "needs_info" if "unknown" in statuses else "eligible"
    missing: dict[str, str] = {}
    if status == "needs_info":
        for r in results:
            for name in r.ask:
                missing.setdefault(name, facts()[name].question)
    b = rule.benefit
    return Verdict(rule.id, rule.name, rule.kind, status, tuple(results), missing, rule.clauses, b.text, b.amount,
                   b.rate, b.current, rule.amendment_note, rule.scope)


def _canonical(value: Any, unit: str, fact: str) -> Any:
    """A rule's threshold in the unit the profile keeps the fact in: (3, 亿元, revenue_wan) -> 30000."""
    want = facts()[fact].unit if fact in facts() else unit
    return convert(value, unit, want) if unit and unit != want else value


def _convertible(unit: str, to: str) -> bool:
    try:
        convert(1, unit, to)
    except ValueError:
        return False
    return True


def _result(cond_field: str, op: str, threshold: Any, wording: str, clause: str, fact: Fact, source: str,
            detail: str = "") -> ConditionResult:
    info = facts().get(cond_field)
    label, unit = (info.label, info.unit) if info else (cond_field, "")
    if fact.value is None:
        status = "unknown"
    else:
        status = "met" if compare(fact.value, op, threshold) else "not_met"
    return ConditionResult(cond_field, label, op, threshold, unit, wording, clause, status, fact.value, source,
                           detail, fact.ask if status == "unknown" else ())


def _clause_of(rule: Rule, cond_clause: str | None) -> str:
    return cond_clause or rule.clauses[0]


def _single(profile: EnterpriseProfile, rule: Rule, cond: Condition, today: date) -> ConditionResult:
    fact = profile.fact(cond.field, today)
    return _result(cond.field, cond.op, _canonical(cond.value, cond.unit, cond.field), cond.wording,
                   _clause_of(rule, cond.clause), fact, cond.source)


def _bands(profile: EnterpriseProfile, rule: Rule, cond: Condition, today: date) -> ConditionResult:
    """The first band whose guard holds sets the threshold; an unknown guard leaves it unknown."""
    clause = _clause_of(rule, cond.clause)
    fact = profile.fact(cond.field, today)
    for band in cond.bands:
        g = band.when
        guard = profile.fact(g.field, today)
        if guard.value is None:
            ask = guard.ask + (fact.ask if fact.value is None else ())
            return _result(cond.field, cond.op, None, cond.wording, clause, Fact(None, ask), cond.source)
        if compare(guard.value, g.op, _canonical(g.value, g.unit, g.field)):
            wording = f"{g.wording}的企业，{band.wording}"
            return _result(cond.field, cond.op, _canonical(band.value, cond.unit, cond.field), wording, clause, fact,
                           cond.source)
    info = facts()[cond.field]
    return ConditionResult(cond.field, info.label, cond.op, None, info.unit, cond.wording, clause, "not_met",
                           fact.value, cond.source, "不在条款列出的任何区间")


def _talents(profile: EnterpriseProfile, rule: Rule, conds: list[Condition]) -> list[ConditionResult]:
    """Talent conditions hold together for one person: the best-placed talent is reported."""
    def judged(talent: Talent | None) -> list[ConditionResult]:
        out = []
        for c in conds:
            name = c.field[len(_TALENT):]
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


# ---- what to ask next ----

def ranked_missing(verdicts: Iterable[Verdict]) -> list[tuple[str, str]]:
    """(field, question) for every fact some needs_info verdict lacks, most useful first: a field
    counts 1/k for each verdict missing k fields, so a question that settles a rule alone ranks high."""
    score: dict[str, float] = {}
    order: dict[str, int] = {}
    for v in verdicts:
        if v.status != "needs_info" or not v.missing:
            continue
        for name in v.missing:
            score[name] = score.get(name, 0.0) + 1 / len(v.missing)
            order.setdefault(name, len(order))
    ranked = sorted(score, key=lambda n: (-round(score[n], 9), order[n]))
    out, asked = [], set()
    for name in ranked:
        question = facts()[name].question
        if question not in asked:
            asked.add(question)
            out.append((name, question))
    return out


# ---- showing a verdict ----

def _show(name: str, value: Any) -> str:
    """A fact's value as a person reads it (3亿元, 6%, 国家级高新区, 是); the date a validity check ran on."""
    return facts()[name].show(value) if name in facts() else str(value)


def format_verdict(verdict: Verdict, cite: Callable[[str], str] = str) -> str:
    """Plain text for the CLI and chat: status, benefit, each condition, questions, citations
    (`cite` turns a clause id into the citation line people read)."""
    lines = [f"【{verdict.status_label}】{verdict.name}", f"内容：{verdict.benefit}"]
    if verdict.current_benefit:
        lines.append(f"【编者注】现行标准：{verdict.current_benefit}")
    lines += ["条件："] + [f"  {c.line()}" for c in verdict.conditions]
    if verdict.missing:
        lines += ["还需了解："] + [f"  - {q}" for q in verdict.missing.values()]
    if verdict.amendment_note:
        lines.append(f"【编者注】所依据的条款已被后续文件修改：{verdict.amendment_note}")
    lines.append("依据：" + "；".join(cite(c) for c in verdict.citations))
    return "\n".join(lines)
