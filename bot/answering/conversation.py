"""A chat's earlier turns, and how a follow-up is read against them.

A follow-up either keeps the subject and asks something new about it ("那需要什么条件？",
"省级高新区也可以吗？") or switches to a new subject and asks the same thing about it ("那大数据电子
信息呢？", "那外国专家呢？"). Which one is decided by the follow-up's own topic (bot/retrieval/terms.py:
the domain and defined terms it names, their everyday names, and other words the corpus uses, each
specific enough by IDF): a follow-up that names a term the previous subject did not, and says nothing
else ("那X呢？"), switches and borrows the previous question's form (its asking words: 税率, 哪个
高新区…); any other follow-up is read within the previous subject, including one that names a new
term but asks its own question about it ("科技人员比例又有什么要求？", "想独占许可给国外公司呢？").
The places and figures the asker gives about themselves (省级高新区, 营收3.5亿) are facts, not
subjects, and hold for every later turn. A question naming no subject at all ("期间公司改名了怎么办？")
is read within the previous one too, and "这个税率" in "按这个税率从哪年起交" points at the last answer:
the type asked is what is left (a start). "那人才支撑那条呢？" names another item of a document by its
heading: that clause, asked what was asked of the last item named so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from bot.answering.question import Analysis, question_type
from bot.answering.types import AnswerType, answer_types, language
from bot.index import lexical
from bot.index.lexical import tokenize
from bot.records import Answer
from bot.retrieval.terms import CorpusTerms, cues, form_words, without_form



@dataclass
class Turn:
    question: str
    query: str  # what was retrieved with: the question, or it read against the turn before
    analysis: Analysis
    answer: Answer
    subject: str = ""  # what the turn is about: the known terms it names (or its words without the asking ones)
    form: str = ""  # its asking words ("税率", "哪个高新区"), borrowed by a follow-up that switches subject


@dataclass(frozen=True)
class Reading:
    """A question as read in its conversation: what to retrieve with and what to answer."""

    query: str
    analysis: Analysis
    subject: str
    form: str
    follow_up: str = ""  # "" (a question of its own), "keep", "switch" or "item" (a clause named by its heading)
    focus: tuple[str, ...] = ()  # on a switch: the new subject's terms, as the corpus writes them


@dataclass
class Conversation:
    """Earlier turns of one chat; the web UI keeps one per session."""

    turns: list[Turn] = field(default_factory=list)
    guided: Any = None  # a guided.GuidedMatch while the policy-matching exchange runs

    @property
    def facts(self) -> dict:
        """Everything the asker has said about their enterprise so far (later turns win)."""
        merged: dict = {}
        for turn in self.turns:
            merged.update(turn.analysis.facts)
        return merged

    def replying_to_guided(self, message: str) -> bool:
        """A short reply while a matching question is pending, not a new question of its own."""
        if self.guided is None or not self.guided.pending:
            return False
        m = message.strip()
        limit = 24 * max(1, len(getattr(self.guided, "pending_facts", ())))  # a figure or label for each fact asked
        return len(m) <= limit and not re.search(r"[？?]$", m) or m.startswith(("是", "否", "不", "没", "有", "跳过"))

    @property
    def history(self) -> list[tuple[str, str]]:
        return [(t.question, t.answer.text) for t in self.turns]

    def read(self, analysis: Analysis, terms: CorpusTerms) -> Reading:
        """The question read against the turns before it, with the asker's earlier facts."""
        question = analysis.question
        analysis = replace(analysis, facts={**self.facts, **analysis.facts})
        own = Reading(question, analysis, subject_of(question, analysis, terms), " ".join(form_words(question)))
        if not self.turns or not (is_follow_up(question) or _subjectless(question, terms)):
            return own
        last = self.turns[-1]
        heading = heading_named(question, terms)
        if heading and heading not in last.subject:  # "那人才支撑那条呢？": another item of the document,
            # asked what was asked of the last item named by its heading
            last = next((t for t in reversed(self.turns) if heading_named(t.question, terms)), last)
        else:
            heading = ""
        analysis = replace(analysis, kind=asked_type(question, analysis.kind))
        if last.analysis.kind.name != "general" and analysis.kind.name == "general" and (heading or terms.names_only(question)):
            # "那X呢？", "那X那条呢？" ask what the last one asked; one stating a new case ("那要是一直
            # 没用起来呢？") asks what the clauses say comes of it
            analysis = replace(analysis, kind=last.analysis.kind)
        before = last.subject or without_form(last.query)
        # A new subject: a term the last one did not name, not where the asker is nor a figure of theirs.
        known = terms.topic(before)
        new = tuple(t for t in terms.topic(_without_facts(question, analysis), stated=False) if t not in known)
        if heading:  # retrieved among the clauses naming it
            form = last.form or " ".join(form_words(last.query))
            return Reading(f"{question} {form}".strip(), analysis, heading, form, "item", (heading,))
        if new and terms.names_only(question):
            # Retrieved among the clauses naming the new subject (`focus`); the borrowed form and
            # the old subject only lean within them (工会经费 after 职工福利费能扣多少: the deduction
            # cap of 工会经费, not any clause naming it).
            form = last.form or " ".join(form_words(last.query))
            return Reading(f"{question} {form} {before}".strip(), analysis, own.subject, form, "switch", new)
        analysis = replace(analysis, context=before)  # the kept subject's words count half in the answer
        return Reading(f"{before} {question}", analysis, before, own.form or last.form, "keep")

    def add(self, reading: Reading, answer: Answer) -> None:
        self.turns.append(Turn(reading.analysis.question, reading.query, reading.analysis, answer, reading.subject, reading.form))


