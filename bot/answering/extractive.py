"""The extractive answerer: the default, offline, and honest by construction.

It reads the question as an answer type, a focus and the asker's facts (bot/answering/question.py),
finds a span of that type about that focus in the top few clauses (bot/answering/spans.py) and leads
with it. Everything it states is copied from a clause, except an amended clause's current rule, which
is our editor's note and labelled as such. It says the corpus has no basis when the evidence is too
weak, and that the related clauses do not say (相关条款没有规定…) when the topic is there but no clause
states what was asked: no date for a deadline, no sum for an amount, no place or tax it names.
"""

from __future__ import annotations

import re
from functools import lru_cache, partial
from itertools import permutations
from typing import Callable, Mapping, Sequence

from bot.answering.abstention import AbstentionModel, Evidence, should_abstain
from bot.answering.conditions import ConditionCheck, check_conditions
from bot.answering.conversation import without_referents
from bot.answering.prompts import NO_BASIS
from dataclasses import replace

from bot.answering.question import Analysis, question_parts, question_type, search_text
from bot.answering.references import Pairing, paired, pairing_lead
from bot.answering.subjects import closest_to_topic, named_list, other_subject, topic_named, unnamed_quantity
from bot.answering.spans import (MIN_FOCUS, Span, about_focus, after_definition, also_asked, best_evidence,
                                 definition_lead, find_span, list_lead, phrase_with, plain, share, shorten, stated,
                                 with_opening, words)
from bot.answering.types import GENERAL, AnswerType, asking_part, language, this_year, without_cues
from bot.index.lexical import asked_words, domain_terms, tokenize
from bot.ingest.amendments import editor_note, status_line
from bot.ingest.chunking import sentences
from bot.records import Amendment, Answer, Citation, Clause, Hit

RULE_LEADS = ("judgement", "sentence", "definition")  # lead styles that state a rule: not a figure, not a list


# A lead states at most this much; a rule taking at most half of it leaves room for what comes of it.
LEAD_CHARS = 160


