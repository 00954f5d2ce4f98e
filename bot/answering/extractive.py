"""The extractive answerer: the default, offline, and honest by construction.

Everything it states is copied from a retrieved clause: the lead line is a phrase of a quoted
sentence, quotes are exact substrings, conditions are compared only against thresholds that the
quoted text contains. It says the corpus has no basis (abstains) when the evidence is too weak, when
the question is about another place's own policy, and when the clause that would answer does not state
the sum asked or mention the tax asked about.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Sequence

from bot.answering.abstention import AbstentionModel, Evidence, should_abstain
from bot.answering.conditions import ConditionCheck, check_conditions
from bot.answering.prompts import NO_BASIS
from bot.answering.question import Analysis, search_text
from bot.index.lexical import asked_words, tokenize
from bot.ingest.amendments import editor_note, status_line
from bot.ingest.chunking import sentences
from bot.records import Answer, Citation, Clause, Hit
from bot.text.numerals import NUMERAL_CHARS

_FIGURE = re.compile(rf"\d+(?:[.,]\d+)*\s*(?:%|％|万元|亿元|元|岁|年|个月|日|人|家|个|件|项|位|亩)|[{NUMERAL_CHARS}]+(?:年|个月|日|个工作日)")


class ExtractiveAnswerer:
    """Lead line, quotes with [n], conditions, validity notes, citation list: all from clauses."""

    max_sources = 3
    whole_clause_chars = 350  # shorter clauses are quoted whole
    quote_chars = 300  # otherwise the quote grows around the best sentence up to this
    list_chars = 600  # or, when the best sentence opens a list (申请时提交下列材料：), up to this
    lead_chars = 90  # the answer line quotes at most this much of a sentence (and the list it opens)
    runner_up_ratio = 0.5  # a hit scoring this share of the top one may answer if it has the asked figure
    close_ratio = 0.8  # otherwise a hit must score this share of the top one to answer instead

    def __init__(
        self,
        citation_of: Callable[[Clause], str],
        abstention: AbstentionModel | None = None,
        weight: Callable[[str], float] = lambda token: 1.0,
        known: Callable[[str], bool] = lambda term: False,
    ) -> None:
        self.citation_of = citation_of
        self.abstention = abstention or AbstentionModel.load()
        self.weight = weight  # how much a shared word says (IDF): 公示 more than 企业
        self.known = known  # whether the corpus uses a word itself (see lexical.asked_words)

    def answer(self, analysis: Analysis, hits: Sequence[Hit], evidence: Evidence, extra: Sequence[Hit] = ()) -> Answer:
        """`extra`: the best clause for each further sub-question, cited after the main one."""
        question = analysis.question
        why = elsewhere_reason(analysis.question, self.known)
        if why:
            return self.no_basis(analysis, hits, why)
        if not hits or should_abstain(evidence, self.abstention):
            return self.no_basis(analysis, hits)
        wanted = self._asked(analysis)
        used = self.answering(hits, analysis, wanted)
        why = unstated(analysis.question, used)
        if why:
            return self.no_basis(analysis, hits, why)
        used += [h for h in extra if h.clause.id not in {u.clause.id for u in used}][: self.max_sources - 1]
        citations: list[Citation] = []
        quotes: list[str] = []
        checks: list[ConditionCheck] = []
        best: list[str] = []
        for n, hit in enumerate(used, 1):
            picked, best_sentence = self._quote(hit.clause, analysis, wanted)
            best.append(best_sentence)
            citations.append(
                Citation(
                    n=n,
                    clause_id=hit.clause.id,
                    doc_title=hit.doc_title,
                    path=hit.clause.path,
                    citation=self.citation_of(hit.clause),
                    quote=picked,
                    responsible_units=hit.clause.responsible_units,
                )
            )
            quotes.append(f"「{picked}」[{n}]")
            for sentence in sentences(picked):
                checks += [c for c in check_conditions(sentence, analysis.facts) if c not in checks]
        lead = self._lead(analysis, citations, best[0])
        lines = [lead]
        for n, hit in enumerate(used, 1):
            if hit.amendment:
                lines.insert(0, f"⚠ 注意：[{n}] 所依据的条款{status_line(hit.amendment)}。{editor_note(hit.amendment)}")
        if checks:
            lines.append("对照您提供的情况：")
            lines += [f"- {c.line()}" for c in checks]
        lines.append("条款原文：")
        lines += quotes
        units = [u for c in citations for u in c.responsible_units]
        if units and analysis.intent in ("responsibility", "procedure"):
            lines.append("责任单位：" + "、".join(dict.fromkeys(units)))
        lines.append("出处：")
        lines += [f"[{c.n}] {c.citation}" for c in citations]
        return Answer(
            question=question,
            text="\n".join(lines),
            abstained=False,
            citations=tuple(citations),
            hits=tuple(hits),
            intent=analysis.intent,
            lead=lead_text(lead),
        )

    def answering(self, hits: Sequence[Hit], analysis: Analysis, wanted: dict[str, float] | None = None) -> list[Hit]:
        """The clause that answers, and the law article it defines a word of, if that is close too."""
        used = self._primary(hits, analysis, self._asked(analysis) if wanted is None else wanted)[:1]
        return used + linked(used[0], hits[:5])[:1]

    def _asked(self, analysis: Analysis) -> dict[str, float]:
        """What the question asks about, each word with how much it counts (lexical.asked_words of the
        question without what the asker says they are not): read once per answer."""
        return asked_words(search_text(analysis.question), self.known)

    def no_basis(self, analysis: Analysis, hits: Sequence[Hit], why: str = "") -> Answer:
        related = tuple(hits[:3])
        lines = [NO_BASIS, *([why] if why else [])]
        if related:
            lines.append("以下条款可能相关，但不能直接回答您的问题：")
            lines += [f"- {self.citation_of(h.clause)}" for h in related]
        return Answer(
            question=analysis.question,
            text="\n".join(lines),
            abstained=True,
            hits=tuple(hits),
            lead="".join([NO_BASIS, why]),
            related=related,
            intent=analysis.intent,
        )

    def _primary(self, hits: Sequence[Hit], analysis: Analysis, wanted: dict[str, float]) -> list[Hit]:
        """The clause that answers: the close hit whose best sentence shares the most weighted words
        with the question (the answer is a sentence, and two clauses often score alike). When the
        question asks for a kind of figure (a share, a count, a period, a sum, an age), only sentences
        with that figure count and a hit half as close may answer; for any other question, including
        an amount/target one that names no kind (then any figure counts), it must be close_ratio as close."""
        hits = list(hits)
        if analysis.names_clause or len(hits) < 2:
            return hits
        if analysis.intent == "responsibility":
            return hits  # a department, never a figure
        kind, ratio = answer_kind(analysis.question), self.runner_up_ratio
        if kind is None and analysis.intent in ("amount", "target"):
            kind, ratio = _FIGURE, self.close_ratio  # any figure: the runner-up must be nearly as close
        if kind is None:  # no figure asked: a nearly as close clause whose best sentence says more of it
            kind, ratio = _ANY, self.close_ratio
        asked = {t: f for t, f in wanted.items() if not t[0].isdigit()}  # nor the asker's own figures (8个月, 2000万)
        top = hits[0]

        def fit(hit: Hit) -> float:
            wanted = asked
            if hit.doc_title.removeprefix("中华人民共和国") in analysis.question:
                title = _words(hit.doc_title)  # naming the document doesn't pick a clause
                wanted = {t: f for t, f in asked.items() if t not in title}
            total = self._weigh(wanted, wanted.keys()) or 1.0
            shares = [self._weigh(wanted, _words(s)) / total for s in sentences(hit.clause.text) if kind.search(s)]
            best = max(shares, default=0.0)  # a figure in a sentence sharing no asked word answers nothing
            return hit.score / top.score + (best if best > 0 else -1.0)

        pool = [h for h in hits[:5] if h.score >= ratio * top.score and not h.clause.instructs]
        if top not in pool:
            return hits
        best = max(pool, key=fit)
        return hits if best is top else [best] + [h for h in hits if h is not best]

    def _weigh(self, wanted: dict[str, float], words) -> float:
        """The weight of the wanted words among `words`: rarity (IDF) times how much each counts."""
        return sum(self.weight(t) * wanted[t] for t in words if t in wanted)

    def _quote(self, clause: Clause, analysis: Analysis, wanted: dict[str, float]) -> tuple[str, str]:
        """The sentences of the clause that best answer the question, as one exact substring (a
        short clause whole, else the best sentence widened by its neighbours up to quote_chars, or by
        the whole list it opens up to list_chars), and that best sentence (with its list, if it opens one)."""
        parts = sentences(clause.text) or [clause.text]
        kind = answer_kind(analysis.question)

        def score(s: str) -> float:
            value = self._weigh(wanted, _words(s)) / (1 + 0.01 * len(s))
            if analysis.intent in ("amount", "target", "eligibility") and _FIGURE.search(s):
                value += 0.5
            if kind and kind.search(s):
                value += 1.0
            if analysis.intent == "responsibility" and "责任单位" in s:
                value += 3.0
            return value

        scores = [score(p) for p in parts]
        lo = hi = max(range(len(parts)), key=scores.__getitem__)
        best_sentence = parts[lo]
        items = _listed(parts, lo)  # "申请时提交下列材料：" answers with the list that follows it
        if items:
            start = clause.text.index(best_sentence)
            best_sentence = clause.text[start : clause.text.index(parts[lo + items], start) + len(parts[lo + items])]
        if analysis.intent == "lookup" or len(clause.text) <= self.whole_clause_chars:
            return clause.text, best_sentence
        for i in range(lo + 1, lo + items + 1):  # a list asked for is quoted whole, up to list_chars
            if sum(len(p) for p in parts[lo : i + 1]) <= self.list_chars:
                hi = i
        while True:
            size = sum(len(p) for p in parts[lo : hi + 1])
            options = [i for i in (lo - 1, hi + 1) if 0 <= i < len(parts) and scores[i] > 0]
            options = [i for i in options if size + len(parts[i]) <= self.quote_chars]
            if not options:
                break
            best = max(options, key=scores.__getitem__)
            lo, hi = min(lo, best), max(hi, best)
        start = clause.text.index(parts[lo])
        end = clause.text.index(parts[hi], start) + len(parts[hi])
        return clause.text[start:end], best_sentence

    def _lead(self, analysis: Analysis, citations: Sequence[Citation], best: str) -> str:
        """The direct answer first: the department, the figure, or the best sentence in a phrase."""
        first = citations[0]
        if analysis.intent == "responsibility" and first.responsible_units:
            return f"答：该事项的责任单位是{'、'.join(first.responsible_units)}[1]。"
        if analysis.intent == "lookup":
            return f"答：{first.citation}的内容如下[1]。"
        kind = answer_kind(analysis.question)
        figure = (kind and kind.search(best)) or _FIGURE.search(best)
        if (kind or analysis.intent in ("amount", "target", "eligibility")) and figure:
            phrase = _phrase_with(best, figure.group(0))
            if phrase:
                return f"答：依据[1]，{phrase}。"
        head = best.rstrip("。；！？")
        if len(head) > self.lead_chars:  # a long list: its beginning, and the quote below has the rest
            cut = max(head.rfind(mark, 0, self.lead_chars) for mark in "；;\n，,")
            head = head[: cut if cut > 0 else self.lead_chars].rstrip("，,；;：:、\n") + "……（详见下方条款原文）"
        return f"答：依据[1]，{head}。"


_ANY = re.compile(r".")
_MARKER = re.compile(r"\[\d+\]")


def lead_text(line: str) -> str:
    """The lead as data: the answer line without its 答： label and [n] markers."""
    return _MARKER.sub("", line.removeprefix("答：")).replace("依据，", "")


_ITEM = re.compile(rf"(?:\d+[.．、]|[（(][{NUMERAL_CHARS}\d]+[)）]|[{NUMERAL_CHARS}]+、)")


def _listed(parts: Sequence[str], at: int) -> int:
    """How many list items follow sentence `at` when it opens a list (ends with a colon)."""
    if not parts[at].rstrip().endswith(("：", ":")):
        return 0
    n = 0
    while at + n + 1 < len(parts) and _ITEM.match(parts[at + n + 1]):
        n += 1
    return n


def linked(primary: Hit, pool: Sequence[Hit]) -> list[Hit]:
    """For a primary clause that defines a word of a law article (实施条例: "企业所得税法第七条…所称…是指"),
    that article when it is among the close hits: the law holds the rule, the definition alone doesn't answer."""

    def refers(a: Hit, b: Hit) -> bool:
        article = b.clause.path.rsplit(".", 1)[-1]
        name = b.doc_title.removeprefix("中华人民共和国")
        return article.startswith("第") and article.endswith("条") and f"{name}{article}" in a.clause.text

    if not _DEFINITION.search(primary.clause.text) or _FIGURE.search(primary.clause.text):
        return []  # a rule (with its figures) stands alone; a bare definition needs the rule it serves
    return [h for h in pool if h.clause.id != primary.clause.id and refers(primary, h)]