def subject_of(question: str, analysis: Analysis, terms: CorpusTerms, words: bool = True) -> str:
    """What a question is about: the known terms it names (高新技术企业, 工作许可), not the asker's
    place; with `words`, not the terms the asker states a figure of either ("研发投入占销售收入4.2%"
    is a fact, kept as one, not what later turns ask about) but other specific corpus words (方案,
    上市); else its words without the asking ones."""
    text = _without_facts(question, analysis)
    if not words:
        return " ".join(terms.topic(text, words=False)) or without_form(question)
    return " ".join(terms.topic(text, stated=False) or terms.topic(text)) or without_form(question)


def asked_type(question: str, kind: AnswerType) -> AnswerType:
    """A follow-up's answer type without the words that point back at the earlier answer: "按这个税率
    从哪一年开始交" asks for a year, not a rate; `kind` when what is left asks nothing specific."""
    rest = without_referents(question)
    if rest == question:
        return kind
    own = question_type(rest)
    return own if own.rank < 3 and own.name != "general" else kind


def without_referents(question: str) -> str:
    """The question without a pointing word and the answer type's word it points at ("这个税率",
    "这个期限"): that is the earlier answer, kept among the hits, not what is asked now. A thing
    pointed at ("这些无形资产") stays: it is what the question is about."""
    words = lexical.words(question)
    back = cues().referring
    asked = {c for t in answer_types() for c in t.cues}
    pointed = {i for i in range(1, len(words)) if words[i - 1] in back and words[i] in asked}
    kept = [w for i, w in enumerate(words) if i not in pointed and not (i + 1 in pointed)]
    return question if len(kept) == len(words) else "".join(kept)


def _without_facts(question: str, analysis: Analysis) -> str:
    """The question without the places the asker named about themselves (省级高新区, 安顺国家高新区):
    where the asker is, not what they ask about."""
    for value in analysis.facts.values():
        if isinstance(value, str) and len(value) >= 2:
            question = question.replace(value, " ")
    return question


def heading_named(question: str, terms: CorpusTerms) -> str:
    """The heading (or its longest piece of four or more characters) of the one clause that a question
    pointing at an item ("那人才支撑那条呢？", "完善招商机制这一项") names: (十九)强化人才支撑 -> 人才支撑."""
    if not language()["points_at_item"].search(question):
        return ""
    headings = terms.headings
    pieces = sorted({h[i:j] for h in headings for i in range(len(h)) for j in range(i + 4, len(h) + 1)
                     if h[i:j] in question}, key=len, reverse=True)
    return next((p for p in pieces if sum(p in h for h in headings) == 1), "")


def _subjectless(question: str, terms: CorpusTerms) -> bool:
    """A question naming no domain term and at most one other corpus word ("证书编号和有效期会变吗？")
    says what it asks, not what about: in a chat, about the subject before it."""
    return not terms.topic(question, words=False) and len(terms.topic(question)) <= 1


def is_follow_up(question: str) -> bool:
    """Short, opening with a word that points back ("那…", "省级…也可以吗"), topic-less, or with a
    pointing-back word anywhere ("科技人员比例又有什么要求？", "那外国专家呢？")."""
    q = question.strip()
    topic = [t for t in tokenize(q) if len(t) >= 2]
    rules = language()  # the opening and pointing-back words: answer_types.yaml
    return (q.startswith(rules["follow_up_start"]) or len(q) <= 8 or len(topic) <= 1
            or bool(rules["points_back"].search(q)))