class ExtractiveAnswerer:
    """Lead line, quotes with [n], conditions, validity notes, citation list: all from clauses."""

    max_sources = 3
    whole_clause_chars = 350  # shorter clauses are quoted whole
    quote_chars = 300  # otherwise the quote grows around the span up to this
    list_chars = 600  # or, when the span is a list, up to this
    lead_chars = LEAD_CHARS  # a lead quoting a sentence states at most this much of it

    def __init__(
        self,
        citation_of: Callable[[Clause], str],
        abstention: AbstentionModel | None = None,
        weight: Callable[[str], float] = lambda token: 1.0,
        known: Callable[[str], bool] = lambda term: False,
        issuer_of: Callable[[Clause], str] = lambda clause: "",
    ) -> None:
        self.citation_of = citation_of
        self.issuer_of = issuer_of  # who issued a clause's document (its head's 发布机关); "" unknown
        self.abstention = abstention or AbstentionModel.load()
        self.weight = weight  # how much a shared word says (IDF): 公示 more than 企业
        self.known = known  # whether the corpus uses a word itself (see lexical.asked_words)
        self._focus: dict[tuple[str, str], dict[str, float]] = {}  # one answerer serves one ask

    def answer(self, analysis: Analysis, hits: Sequence[Hit], evidence: Evidence, extra: Sequence[Hit] = ()) -> Answer:
        """`extra`: the best clause for each further sub-question, cited after the main one."""
        why = self.outside(analysis, hits[:1], hits[:5])
        if why:
            return self.no_basis(analysis, hits, why, partial=bool(hits))
        if not hits or should_abstain(evidence, self.abstention) and not defines(hits[0], analysis):
            return self.no_basis(analysis, hits)
        kind = analysis.kind
        pool = list(hits) + [h for h in extra if h.clause.id not in {x.clause.id for x in hits}]
        parts = self.parts(analysis)
        context = " ".join(filter(None, (analysis.context, analysis.question)))
        spans = self.part_spans(parts, hits, pool, context)
        if spans[0] is None and len(parts) > 1 and extra:  # the first part answered by its own clause only
            spans[0] = self.span(parts[0], extra, context)
        if spans[0] is None and not any(spans):
            return self.no_basis(analysis, hits, f"相关条款没有规定{parts[0].kind.absent}。", partial=True)
        span = next(s for s in spans if s is not None)
        why = self.outside(analysis, [span.hit], hits[:5])
        if why:
            return self.no_basis(analysis, hits, why, partial=True)
        pairing = self.pairing(analysis, span, hits[:5])
        used = [span.hit] + ([pairing.other(span.hit)] if pairing else linked(span.hit, hits[:5])[:1])
        used += [s.hit for s in spans if s is not None and s.hit.clause.id not in {u.clause.id for u in used}]
        used += [h for h in extra if h.clause.id not in {u.clause.id for u in used}]
        used = used[: self.max_sources]
        number = {h.clause.id: n for n, h in enumerate(used, 1)}
        spans = [s if s is None or s.hit.clause.id in number else None for s in spans]
        citations: list[Citation] = []
        quotes: list[str] = []
        checks: list[ConditionCheck] = []
        for n, hit in enumerate(used, 1):
            told = [s.text for s in spans if s is not None and s.hit is hit]
            picked = self._quote(hit.clause, analysis, told[0] if told else None)
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
        for sentence in sentences(span.text):
            checks += [c for c in check_conditions(sentence, analysis.facts) if c not in checks]
        leads = []
        for part, found in zip(parts, spans):
            if found is not None and found is span and pairing and pairing.other(span.hit).clause.id in number:
                said = pairing_lead(pairing, number)  # a law's item and its definition: both halves
            else:
                said = (self._lead(part, found, checks, number[found.hit.clause.id]) if found is not None
                        else f"相关条款没有规定{part.kind.absent or '这一点'}。")
            if not any(_MARKER.sub("", said).removeprefix("依据，").rstrip("。") in _MARKER.sub("", x) for x in leads):
                leads.append(said)  # a part whose span an earlier part already states adds nothing
        lead = "".join(leads) if len(leads) == 1 else "".join(f"{'①②③④⑤'[i]}{x}" for i, x in enumerate(leads))
        lines = [f"答：{lead}"]
        for n, hit in enumerate(used, 1):
            if hit.amendment:
                lines.insert(0, f"⚠ 注意：[{n}] 所依据的条款{status_line(hit.amendment)}。{editor_note(hit.amendment)}")
        if checks:
            lines.append("对照您提供的情况：")
            lines += [f"- {c.line()}" for c in checks]
        lines.append("条款原文：")
        lines += quotes
        units = [u for c in citations for u in c.responsible_units]
        if units and kind.intent in ("responsibility", "procedure"):
            lines.append("责任单位：" + "、".join(dict.fromkeys(units)))
        lines.append("出处：")
        lines += [f"[{c.n}] {c.citation}" for c in citations]
        # A part the clauses do not state makes the whole answer a partial one: the asker's question is
        # not answered, however well the other parts are ("怎么申请，租金多少": the sum is what they need).
        partial = any(s is None for s in spans)
        return Answer(analysis.question, "\n".join(lines), partial, tuple(citations), hits=tuple(hits),
                      intent=kind.intent, lead=lead_text(lead))

    def pairing(self, analysis: Analysis, span: Span, close: Sequence[Hit]) -> Pairing | None:
        """The law item and the regulation's definition of it the span is one half of, for a lead stating a
        rule (a yes/no, a definition, a sentence): not for a figure, a list asked whole or a decided check."""
        decided = any(c.status != "unknown" for c in check_conditions(span.text, analysis.facts))
        if analysis.kind.lead not in RULE_LEADS or span.hit.amendment or decided:
            return None
        return paired(span, close, self.focus(analysis.question, analysis.kind))

    def parts(self, analysis: Analysis) -> list[Analysis]:
        """The sub-questions, each read for its own type ("最短按几年折旧？能不能加速折旧？"); the
        question itself when it asks one thing."""
        if analysis.names_clause:
            return [analysis]
        pieces = question_parts(analysis.question)
        if len(pieces) < 2:
            return [analysis]
        return [replace(analysis, question=p, kind=question_type(p)) for p in pieces[:3]]

    def part_spans(self, parts: Sequence[Analysis], hits: Sequence[Hit], pool: Sequence[Hit],
                   context: str) -> list[Span | None]:
        """Each part's span (the first part's from `hits`, a later one's from `pool`, which holds the
        clauses found for the later parts too). Each part leads with its own span where one comes close:
        the parts are read in every order, each one's span held against those the parts before it took,
        and the order whose spans score highest together wins ("每个月交还是每季度交？多少天内申报？":
        the 十五日内 sentence answers the second part; the first gets 分月或者分季预缴)."""
        if len(parts) == 1:
            return [self.span(parts[0], hits, context)]
        best: tuple[float, list[Span | None]] | None = None
        for order in permutations(range(len(parts))):
            spans: list[Span | None] = [None] * len(parts)
            for n in order:
                spans[n] = self.span(parts[n], pool if n else hits, context, [stated(s) for s in spans if s])
            total = sum(s.score for s in spans if s is not None)
            if best is None or total > best[0]:
                best = (total, spans)
        return best[1]

    def span(self, analysis: Analysis, hits: Sequence[Hit], context: str = "",
             taken: Sequence[tuple] | None = None) -> Span | None:
        """The span that answers: of the asked type and about the focus; for a type that may not be
        answered by anything else (absent set), None when no clause states it. `context`: the whole
        question a sub-question is part of; its words count half. `taken`: for a part, what the other
        parts' spans state (find_span)."""
        kind = analysis.kind
        focus = self.focus(analysis.question, kind)
        asked = dict(focus) if taken is not None else None
        if context and context != analysis.question:
            for t, w in self.focus(context, kind).items():
                focus[t] = max(focus.get(t, 0.0), w / 2)
        for hit in hits[:5]:  # naming a document does not pick a clause of it ("…转化法是哪天施行的")
            if hit.doc_title.removeprefix("中华人民共和国") in analysis.question:
                focus = {t: w for t, w in focus.items() if t not in words(hit.doc_title)}
        defining = partial(names_defined, analysis.question) if kind.lead in RULE_LEADS else None
        asking = self.focus(asking_part(analysis.question), kind) or None  # "算哪档？": the list asked before
        span = find_span(kind, focus, analysis.facts, hits, analysis.names_clause, defining=defining, asked=asked,
                         taken=taken or (), asking=asking)
        year = this_year(asking_part(analysis.question), kind)  # the part's own year, not its context's
        if kind.absent:
            if span is not None and year is not None and not year.search(span.text):
                return None  # standing rules do not say this year's date or sum
            if span is not None and kind.name in ("money", "reward") and unnamed(span, analysis.question):
                return None  # a sum for another programme than the one named (省级技术创新中心 补助多少)
            return span if span is not None and about_focus(span, hits[0], focus, kind) else None
        return span or find_span(GENERAL, focus, analysis.facts, hits, analysis.names_clause, asked, taken or ())

    def focus(self, question: str, kind: AnswerType) -> dict[str, float]:
        """What the question is about, each word weighted by its rarity and how much it counts; the
        type's cue words, the asker's own figures and words the corpus never uses (一共, 够不够: they can
        match nothing) left out; single characters count a quarter. A version's year is no figure of
        the asker's: it names the text asked about ("2008年那一版还有效吗")."""
        key = (question, kind.name)
        if key not in self._focus:  # read by the span, the quote and the lead alike
            # "按这个税率…": the earlier answer pointed at, not what is asked now
            asked = asked_words(search_text(without_cues(without_referents(question), kind)), self.known)
            versions = {m.group(1) for m in language()["version_year"].finditer(question)}
            self._focus[key] = {t: self.weight(t) * f * (1.0 if len(t) > 1 else 0.25)  # 得, 按, 前: function words
                                for t, f in asked.items()
                                if (not t[0].isdigit() or t in versions) and self.known(t)}
        return dict(self._focus[key])

    def outside(self, analysis: Analysis, used: Sequence[Hit], close: Sequence[Hit] = ()) -> str:
        """Why the clauses cannot answer, whatever they say: the question is about a place or a tax
        that neither the corpus nor the answering clause names; "" when they can."""
        place = unknown_place(analysis.question, self.known)
        if place:
            return f"本库收录的是国家和贵州省的政策文本，相关条款没有关于{place}的规定。"
        if used:
            tax = other_tax(analysis.question, used[0], close)
            if tax:
                return f"本库收录的税法只有企业所得税法及其实施条例，相关条款没有关于{tax}的规定。"
            if named_list(analysis.question, analysis.kind.name, used[0]):
                return f"相关条款没有规定{analysis.kind.absent}。"
            return (other_subject(analysis.question, analysis.kind.name, used[0], self.known, self.weight)
                    or unnamed_quantity(analysis.question, analysis.kind, used[0], self.known, self.weight))
        return ""

    def no_basis(self, analysis: Analysis, hits: Sequence[Hit], why: str = "", partial: bool = False) -> Answer:
        """No basis: nothing close enough, or (partial) clauses on the topic that do not state what was
        asked, cited for context. A question for a detail (a website, a sum) whose topic a clause at hand
        names gets the partial form however weak the match: the corpus has the topic, not the detail."""
        if not why and analysis.kind.absent and topic_named(analysis.question, hits[:5], self.known):
            why, partial = f"相关条款没有规定{analysis.kind.absent}。", True
        related = tuple(closest_to_topic(analysis.question, hits[:5], self.weight)[:2] if partial else hits[:3])
        lead = why if partial else NO_BASIS + why
        lines = [f"答：{lead}" if partial else lead]
        if related:
            lines.append("以下条款与问题的主题相关，可供参考，但没有规定所问内容：" if partial
                         else "以下条款可能相关，但不能直接回答您的问题：")
            lines += [f"- {self.citation_of(h.clause)}" for h in related]
        return Answer(analysis.question, "\n".join(lines), True, hits=tuple(hits), lead=lead, related=related,
                      intent=analysis.intent)

    def _quote(self, clause: Clause, analysis: Analysis, span: str | None) -> str:
        """One exact substring of the clause: a short clause whole, else the span (or the sentence
        sharing most of the question) widened by its neighbours up to quote_chars (list_chars for a list)."""
        if analysis.intent == "lookup" or len(clause.text) <= self.whole_clause_chars:
            return clause.text
        parts = sentences(clause.text) or [clause.text]
        focus = self.focus(analysis.question, analysis.kind)

        def score(s: str) -> float:
            return sum(w for t, w in focus.items() if t in words(s)) / (1 + 0.01 * len(s))

        if span is None:
            span = max(parts, key=score)
        if len(span) >= self.quote_chars:
            return span
        start = clause.text.index(span)
        end = start + len(span)
        while True:
            before = clause.text[:start].rstrip()
            after = clause.text[end:]
            options = []
            prev = [p for p in parts if before.endswith(p)]
            nxt = [p for p in parts if after.lstrip().startswith(p)]
            if prev and score(prev[-1]) > 0:
                options.append((score(prev[-1]), "before", prev[-1]))
            if nxt and score(nxt[0]) > 0:
                options.append((score(nxt[0]), "after", nxt[0]))
            options = [o for o in options if end - start + len(o[2]) <= self.quote_chars]
            if not options:
                break
            _, side, part = max(options)
            if side == "before":
                start = clause.text.rindex(part, 0, start)
            else:
                end = clause.text.index(part, end) + len(part)
        return clause.text[start:end]

    def _lead(self, analysis: Analysis, span: Span, checks: Sequence[ConditionCheck], n: int = 1) -> str:
        """The direct answer: what the span states, in the way its type asks (bot/data/answer_types.yaml)."""
        kind, first = analysis.kind, span.hit
        # "由谁来当": the span naming who serves in the role asked; "哪些部门负责": the plan's 责任单位
        who = (kind.lead == "units" and not language()["asks_units"].search(analysis.question)
               and names_who(span, kind, self.focus(analysis.question, kind)))
        if kind.lead == "units" and first.clause.responsible_units and not who:
            return f"该事项的责任单位是{'、'.join(first.clause.responsible_units)}[{n}]。"
        if kind.lead == "issuer" and (issuer := self.issuer_of(first.clause)):
            return f"《{first.doc_title}》的发布机关是{issuer}[{n}]。"
        if kind.name == "lookup":
            return f"{self.citation_of(first.clause)}规定[{n}]：{shorten(after_definition(first.clause.text), 160)}。"
        if kind.lead == "citation":
            stated = rule_of(span, self.focus(analysis.question, kind))  # …20％；…高新技术企业，减按15％
            return f"见{self.citation_of(first.clause)}[{n}]：{shorten(stated, self.lead_chars)}。"
        if span.items:  # a list chosen whole is led as a list; a sentence or an item as the rule it states
            whole = bool(language()["whole_list"].search(analysis.question))  # "全部列出来": every item
            stated = list_lead(span, self.focus(analysis.question, kind), in_order=kind.lead == "list", whole=whole)
        elif kind.lead == "definition":
            stated = definition_lead(span)
        elif kind.lead == "phrase" and span.evidence:  # without the type's evidence, the rule is what it says
            stated = phrase_with(span.text, span.evidence, at=span.at)
            focus = self.focus(analysis.question, kind)
            stated = "，".join([stated.rstrip("。；;，,"), *also_asked(kind, span, stated, focus)])
            carried = carried_on(span)
            if carried and len(stated) + len(carried) <= 160:
                stated = f"{stated.rstrip('。；;，,')}；{plain(carried)}"
        else:
            stated = shorten(rule_of(span, self.focus(analysis.question, kind), kind.lead == "judgement"),
                             self.lead_chars)
        stated = with_opening(span, stated)  # an item under its list's head, whatever the type
        if kind.lead == "judgement":
            stated = judgement(span.text, stated, checks)
        else:
            failed = [c.phrase for c in checks if c.status == "not_met" and c.phrase in span.text]
            if failed:
                stated = f"{stated.rstrip('。；;，,')}（按您提供的情况，不满足“{'、'.join(failed)}”）"
        stated = stated.rstrip("。；;，,")
        if first.amendment and kind.lead not in ("units", "citation") and kind.name != "lookup":
            current = current_rule(first.amendment, kind, self.focus(analysis.question, kind), analysis.question)
            if current:
                return f"现行：{current}（{first.amendment.by_number}，编者注）；条款原文“{stated}”[{n}]已被修改。"
        return f"依据[{n}]，{stated}。"


