"""The chat's guided policy matching: "我们公司能享受哪些政策？" starts a short exchange that asks
for the missing profile facts, then answers with the verdict table.

Each question is the one that settles the most open verdicts (`next_question`), the bigger benefits
first on a tie: one unknown fact, or, as a service window does, a few related facts together (财务
figures, a 资质 checklist: bot/data/question_groups.yaml, read by bot.matching.groups), since most
rules wait on a fact of their own. Replies are read through the one fact vocabulary (bot.text.facts):
"200", "1.5亿", "15%", "63岁", 是/没有/不属于/需要, "有，证书2023年拿的". "不清楚" is an answer too:
the fact stays unknown, is not asked again, and the result says what to find out. Facts given in
earlier turns (研发投入6%, 营收4亿, 国家高新区…) are reused, so it never asks for what it was told.
It stops when no answer could change a verdict any more, or when the asker says 结束/够了/不用了.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.errors import ProfileError
from bot.records import Answer
from bot.text.facts import canonical, dont_know, facts, read_quantity, read_yes_no
from bot.text.numerals import latest_day
from bot.text.places import in_guizhou, national_zone
from bot.text.units import amounts

if TYPE_CHECKING:
    from bot.matching.engine import Verdict
    from bot.matching.rules import Rule

MATCH_REQUEST = re.compile(
    r"(享受|申请|申报|符合|适用|拿到?)[^。？?]{0,6}(哪些|什么|啥)[^。？?]{0,4}(政策|优惠|扶持|补贴|支持)|政策匹配|匹配政策|适合(我们|我|本)[^。？?]{0,4}政策"
)
DONE_WORDS = re.compile(r"直接看结果|看结果|不用问了|不用了|就这些|结束|够了|停止")
# Facts a reply cannot give one at a time (one talent's age alone): asked only through `talents`.
_UNASKED = {"talents.age", "talents.nationality", "talents.position", "talents.is_foreign", "talents.is_high_end",
            "talents.name", "name", "as_of"}
_DATED = {"registered_years": "registration_date", "hightech_certified_years": "hightech_certificate_date"}
_TEXT = {"province", "industry"}  # the reply itself is the value
_PROFILE_FIELD = re.compile(r"^企业画像字段 [A-Za-z_.]+（.+?）：")  # a schema message's field key: not for a chat
_OWN = re.compile(r"我们|我司|本公司|我公司|公司|企业")
_FOREIGN = re.compile(r"([^\s\d的岁位名个是有，,。、]{1,3}(?:国|籍))|境外|海外|香港|澳门|台湾")


@dataclass
class GuidedMatch:
    """State of one guided exchange inside a Conversation."""

    data: dict[str, Any] = field(default_factory=dict)
    pending: str | None = None  # the fact, or the question group, asked last
    pending_facts: tuple[str, ...] = ()  # the facts the pending question covers
    asked: list[str] = field(default_factory=list)  # facts asked, in order
    questions: int = 0
    unknown: set[str] = field(default_factory=set)  # answered 不清楚: left open, never asked again
    alone: set[str] = field(default_factory=set)  # not read from a group's reply: asked again on its own
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


# ---- reading a reply ----

def field_value(name: str, text: str) -> Any:
    """A chat reply as the value of profile field `name`, read through the fact vocabulary; the
    profile schema checks it. ProfileError when the reply holds no value for the field."""
    text = text.strip().rstrip("。.！!")
    info = facts()[name]
    if name == "zone":
        if read_yes_no(text) is False or re.search(r"不在|没在|不属于", text):
            return {"level": "none"}
        level = "national" if "国家" in text or national_zone(text) else "provincial" if "省级" in text else None
        if level is None:
            raise ProfileError("请说明所在高新区是国家级还是省级，例如：贵阳国家高新区；不在高新区请回答“不在”", name)
        return {"name": text, "level": level}
    if name == "province":
        if read_yes_no(text) is not None and not in_guizhou(text):
            raise ProfileError("请回答省份名称，例如：贵州", "province")
        return "贵州" if in_guizhou(text) else text
    if name == "listing_status":
        if re.search(r"(没有|没|不|无)[^，,。]{0,4}(计划|打算|准备)", text):
            return "unlisted"
        if re.search(r"筹备|准备|计划|拟|打算|申报", text):
            return "preparing"
        if re.search(r"已上市|已经上市|上市了", text) and read_yes_no(text) is not False:
            return "listed"
        if read_yes_no(text) is False or re.search(r"未上市|没上市", text):
            return "unlisted"
    if name == "talents":
        return _talents(text)
    if name == "ip":
        return _ip(text)
    if name in _TEXT:
        return text
    if info.choices:
        raise ProfileError(f"请回答其中之一：{'、'.join(info.choices.values())}", name)
    if info.unit:
        value = read_quantity(text, info.unit)
        if value is None:
            raise ProfileError(f"请回答一个数（单位：{info.unit}），例如：200", name)
        return value
    answer = read_yes_no(text)
    if answer is None:
        raise ProfileError("请回答“是”或“否”（也可回答“有/没有”“不清楚”）", name)
    return answer


def reply_fields(name: str, text: str) -> dict[str, Any]:
    """The profile fields a reply to the question on `name` gives: its own value, and where the
    words say more (成立日期 for 成立年限, 发证日期 for 证书年限, the zone a province reply names)."""
    if name in _DATED and (day := latest_day(text)):
        return {_DATED[name]: day}
    out = {name: field_value(name, text)}
    if name == "province" and re.search("高新区|开发区", text):
        try:
            out["zone"] = field_value("zone", text)
        except ProfileError:
            pass  # the zone is asked on its own if it matters
    return out


def _talents(text: str) -> list[dict[str, Any]]:
    """有一位63岁的德国专家 -> [{age: 63, nationality: 德国}]; 没有 -> []."""
    if read_yes_no(text) is False:
        return []
    ages = [int(a) for a in re.findall(r"(\d{2})\s*周?岁", text)]
    nation = _FOREIGN.search(text)
    extra: dict[str, Any] = {"nationality": nation.group(1) or nation.group(0)} if nation else {}
    if "高端" in text:
        extra["is_high_end"] = not re.search(r"不(是|属于|算)?高端", text)
    return [{"age": a, **extra} for a in ages] or ([extra] if extra else [])


def _ip(text: str) -> dict[str, int]:
    """发明专利2件，软著15件 -> {invention_patents: 2, software_copyrights: 15}; 没有 -> all zero."""
    from bot.text.facts import fact_for
    from bot.text.numerals import numbers

    if read_yes_no(text) is False and not numbers(text):
        return {}
    counts: dict[str, int] = {}
    start = 0
    for n in numbers(text):
        key = fact_for(text[start:n.start], "件") or "ip.other"
        counts[key.removeprefix("ip.")] = counts.get(key.removeprefix("ip."), 0) + int(n.value)
        start = n.end
    if not counts:
        raise ProfileError("请回答各类知识产权的件数，例如：发明专利2件，软件著作权10件；没有请回答“没有”", "ip")
    return counts


# ---- what to ask next ----

def _trials(name: str, rules: Sequence[Rule]) -> list[Any]:
    """Values `name` might take that fall on each side of every threshold a rule holds it to."""
    from bot.matching.engine import _canonical

    info = facts()[name]
    if name == "zone":
        return [{"level": level} for level in ("none", "provincial", "national")]
    if name == "province":
        return ["贵州", "外省"]
    if name == "ip":
        return [{}, {"invention_patents": 1}]
    if name == "talents":
        return [[], [{"nationality": "外籍", "age": 50, "is_high_end": True}]]
    if info.choices:
        return list(info.choices)
    if not info.unit:
        return [True, False]
    limits = set()
    for cond in (c for rule in rules for c in rule.conditions):
        bounds = [(cond.field, cond.value, cond.unit)] + [(cond.field, b.value, cond.unit) for b in cond.bands]
        bounds += [(b.when.field, b.when.value, b.when.unit) for b in cond.bands]
        limits |= {_canonical(value, unit, name) for fld, value, unit in bounds
                   if fld == name and isinstance(value, (int, float)) and not isinstance(value, bool)}
    if not limits:
        return [0, 100]  # none, some
    step = {t: max(abs(t) * 0.01, 0.01) for t in limits}
    return sorted({v for t in limits for v in (max(t - step[t], 0), t + step[t])})


def _settled(data: dict[str, Any], values: dict[str, Any], open_ids: set[str], rules: Sequence[Rule]) -> int | None:
    from bot.matching.engine import match
    from bot.matching.profile import parse_profile

    try:
        profile = parse_profile({**data, **values})
    except ProfileError:
        return None
    return sum(1 for v in match(profile, rules) if v.rule_id in open_ids and v.status != "needs_info")


def benefit_size(verdict: Verdict) -> tuple[float, float]:
    """How big a benefit is, simply: its largest sum (万元), then its largest rate (%)."""
    from bot.text.numerals import numbers

    text = " ".join(t for t in (verdict.amount, verdict.rate, verdict.current_benefit, verdict.benefit) if t)
    money = max((a.wan for a in amounts(text)), default=0.0)
    rate = max((float(n.value) for n in numbers(text) if n.kind == "percent"), default=0.0)
    return money, rate


def next_question(guided: GuidedMatch, verdicts: Sequence[Verdict],
                  rules: Sequence[Rule]) -> tuple[str, tuple[str, ...]] | None:
    """(what to ask, the facts it covers): the question that settles the most open verdicts,
    averaged over answers on either side of each threshold. A question is one unknown fact, or a
    group of related facts (bot.matching.groups) when two or more of them are still open; ties: the
    biggest benefits (summed over the verdicts that wait on its facts), then the one that leaves its
    verdicts fewest other facts to ask. None when no open verdict waits on a fact still to ask:
    nothing more can change a verdict."""
    from bot.matching.groups import question_groups

    open_verdicts = [v for v in verdicts if v.status == "needs_info"]
    open_ids = {v.rule_id for v in open_verdicts}
    done = (set(guided.asked) - guided.alone) | guided.unknown | _UNASKED
    candidates = list(dict.fromkeys(n for v in open_verdicts for n in v.missing if n not in done and n in facts()))
    if not candidates:
        return None
    options: dict[str, tuple[str, ...]] = {}
    for key, group in question_groups().items():
        names = tuple(n for n in group.items if n in candidates and n not in guided.alone)
        if len(names) > 1:
            options[key] = names
    grouped = {n for names in options.values() for n in names}
    options |= {n: (n,) for n in candidates if n not in grouped}

    def score(names: tuple[str, ...]) -> tuple:
        trials = {n: _trials(n, rules) for n in names}
        joint = [{n: t[k % len(t)] for n, t in trials.items()} for k in range(max(map(len, trials.values())))]
        counts = [c for c in (_settled(guided.data, values, open_ids, rules) for values in joint) if c is not None]
        waiting = [v for v in open_verdicts if set(names) & set(v.missing)]
        sizes = [benefit_size(v) for v in waiting]
        share = sum(len(set(names) & set(v.missing)) / len(v.missing) for v in waiting)
        return (round(sum(counts) / len(counts), 6) if counts else 0.0, sum(s[0] for s in sizes),
                sum(s[1] for s in sizes), round(share, 6))

    key = max(options, key=lambda k: score(options[k]))
    return key, options[key]


# ---- one step of the exchange ----

def step(guided: GuidedMatch, message: str, facts_said: dict[str, Any], rules: Sequence[Rule],
         cite: Callable[[str], str]) -> Answer:
    """Take the reply to the pending question (if any), then ask the next one or show the verdict
    table (`cite`: a clause id as its citation line)."""
    from bot.matching.engine import match
    from bot.matching.profile import parse_profile
    from bot.matching.render import match_table

    if not guided.asked and not guided.pending:
        guided.data.update(seed(facts_said))
        if "province" not in guided.data and _OWN.search(message) and in_guizhou(message):
            guided.data["province"] = "贵州"  # 我们是遵义的一家企业…
    finished = bool(DONE_WORDS.search(message))
    warning = ""
    if guided.pending and not finished:
        key, guided.pending = guided.pending, None
        warning = _take_group(guided, key, message) if key in _groups() else _take(guided, key, message)
    verdicts = match(parse_profile(guided.data), rules)
    if not finished:
        question = (guided.pending, guided.pending_facts) if guided.pending else next_question(guided, verdicts, rules)
        if question:
            key, names = question
            if key != guided.pending:
                guided.questions += 1
            guided.asked += [n for n in names if n not in guided.asked]
            guided.alone -= set(names) if len(names) == 1 else set()
            guided.pending, guided.pending_facts = key, names
            text = facts()[key].question if names == (key,) else _groups()[key].text(names)
            return _ask(message, guided, text, warning, verdicts)
    guided.pending, guided.pending_facts = None, ()
    text = match_table(verdicts, cite, {n: facts()[n].question for n in guided.unknown})
    return Answer(question=message, text=text, abstained=False, intent="match")


def _groups():
    from bot.matching.groups import question_groups

    return question_groups()


def _valid(data: dict[str, Any]) -> bool:
    from bot.matching.profile import parse_profile

    try:
        parse_profile(data)
    except ProfileError:
        return False
    return True


def _take(guided: GuidedMatch, name: str, message: str) -> str:
    """Read the reply into guided.data; a warning (and the question pending again) if unreadable."""
    if dont_know(message):
        guided.unknown.add(name)
        return ""
    try:
        candidate = {**guided.data, **reply_fields(name, message)}
        from bot.matching.profile import parse_profile

        parse_profile(candidate)
    except ProfileError as exc:
        if _failed(guided, name):
            return ""
        guided.pending = name
        reason = _PROFILE_FIELD.sub(f"{facts()[name].label}：", exc.reason)
        return f"没能读懂这个回答：{reason}"
    guided.data = candidate
    return ""


def _failed(guided: GuidedMatch, key: str) -> bool:
    """Count a reply not understood; True (and the facts left open) once a question failed twice."""
    guided.failures[key] = guided.failures.get(key, 0) + 1
    if guided.failures[key] < 2:
        return False
    guided.unknown |= set(guided.pending_facts)  # asked twice: leave it open rather than loop
    return True


def _take_group(guided: GuidedMatch, key: str, message: str) -> str:
    """Read a reply to a group question: each fact read goes into guided.data, 不清楚 leaves its
    fact open, and a fact the reply leaves out or holds unreadably is asked again alone later."""
    from bot.matching.groups import read_group

    names = guided.pending_facts
    try:
        reply = read_group(_groups()[key], names, message, field_value)
    except ProfileError as exc:
        if _failed(guided, key):
            return ""
        guided.pending = key
        return f"没能读懂这个回答：{exc.reason}"
    guided.unknown |= set(reply.unknown)
    unread = set(reply.unread)
    for name, value in reply.values.items():
        if _valid({**guided.data, name: value}):
            guided.data[name] = value
        else:
            unread.add(name)
    guided.alone |= unread
    if not unread:
        return ""
    return "以下几项没能从回答中读出，稍后单独再问：" + "、".join(facts()[n].label for n in names if n in unread)


def _ask(message: str, guided: GuidedMatch, question: str, warning: str, verdicts: Sequence[Verdict]) -> Answer:
    lines = [warning] if warning else []
    if guided.questions <= 1 and not warning:
        lines.append("为判断贵公司能享受哪些政策，需要了解几项情况（不清楚可回答“不清楚”，随时输入“结束”直接看结果）。")
    else:
        decided = sum(v.status != "needs_info" for v in verdicts)
        lines.append(f"已有结论的政策：{decided}/{len(verdicts)} 项（输入“结束”可直接看结果）。")
    lines.append(f"问题 {guided.questions}：{question}")
    return Answer(question=message, text="\n".join(lines), abstained=False, intent="match")
