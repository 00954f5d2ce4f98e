"""Verdicts as the text people read: one verdict whole (the CLI, the web table's conditions), or the
markdown verdict table a guided chat ends with. Pure functions: `cite` turns a clause id into its citation line."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from bot.matching.distance import closest
from bot.matching.engine import ConditionResult, Verdict
from bot.text.facts import facts


def _show(name: str, value: Any) -> str:
    """A fact's value as a person reads it (3亿元, 6%, 国家级高新区, 是); the date a validity check ran on."""
    return facts()[name].show(value) if name in facts() else str(value)


def condition_line(result: ConditionResult) -> str:
    """✓ 研发投入强度：6% —— 条件：“超过5%”; an amendment's wording is marked as the editor's."""
    mark = {"met": "✓", "not_met": "✗", "unknown": "?"}[result.status]
    actual = "未提供" if result.actual is None else _show(result.field, result.actual)
    if result.basis and result.actual is not None:
        actual += f"（{result.basis}）"
    others = [facts()[n].label for n in result.ask if n != result.field and n in facts()]
    if result.status == "unknown" and result.actual is not None and others:  # 职工总数 given, 工业企业 not
        actual += f"（还需了解：{'、'.join(others)}）"
    who = f"（{result.detail}）" if result.detail else ""
    editor = "【编者注】" if result.source == "amendment" else ""
    gap = f"（{result.distance}）" if result.distance else ""
    return f"{mark} {result.label}{who}：{actual} —— 条件：{editor}“{result.wording}”{gap}"


def format_verdict(verdict: Verdict, cite: Callable[[str], str] = str) -> str:
    """Plain text for the CLI and chat: status, benefit, each condition, questions, citations."""
    lines = [f"【{verdict.status_label}】{verdict.name}", f"内容：{verdict.benefit}"]
    if verdict.current_benefit:
        lines.append(f"【编者注】现行标准：{verdict.current_benefit}")
    lines += ["条件："] + [f"  {condition_line(c)}" for c in verdict.conditions]
    if verdict.missing:
        lines += ["还需了解："] + [f"  - {q}" for q in verdict.missing.values()]
    if verdict.amendment_note:
        lines.append(f"【编者注】所依据的条款已被后续文件修改：{verdict.amendment_note}")
    lines.append("依据：" + "；".join(cite(c) for c in verdict.citations))
    return "\n".join(lines)


TABLE_HEADERS = ("政策", "结论", "条件（✓ 满足 ✗ 不满足 ? 待补充）", "支持内容", "依据条款")  # as the 政策匹配 tab
_ORDER = {"eligible": 0, "needs_info": 1, "not_eligible": 2}
_ICONS = {"eligible": "✔", "needs_info": "？", "not_eligible": "✘"}
CELL_BREAK = "<br>"  # a line break inside a markdown table cell


def _cell(lines: Iterable[str]) -> str:
    """Lines as one markdown table cell: no pipe or newline of the text can break the table."""
    return CELL_BREAK.join(line.replace("|", "｜").replace("\n", " ") for line in lines if line)


CLOSEST_HEADING = "最接近的政策（差距最小的不符合项）："


def closest_gaps(verdicts: Sequence[Verdict]) -> list[tuple[str, str]]:
    """(policy, what it lacks) for the policies the enterprise is closest to: the chat's table, the
    政策匹配 tab's summary and `policybot match` list the same ones."""
    return [(v.name, "；".join(c.distance for c in v.unmet)) for v in closest(verdicts)]


def match_table(verdicts: Sequence[Verdict], cite: Callable[[str], str] = str,
                unknown: Mapping[str, str] | None = None) -> str:
    """The guided chat's closing answer: the 政策匹配 tab's verdict table as markdown (eligible first,
    then open, then not eligible), the policies the enterprise is closest to, and what to find out
    for facts answered 不清楚 (`unknown`: fact -> its question)."""
    ordered = sorted(verdicts, key=lambda v: _ORDER[v.status])
    counts = {s: sum(v.status == s for v in verdicts) for s in _ORDER}
    lines = [f"政策匹配结果（共 {len(verdicts)} 项：符合条件 {counts['eligible']} 项，需补充信息 {counts['needs_info']} 项，"
             f"不符合条件 {counts['not_eligible']} 项；依据语料库中的条款逐条对照）：", "",
             "| " + " | ".join(TABLE_HEADERS) + " |", "|" + "---|" * len(TABLE_HEADERS)]
    for v in ordered:
        conditions = [condition_line(c) for c in v.conditions] or ["（无附加条件）"]
        if v.missing:
            conditions.append("还需了解：" + "；".join(v.missing.values()))
        benefit = [v.benefit] + ([f"【编者注】现行标准：{v.current_benefit}"] if v.current_benefit else [])
        cells = [[v.name], [f"{_ICONS[v.status]} {v.status_label}"], conditions, benefit, [cite(c) for c in v.citations]]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    if near := closest_gaps(verdicts):
        lines += ["", CLOSEST_HEADING] + [f"- {name}：{gaps}" for name, gaps in near]
    if unknown:
        lines += ["", "待查明（回答了“不清楚”或未能读懂的，相关政策暂无法判断）："] + [f"- {q}" for q in unknown.values()]
    return "\n".join(lines)