def names_who(span: Span, kind: AnswerType, focus: Mapping[str, float]) -> bool:
    """For a department question, whether the span itself names who does what was asked, beside the
    asked words ("由高新区党工委与管委会相关负责同志担任各产业链链长": who serves as 链长 is not the plan's
    责任单位 for the whole clause): the span is the lead then."""
    if kind.evidence is None or re.search(r"[（(]责任单位", span.text):
        return False
    return best_evidence(kind, span.text, focus)[1] >= MIN_FOCUS


def carried_on(span: Span) -> str:
    """The sentence after the span when it carries the span's rule on (…12％以内的部分准予扣除；
    超过…的部分，准予结转以后三年内…扣除); "" otherwise."""
    after = span.hit.clause.text.split(span.text, 1)[-1].lstrip()
    following = sentences(after)[:1]
    if following and not _ITEM_START.match(following[0]) and language()["carries_on"].match(following[0]):
        return following[0]
    return ""


def rule_of(span: Span, focus: dict[str, float] | None = None, outcome: bool = False) -> str:
    """What a rule sentence says, for a lead: after its 是指 when it defines a term it names (…所称技术
    转让所得免征、减征，是指 一个纳税年度内…), with the next sentence when that one carries the rule on
    (…；超过500万元的部分，减半征收企业所得税), ends the sentence the span's semicolon cut (…可以签订…协议；
    有关人员不得违反协议约定…: what the rule decides may follow it) or, for a short one, says more of
    what was asked. With `outcome` (a yes/no question), a short rule is stated with the next sentence of
    its paragraph: what comes of it (…应提请认定机构复核。复核后确认不符合…追缴…) decides the yes or no."""
    text = after_definition(span.text)
    after = span.hit.clause.text.split(span.text, 1)[-1].lstrip()
    following = sentences(after)[:1]
    if following and not _ITEM_START.match(following[0]) and len(text) + len(following[0]) <= LEAD_CHARS:
        new = {t: w for t, w in (focus or {}).items() if t not in words(text)}  # asked, not yet said
        cut = text.rstrip().endswith(("；", ";"))
        cut = cut or outcome and len(text) < LEAD_CHARS // 2 and "\n" not in after.split(following[0], 1)[0]
        if carried_on(span) or cut or new and share(new, words(following[0])) > 0 and len(text) < 100:
            text = text.rstrip("。；;") + "；" + following[0]
    return text


