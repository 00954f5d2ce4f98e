"""The chat's guided policy matching: "我们公司能享受哪些政策？" starts a short exchange that asks
for the missing profile facts one at a time, then answers with the match list.

Facts the enterprise gave in earlier turns (研发投入6%, 营收4亿, 国家高新区, 63岁…) are reused, so
it never asks for what it was already told.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.errors import ProfileError
from bot.records import Answer
from bot.text.facts import canonical

if TYPE_CHECKING:
    from bot.matching.rules import Rule

MATCH_REQUEST = re.compile(
    r"(享受|申请|申报|符合|适用|拿到?)[^。？?]{0,6}(哪些|什么|啥)[^。？?]{0,4}(政策|优惠|扶持|补贴|支持)|政策匹配|匹配政策|适合(我们|我|本)[^。？?]{0,4}政策"
)
DONE_WORDS = ("直接看结果", "看结果", "不用问了", "就这些", "结束")
SKIP_WORDS = ("跳过", "不知道", "不清楚", "不确定", "没有数据")
MAX_QUESTIONS = 8
# Fields whose answer is a structure, not one value: asked only where a converter below exists.
_STRUCTURED = {"ip", "talents.age", "talents.nationality", "talents.position"}


@dataclass
class GuidedMatch:
    """State of one guided exchange inside a Conversation."""

    data: dict[str, Any] = field(default_factory=dict)
    pending: str | None = None
    asked: list[str] = field(default_factory=list)
    skipped: set[str] = field(default_factory=set)
    failures: dict[str, int] = field(default_factory=dict)


def wants_matching(question: str) -> bool:
    return bool(MATCH_REQUEST.search(question))


def seed(facts: dict[str, Any]) -> dict[str, Any]:
    """Profile fields from facts the asker already stated in the conversation."""
    from bot.matching.profile import EnterpriseProfile

    facts = dict(canonical(k, v) for k, v in facts.items())  # (age, 63) -> (talents.age, 63)
    data: dict[str, Any] = {k: v for k, v in facts.items() if k in EnterpriseProfile.model_fields}
    if facts.get("zone_level") or facts.get("zone.name"):
        zone = {"name": facts.get("zone.name"), "level": facts.get("zone_level")}
        data["zone"] = {k: v for k, v in zone.items() if v}
    if facts.get("talents.age"):
        data["talents"] = [{"age": int(facts["talents.age"])}]
    return data


def field_value(name: str, text: str) -> Any:
    """A chat reply as the profile field's value; the profile schema does the rest of the parsing."""
    text = text.strip().rstrip("。.！!")
    if name == "zone":
        if re.search(r"^(不|没|否|无)", text):
            return None
        level = "national" if "国家" in text else "provincial" if "省级" in text or "省" in text else None
        return {"name": text, **({"level": level} if level else {})}
    if name == "province":
        if re.fullmatch(r"(是|否|有|没有|不是|对)的?", text):
            raise ProfileError("请回答省份名称，例如：贵州", "province")
        return "贵州" if "贵州" in text or "贵阳" in text else text
    if name == "listing_status":
        for words, value in ((("筹备", "准备", "计划", "拟"), "preparing"), (("已上市", "已经上市", "上市了"), "listed"), (("未上市", "没上市", "没有", "否", "不"), "unlisted")):
            if any(w in text for w in words):
                return value
    if name == "talents":
        ages = [int(a) for a in re.findall(r"(\d{2})\s*岁", text)]
        return [{"age": a} for a in ages] or []
    return text


def step(guided: GuidedMatch, message: str, facts: dict[str, Any], rules: Sequence[Rule],
         cite: Callable[[str], str]) -> Answer:
    """Take the reply to the pending question (if any), then ask the next one or show the list
    (`cite`: a clause id as its citation line)."""
    from bot.matching.engine import match, ranked_missing
    from bot.matching.profile import parse_profile
    from bot.matching.render import match_list

    if not guided.asked and not guided.pending:
        guided.data.update(seed(facts))
    warning = ""
    if guided.pending:
        name, guided.pending = guided.pending, None
        if any(w in message for w in SKIP_WORDS):
            guided.skipped.add(name)
        elif not any(w in message for w in DONE_WORDS):
            try:
                candidate = {**guided.data, name: field_value(name, message)}
                parse_profile(candidate)
                guided.data = candidate
            except ProfileError as exc:
                guided.failures[name] = guided.failures.get(name, 0) + 1
                if guided.failures[name] >= 2:  # asked twice: leave it open rather than loop
                    guided.skipped.add(name)
                else:
                    warning = f"没能读懂这个回答：{exc.reason}"
                    guided.pending = name
    profile = parse_profile(guided.data)
    verdicts = match(profile, rules)
    done = any(w in message for w in DONE_WORDS) or len(guided.asked) >= MAX_QUESTIONS
    if not done:
        if guided.pending:
            return _ask(message, guided, dict(ranked_missing(verdicts)).get(guided.pending, ""), warning)
        for name, question in ranked_missing(verdicts):
            if name not in guided.skipped and name not in _STRUCTURED and name not in guided.asked:
                guided.pending = name
                guided.asked.append(name)
                return _ask(message, guided, question, warning)
    return Answer(question=message, text=match_list(verdicts, cite), abstained=False, intent="match")


def _ask(message: str, guided: GuidedMatch, question: str, warning: str) -> Answer:
    lines = [warning] if warning else []
    if len(guided.asked) <= 1 and not warning:
        lines.append("为判断贵公司能享受哪些政策，需要了解几项情况（可回答“跳过”，或输入“直接看结果”）。")
    lines.append(f"问题 {len(guided.asked)}：{question}")
    return Answer(question=message, text="\n".join(lines), abstained=False, intent="match")

