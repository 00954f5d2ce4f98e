"""Verdicts as the text people read: one verdict whole (the CLI, the web table's conditions), or the
list a guided chat ends with. Pure functions: `cite` turns a clause id into its citation line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bot.matching.engine import ConditionResult, Verdict
from bot.text.facts import facts


def _show(name: str, value: Any) -> str:
    """A fact's value as a person reads it (3亿元, 6%, 国家级高新区, 是); the date a validity check ran on."""
    return facts()[name].show(value) if name in facts() else str(value)


def condition_line(result: ConditionResult) -> str:
    """✓ 研发投入强度：6% —— 条件：“超过5%”; an amendment's wording is marked as the editor's."""
    mark = {"met": "✓", "not_met": "✗", "unknown": "?"}[result.status]
    actual = "未提供" if result.status == "unknown" else _show(result.field, result.actual)
    who = f"（{result.detail}）" if result.detail else ""
    editor = "【编者注】" if result.source == "amendment" else ""
    return f"{mark} {result.label}{who}：{actual} —— 条件：{editor}“{result.wording}”"


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


def match_list(verdicts: Sequence[Verdict], cite: Callable[[str], str] = str) -> str:
    """The guided chat's closing answer: eligible (with citations), needing information, not eligible."""
    groups: dict[str, list[Verdict]] = {"eligible": [], "needs_info": [], "not_eligible": []}
    for v in verdicts:
        groups[v.status].append(v)
    lines = ["政策匹配结果（依据语料库中的条款逐条对照）："]
    if groups["eligible"]:
        lines.append("✓ 符合条件：")
        for v in groups["eligible"]:
            lines.append(f"- {v.name}：{v.benefit}")
            if v.amendment_note:
                lines.append(f"  【编者注】所依据的条款已被后续文件修改：{v.amendment_note}")
            lines.append("  依据：" + "；".join(cite(c) for c in v.citations))
    if groups["needs_info"]:
        lines.append("? 还需补充信息：")
        for v in groups["needs_info"]:
            lines.append(f"- {v.name}（还需了解：{'；'.join(list(v.missing.values())[:2])}）")
    if groups["not_eligible"]:
        lines.append("✗ 暂不符合：")
        for v in groups["not_eligible"]:
            reason = condition_line(v.unmet[0]) if v.unmet else ""
            lines.append(f"- {v.name}（{reason}）")
    return "\n".join(lines)