_ITEM_START = re.compile(r"[（(]?[一二三四五六七八九十\d]+[)）、.．]")


def unnamed(span: Span, question: str) -> bool:
    """The question names a programme or body of the corpus's own vocabulary (技术创新中心, 孵化器) that
    the span's clause does not: its sum is another programme's."""
    terms = domain_terms(question)
    named = [t for t in terms if len(t) >= 4 and t not in span.hit.doc_title  # 企业所得税: the law's own subject
             and not any(t in u and t != u for u in terms)]
    return bool(named) and not any(t in span.hit.clause.text for t in named)


def defines(hit: Hit, analysis: Analysis) -> bool:
    """A definition question whose top clause defines a term the question names (所称X，是指…): the
    corpus answers it, however little else of the question the clause shares. The definitions are read
    as retrieval's defined-terms index reads them."""
    from bot.retrieval.terms import aliases, definitions

    return analysis.kind.lead == "definition" and any(
        name in analysis.question for d in definitions([hit.clause]) for name in aliases(d.term))


def names_defined(question: str, text: str) -> bool:
    """Whether `text` defines a term the question names (…所称无形资产，是指…: 外购软件算无形资产吗)."""
    return any(len(name) >= 3 and name in question for name in defined_in(text))


@lru_cache(maxsize=4096)
def defined_in(text: str) -> tuple[str, ...]:
    """The terms a span defines and their short names, read as retrieval's defined-terms index reads them."""
    from bot.retrieval.terms import aliases, defined_terms

    return tuple(name for term in dict.fromkeys(defined_terms(text)) for name in aliases(term))