_DEFINITION = re.compile(r"所称.{0,60}?是指")


# What kind of figure a question asks for: (question words, the figure that answers them).
_KINDS = (
    (re.compile(r"哪天|哪一天|日期|几号|哪年|何时起|什么时候(?:开始|起)"), re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*日")),
    (re.compile(r"比例|比重|占比|百分之|百分比|几成|多少%"), re.compile(r"\d+(?:\.\d+)?\s*[%％]|百分之")),
    (re.compile(r"(?<!哪)几家|(?<!哪)几个|多少家|多少个"), re.compile(r"\d+\s*(?:家|个)")),
    (re.compile(r"几年|多少年|年限|多久|多长时间|期限|什么时候|何时|几天|多少天|几个月|最晚|最迟"),
     re.compile(rf"(?<!\d)(?:\d{{1,2}}|[{NUMERAL_CHARS}]+)\s*(?:个)?(?:年|月|日|天|个工作日)")),
    (_ASKS_MONEY := re.compile(r"多少钱|多少万|金额|多少资金|(?:补贴|奖励|支持|资助|租金|价格|费用|给|补|奖)多少|几折"
                               r"|(?:补|奖|给|拿|支持|资助)(?:了|到)?\s*\d+(?:\.\d+)?\s*(?:万|亿)"),  # "能补2000万，是真的吗"
     _MONEY := re.compile(r"\d+(?:\.\d+)?\s*(?:万|亿)?元")),
    (re.compile(r"多大年纪|年龄|岁数|多少岁|几岁"), re.compile(r"\d+\s*周?岁")),
)


@lru_cache(maxsize=8192)
def _words(text: str) -> frozenset[str]:
    """A clause sentence's tokens: the same sentences come back question after question."""
    return frozenset(tokenize(text))


# Other provinces and big cities, when the question asks about their policy ("深圳对…奖励多少"): the
# corpus is national and Guizhou law, so another place's local policy has no basis here.
_ELSEWHERE = re.compile(
    r"(北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|四川|云南|"
    r"陕西|甘肃|青海|内蒙古|广西|西藏|宁夏|新疆|深圳|广州|杭州|南京|苏州|成都|武汉|西安|长沙|厦门|青岛|宁波|合肥|郑州|济南)"
    r"(?:省|市|自治区)?(?=对|的|有|出台|给|发的|政策|奖励|补贴|补助|规定|那边|当地)")


def elsewhere(question: str, known: Callable[[str], bool]) -> str:
    """The other province or city whose local policy the question asks about, when the corpus never
    names it; "" otherwise."""
    m = _ELSEWHERE.search(question)
    return m.group(1) if m and not known(m.group(1)) else ""


def elsewhere_reason(question: str, known: Callable[[str], bool]) -> str:
    """Why a question is outside the corpus whatever is retrieved: another place's own policy; "" if not."""
    place = elsewhere(question, known)
    return f"本库收录的是国家和贵州省的政策文本，没有{place}的地方政策。" if place else ""


def unstated(question: str, used: Sequence[Hit]) -> str:
    """Why the clauses that would answer cannot: a sum asked that none states, another tax none
    mentions; "" when they can."""
    if asks_money(question) and not any(_MONEY.search(h.clause.text) for h in used):
        return "相关条款没有规定具体金额。"
    regime = other_regime(question, used[0].clause.text) if used else ""
    if regime:
        return f"本库收录的税法只有企业所得税法及其实施条例，相关条款没有关于{regime}的规定。"
    return ""


# Taxes and levies other than the enterprise income tax, the one tax the corpus's laws are about.
_OTHER_REGIME = re.compile(
    r"土地增值税|增值税|个人所得税|(?<![这那一每某几两各哪整])个税|印花税|消费税|房产税|契税|城镇土地使用税|车船税|资源税|环境保护税")


def other_regime(question: str, text: str) -> str:
    """The other tax a question is about when the clause that would answer it does not mention it."""
    m = _OTHER_REGIME.search(question)
    return m.group(0) if m and m.group(0) not in text else ""


def asks_money(question: str) -> bool:
    """The question asks for a sum of money: a clause that states none cannot answer it, however
    closely it matches the topic ("人才公寓租金多少" against "鼓励…建设人才用房")."""
    return bool(_ASKS_MONEY.search(question))


def answer_kind(question: str) -> re.Pattern | None:
    """The pattern of the figure the question asks for, if it asks for one."""
    return next((figure for asks, figure in _KINDS if asks.search(question)), None)


def _phrase_with(sentence: str, figure: str) -> str:
    """The comma-delimited phrase of `sentence` holding `figure`, widened to a readable length."""
    pieces = re.split(r"(?<=[，,；;：:])", sentence.rstrip("。；"))
    for i, piece in enumerate(pieces):
        if figure in piece:
            phrase = piece
            j = i
            while len(phrase) < 24 and j > 0:
                j -= 1
                phrase = pieces[j] + phrase
            return phrase.strip("，,；;：: ")
    return ""
