"""The rule files of corpus/rules: their YAML schema, and loading them checked against the corpus.

A rule is one benefit or obligation an enterprise can act on. Its conditions name a profile fact,
an operator, a threshold and the exact clause wording the threshold comes from ("超过5%"), and it
cites the clauses it rests on. Rules are validated as they load (bot.matching.validate): a file
that is malformed, or holds a rule the corpus does not bear out, is refused whole with one line
naming the file, the rule and the field, and the other files still serve.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from bot.errors import DocumentError
from bot.records import Amendment, Clause, Document

log = logging.getLogger(__name__)

Op = Literal[">", ">=", "<", "<=", "==", "!=", "in"]
NUMERIC_OPS = (">", ">=", "<", "<=")
TALENT = "talents."  # the prefix of conditions on one foreign talent (talents.age, …)


# ---- the rule file schema ----

class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Guard(_Spec):
    """The revenue band a threshold applies in: 最近一年销售收入小于5,000万元（含）."""

    field: str
    op: Op
    value: bool | float
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


class AmendmentEnd(_Spec):
    """The day an amendment's own terms end, while the clause it amended stays in force (公告2023年第12号's
    wider small-enterprise thresholds and 5% burden: 执行至2027年12月31日). From the next day the rule's
    `source: amendment` conditions and `benefit.current` give way to `conditions`, the clause's own."""

    until: date
    wording: str = Field(description="where the amendment note says when it ends")
    conditions: tuple[Condition, ...] = Field(min_length=1, description="the cited clause's own thresholds")


class Rule(_Spec):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    kind: Literal["benefit", "obligation"] = "benefit"
    scope: Literal["national", "guizhou", "all_zones", "national_hitech_zones"]
    scope_wording: str | None = None
    benefit: Benefit
    conditions: tuple[Condition, ...] = ()
    validity: Validity | None = None
    amendment_ends: AmendmentEnd | None = None
    clauses: tuple[str, ...] = Field(min_length=1)
    amendment_note: str | None = None
    _source: str = PrivateAttr(default="")

    @property
    def source_file(self) -> str:
        return self._source



@dataclass(frozen=True)
class RuleSet:
    """The rules that loaded and passed the validator, and one line per rule file refused."""

    rules: tuple[Rule, ...]
    refused: tuple[str, ...] = ()


def load_corpus_rules(corpus_dir: str | Path) -> RuleSet:
    """The rules of corpus_dir/rules, validated against the clauses and amendments.yaml of corpus_dir."""
    from bot.ingest.amendments import load_amendments

    corpus_dir = Path(corpus_dir)
    notes = corpus_dir / "amendments.yaml"
    amendments = load_amendments(notes) if notes.is_file() else {}
    return load_rules(corpus_dir / "rules", corpus_clauses(corpus_dir), amendments)


def load_rules(folder: str | Path, clauses: Mapping[str, Clause],
               amendments: Mapping[str, Amendment] | None = None) -> RuleSet:
    """Every rule of folder/*.yaml (sorted by file name) whose file reads and passes validate_rules
    against `clauses` (and `amendments`). A file with a malformed or unfounded rule, or an id an
    earlier file has, is refused whole and logged: one wrong rule must not serve, nor stop the rest."""
    from bot.matching.validate import (  # validate imports this schema
        condition_fields,
        rule_problems,
    )

    folder = Path(folder)
    if not folder.is_dir():
        raise DocumentError(folder, "规则目录不存在")
    known = condition_fields()
    rules: list[Rule] = []
    refused: list[str] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
        try:
            found = read_rule_file(path)
            for rule in found:
                if rule.id in seen:
                    raise DocumentError(path, f"规则 {rule.id}：id 与 {seen[rule.id]} 中的规则重复")
                problems = rule_problems(rule, clauses, amendments, known)
                if problems:
                    more = f"（另有 {len(problems) - 1} 处问题）" if len(problems) > 1 else ""
                    raise DocumentError(path, f"规则 {rule.id}：{problems[0]}{more}")
        except DocumentError as exc:
            refused.append(f"规则文件 {path.name} 未载入：{exc.reason}")
            log.warning("rule file refused: %s", refused[-1])
            continue
        seen.update((rule.id, path.name) for rule in found)
        rules += found
    return RuleSet(tuple(rules), tuple(refused))


def read_rule_file(path: Path) -> list[Rule]:
    """The rules of one file, schema-checked only. A malformed file or rule is a DocumentError naming
    the file, the rule id (or its position) and the field."""
    import yaml

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"第 {mark.line + 1} 行" if mark else ""
        raise DocumentError(path, f"YAML 无法解析{at}：{getattr(exc, 'problem', None) or exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError(path, f"无法读取（{type(exc).__name__}）") from None
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise DocumentError(path, "应为规则列表（每条以 - id: 开头）")
    rules: list[Rule] = []
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
        if any(r.id == rule.id for r in rules):
            raise DocumentError(path, f"{name}：id 在本文件中重复")
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


def corpus_clauses(folder: str | Path) -> dict[str, Clause]:
    """Clauses of every policy file in `folder` by id, parsed without an index (for validate_rules).
    A file that cannot be read adds none: the rules citing it are refused, naming the clause."""
    return {c.id: c for _, clauses in corpus_documents(folder) for c in clauses}


def corpus_documents(folder: str | Path) -> Iterator[tuple[Document, list[Clause]]]:
    """Each readable policy file of `folder` (not its README) with its clauses, parsed without an index;
    a file that cannot be read is logged and passed over."""
    from bot.ingest.loaders import SUPPORTED_SUFFIXES, load_document
    from bot.ingest.structure import parse_clauses

    if not Path(folder).is_dir():  # a replica serving from a Chroma server may have no corpus folder
        return
    for path in sorted(Path(folder).iterdir()):
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES and not path.name.lower().startswith("readme"):
            try:
                doc = load_document(path)
                yield doc, parse_clauses(doc)
            except DocumentError as exc:
                log.warning("corpus file not read for rule checks: %s", exc)