def judgement(span: str, stated: str, checks: Sequence[ConditionCheck]) -> str:
    """A yes/no question's lead: 不能 when the asker's facts fail a threshold of the span, 满足 when they
    meet all it was held against (stating that sentence), else the conditions to meet, or the rule."""
    decided = [c for c in checks if c.status != "unknown"]
    if decided:
        held = next((plain(s) for s in sentences(span) if any(c.phrase in s for c in decided)), stated)
        failed = [c.phrase for c in decided if c.status == "not_met"]
        if failed:
            return f"不能：按您提供的情况，不满足“{'、'.join(failed)}”（{held}）"
        return f"按您提供的情况，满足“{'、'.join(c.phrase for c in decided)}”（{held}）"
    return f"需满足：{stated}" if language()["conditional"].search(stated) else stated


def current_rule(amendment: Amendment, kind: AnswerType, focus: Mapping[str, float], question: str = "") -> str:
    """The phrase of the editor's note holding what the asked type asks for (the current figure), the
    one beside the asked words when it holds several (100%加计扣除…，形成无形资产的…200%摊销)."""
    found = kind.answers(amendment.note) if kind.evidence is not None else None
    if found:
        figure, _, at = best_evidence(kind, amendment.note, focus, question)
        return phrase_with(amendment.note, figure, min_chars=30, at=at)
    # a yes/no or a definition (the note's rule is what the term now means): the rule
    return shorten(amendment.note, 120) if kind.evidence is None or kind.lead == "definition" else ""


