"""What a question asks (intent) and the facts the asker gave about themselves, units normalised.

Facts are what the extractive answerer checks a clause's thresholds against, under their canonical
keys (bot/text/facts.yaml): 研发投入6% -> rd_intensity 6.0 (percent), 营收4亿 -> revenue_wan 40000.0
(万元), 63岁 -> talents.age 63, 成立8个月 -> registered_years 0.67, 国家级高新区 -> zone_level national.
"""

from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass, field

from bot.answering.types import GENERAL, LOOKUP, AnswerType, answer_type, language
from bot.retrieval.search import clause_refs
from bot.text.facts import fact
from bot.text.numerals import CN_NUM, parse_number
from bot.text.units import amounts, convert
from bot.text.width import figures


_NUM = r"(\d+(?:\.\d+)?)"
_REVENUE = re.compile(r"(?:营收|营业收入|销售收入|主营收入|主营业务收入|年收入|收入|销售额|营业额)[^\d。,，?？]{0,6}$")
# 成立8个月, 注册两年: a duration; 2019年 or 二〇一九年 after 成立于 is a date (hence two digits, under 100).
_REGISTERED = re.compile(rf"(?:成立|注册)[^\d。,，?？]{{0,4}}?(\d{{1,2}}(?:\.\d+)?|{CN_NUM})\s*(个月|年)")


@lru_cache(maxsize=1)
def _staff_share() -> re.Pattern:
    """科技人员只占职工总数的6%: a share of staff (the words people use for 科技人员, from facts.yaml)."""
    people = "|".join(sorted(map(re.escape, fact("st_staff").cues), key=len, reverse=True))
    return re.compile(rf"({people})[^\d%。,，?？]{{0,12}}?{_NUM}\s*%")
# The facts extract_facts reads, by canonical key (bot/text/facts.yaml); st_staff_share is derived from two.
FACTS = ("rd_intensity", "revenue_wan", "talents.age", "employees", "st_staff", "st_staff_share", "zone.name",
         "zone_level", "registered_years", "amount_wan")


@dataclass(frozen=True)
class Analysis:
    question: str
    kind: AnswerType = GENERAL  # what the question asks for (bot/data/answer_types.yaml)
    facts: dict[str, float | str] = field(default_factory=dict)
    names_clause: bool = False
    context: str = ""  # for a follow-up: the earlier question it is read against (its words count half)

    @property
    def intent(self) -> str:
        return self.kind.intent


def question_type(question: str) -> AnswerType:
    """A question asking for a text's wording, or naming a clause and asking nothing of a type, is a
    lookup; else its answer type."""
    kind = answer_type(question)
    if re.search(r"(讲|说|写|规定)的?(是|了)?(什么|啥)|原文|文号|全文", question) or clause_refs(question) and kind is GENERAL:
        return LOOKUP
    return kind


def extract_facts(question: str) -> dict[str, float | str]:
    """Facts about the asker. Only what is said plainly; anything unclear stays out."""
    q = figures(question)
    facts: dict[str, float | str] = {}
    if m := _staff_share().search(q):  # 科技人员只占职工总数的6%: a share of staff, not of R&D spending
        facts["st_staff_share"] = float(m.group(2))
    elif m := re.search(rf"(研发|研究开发|研发投入|研发费用|研发强度)[^\d%。,，?？]{{0,12}}?{_NUM}\s*%", q):
        facts["rd_intensity"] = float(m.group(2))
    elif m := re.search(rf"{_NUM}\s*%[^。,，?？]{{0,6}}(研发|研究开发)", q):
        facts["rd_intensity"] = float(m.group(1))
    sums = amounts(q)
    if revenue := next((a for a in sums if _REVENUE.search(q, 0, a.start)), None):
        facts["revenue_wan"] = revenue.wan
    if m := re.search(r"(\d{2})\s*(周)?岁", q):
        facts["talents.age"] = int(m.group(1))
    if m := re.search(rf"(一共|总共|共有|员工|职工|从业人员|公司)[^\d。,，?？]{{0,4}}?{_NUM}\s*(个)?人", q):
        facts["employees"] = float(m.group(2))
    if m := re.search(rf"(研发|技术|科技)[^\d。,，?？]{{0,8}}?{_NUM}\s*(?:个人|个|人|名)|{_NUM}\s*(?:个|名)?(?:研发|科技|技术)人员", q):
        facts["st_staff"] = float(m.group(2) or m.group(3))
    named = re.sub(r"(我们|我司|本公司|公司|企业)?(在|位于|入驻|落户)", "|", q)
    if m := re.search(r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff]{2,3})(国家级|国家|省级)?高新区", named):
        facts["zone.name"] = m.group(0)
    if re.search(r"国家级高新区|国家高新区|国家级的高新区", q):
        facts["zone_level"] = "national"
    elif re.search(r"省级高新区|省级的高新区|省级开发区", q):
        facts["zone_level"] = "provincial"
    if (m := _REGISTERED.search(q)) and (value := parse_number(m.group(1))) is not None and value < 100:
        facts["registered_years"] = convert(value, m.group(2), fact("registered_years").unit)
    if sums and "revenue_wan" not in facts:
        facts["amount_wan"] = sums[0].wan
    elif len(sums) > 1:
        facts["amount_wan"] = sums[-1].wan
    return facts


# "不是高企也不是小微", "（不是银行）": what the asker is not, so not what to search for. Only a name
# ending at a pause: not "是不是头三年免租" (asks about it), not "不是自己研发的" (how, not what), not
# a rhetorical "不是…吗".
_NEGATED = re.compile(r"(?<!是)(?:不是|并非|不属于)([^，,。？?、；;（）()也和或吗的]{1,8})(?=[，,。？?、；;（）()也和或])")


def search_text(question: str) -> str:
    """The question minus what it says the asker is not; the question itself when little is left."""
    stripped = _NEGATED.sub(" ", question)
    return stripped if len(re.findall(r"[\u4e00-\u9fff]", stripped)) >= 6 else question


def question_parts(question: str) -> list[str]:
    """The sub-questions of a question that asks several things ("税率多少？要什么条件？"): pieces
    between question marks that ask something (a trailing statement is context, not a question), and
    between commas when every comma piece asks ("按什么税率交，这个资格能管几年？"); a piece that states a
    fact ("我们营收1.5亿，占比要多少") keeps its question whole."""
    def asks(p: str) -> bool:
        return len(re.findall(r"[\u4e00-\u9fff]", p)) >= 3 and bool(language()["asking"].search(p))

    pieces = [p.strip(" ，,。") for p in re.split(r"[？?]", question)]
    found = []
    for piece in filter(asks, pieces):
        commas = [c.strip(" 。") for c in re.split(r"[，,；;]", piece)]
        split = len(commas) > 1 and all(asks(c) and not language()["stating"].search(c) for c in commas)
        found += commas if split else [piece]
    return found


def analyse(question: str) -> Analysis:
    return Analysis(
        question=question,
        kind=question_type(question),
        facts=extract_facts(question),
        names_clause=bool(clause_refs(question)),
    )