_MARKER = re.compile(r"\[\d{1,2}\]")  # [1], not a document number's [2008]


def lead_text(line: str) -> str:
    """The lead as data: without its [n] markers and 依据 preamble."""
    return _MARKER.sub("", line).replace("依据，", "")


def linked(primary: Hit, pool: Sequence[Hit]) -> list[Hit]:
    """For a primary clause that defines a word of a law article (实施条例: "企业所得税法第七条…所称…是指"),
    that article when it is among the close hits: the law holds the rule, the definition alone doesn't answer."""

    def refers(a: Hit, b: Hit) -> bool:
        article = b.clause.path.rsplit(".", 1)[-1]
        name = b.doc_title.removeprefix("中华人民共和国")
        return article.startswith("第") and article.endswith("条") and f"{name}{article}" in a.clause.text

    if not _DEFINITION.search(primary.clause.text) or _ANY_FIGURE.search(primary.clause.text):
        return []  # a rule (with its figures) stands alone; a bare definition needs the rule it serves
    return [h for h in pool if h.clause.id != primary.clause.id and refers(primary, h)]


_DEFINITION = re.compile(r"所称.{0,60}?是指")
_ANY_FIGURE = re.compile(r"\d+(?:[.,]\d+)*\s*(?:%|％|万元|亿元|元|岁|年|个月|日|人|家|个|件|项|位|亩)")


@lru_cache(maxsize=1)
def _places():
    import jieba.posseg

    from bot.index.lexical import _jieba

    return jieba.posseg.POSTokenizer(_jieba())


def unknown_place(question: str, known: Callable[[str], bool]) -> str:
    """A place the corpus never names whose own rules the question asks about ("深圳对引进博士补贴
    多少"), when it names no place the corpus knows: the corpus is national and Guizhou law."""
    places = _place_words(question)
    if any(known(p) for p, _ in places):
        return ""
    return next((p for p, owns in places if owns), "")


@lru_cache(maxsize=1024)
def _place_words(question: str) -> tuple[tuple[str, bool], ...]:
    """The place names jieba's tagger finds in a question, each with whether the question asks about
    its own rules; read twice an answer (the tagger is the slowest step of one) and for every repeat."""
    places, at = [], 0
    for w in _places().cut(question):
        at += len(w.word)
        if w.flag.startswith("ns") and len(w.word) >= 2:
            places.append((w.word, bool(language()["place_owns"].match(question[at:]))))
    return tuple(places)


def other_tax(question: str, used: Hit, close: Sequence[Hit]) -> str:
    """A tax the question names that the answering clause does not, nor the title of a close clause's
    document nor a law a close clause cites by name (个税 against 企业所得税法; 所得税 is the corpus's own:
    the measures' clauses cite 《企业所得税法》). A tax is read by its whole name: 所得税 inside 个人所得税
    or 企业所得税 is not another tax the question names."""
    taxes = [t for t in tokenize(question) if t.endswith("税") and t not in language()["tax_verbs"]]
    for token in taxes:
        if any(token != whole and token in whole for whole in taxes):
            continue
        if token not in used.clause.text and not any(
                token in h.doc_title or re.search(f"《[^》]*{token}[^》]*》", h.clause.text) for h in (used, *close)):
            return token
    return ""
