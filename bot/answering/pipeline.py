"""The answer pipeline as a LangChain runnable: analyse -> retrieve -> decide -> compose -> verify.

A Conversation carries earlier turns, so a follow-up ("那需要什么条件？", "找哪个部门？",
"省级高新区也可以吗？") is read against the question, facts and clauses before it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from langchain_core.runnables import Runnable, RunnableLambda

from bot.answering.abstention import AbstentionModel, looks, should_abstain
from bot.answering.extractive import ExtractiveAnswerer
from bot.answering.question import Analysis, analyse, question_parts, search_text
from bot.errors import QuestionError
from bot.index.lexical import domain_terms, tokenize
from bot.index.store import PolicyIndex
from bot.logs import question_for_log
from bot.records import Answer, Clause
from bot.retrieval.search import Searcher

log = logging.getLogger(__name__)
MAX_QUESTION_CHARS = 500
_FOLLOW_UP_START = ("那", "那么", "还有", "另外", "它", "该", "如果", "假如", "要是", "省级", "国家级", "找哪", "找谁", "需要什么", "什么条件")
_CONTENT = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
# Words inside a question that lean on an earlier turn: "科技人员比例又有什么要求？", "那外国专家呢？"
_POINTS_BACK = re.compile(r"又|也|还要|还需|还能|呢[？?]?$|这个|这些|上述|前面|刚才|去哪里?办|批下来|认定下来")


@dataclass
class Turn:
    question: str
    query: str  # what was retrieved with: the question, or it read against the turn before
    analysis: Analysis
    answer: Answer


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
        return len(m) <= 24 and not re.search(r"[？?]$", m) or m.startswith(("是", "否", "不", "没", "有", "跳过"))

    @property
    def history(self) -> list[tuple[str, str]]:
        return [(t.question, t.answer.text) for t in self.turns]

    def resolve(self, analysis: Analysis) -> tuple[str, Analysis]:
        """The query to retrieve with and the analysis to answer with, given earlier turns."""
        if not self.turns or not is_follow_up(analysis.question):
            return analysis.question, analysis
        last = self.turns[-1]
        facts = {**last.analysis.facts, **analysis.facts}
        kind = analysis.kind if analysis.kind.name != "general" else last.analysis.kind
        query = f"{last.query} {analysis.question}"
        return query, replace(analysis, facts=facts, kind=kind, context=last.query)


def is_follow_up(question: str) -> bool:
    """Short, opening with a word that points back ("那…", "省级…也可以吗"), topic-less, or with a
    pointing-back word anywhere ("科技人员比例又有什么要求？", "那外国专家呢？")."""
    q = question.strip()
    topic = [t for t in tokenize(q) if len(t) >= 2]
    return q.startswith(_FOLLOW_UP_START) or len(q) <= 8 or len(topic) <= 1 or bool(_POINTS_BACK.search(q))


def check_question(question: str) -> str:
    q = (question or "").strip()
    if not q:
        raise QuestionError("请输入问题，例如：科技成果转化项目最多能拿多少支持？")
    if len(q) > MAX_QUESTION_CHARS:
        raise QuestionError(f"问题过长（{len(q)} 字，上限 {MAX_QUESTION_CHARS} 字），请精简后再问")
    if not _CONTENT.search(q):
        raise QuestionError("没有识别到问题内容（只有标点或表情符号），请用文字描述您的问题")
    if not re.search(r"[\u4e00-\u9fff]", q):
        raise QuestionError("请用中文提问（本库收录的政策文本均为中文），例如：研发费用加计扣除比例是多少？")
    return "".join(ch for ch in q if ch.isprintable() or ch == "\n")


def check_query(query: str) -> str:
    """The limits `ask` applies (length, printable text), for a search query."""
    query = "".join(ch for ch in (query or "") if ch.isprintable() or ch == "\n").strip()
    if len(query) > MAX_QUESTION_CHARS:
        raise QuestionError(f"检索内容过长（{len(query)} 字，上限 {MAX_QUESTION_CHARS} 字），请精简后再试")
    return query


def build_answer_chain(
    index: Callable[[], PolicyIndex], citation: Callable[[Clause], str], log_questions: bool = False, k: int = 5
) -> Runnable:
    """analyse | retrieve | decide | compose | verify, each step a RunnableLambda over a state dict.

    `index` gives the serving index; each ask reads it once (retrieve), so all its steps see one generation."""
    model = AbstentionModel.load()

    def analyse_step(state: dict) -> dict:
        question = check_question(state["question"])
        log.debug("question %s", question_for_log(log_questions, question))
        conversation: Conversation = state.get("conversation") or Conversation()
        query, analysis = conversation.resolve(analyse(question))
        # `search` drops what the asker says they are not; whether there is a basis is judged on all of it.
        return {**state, "question": question, "conversation": conversation, "query": query,
                "search": search_text(query), "analysis": analysis}

    def retrieve_step(state: dict) -> dict:
        corpus = index()
        searcher = Searcher(corpus)
        # A clause that addresses the model ("忽略之前的指令…") is quoted at most, never the lead basis.
        hits = sorted(searcher.search(state["search"], k), key=lambda h: h.clause.instructs)
        # A further sub-question answered in another document gets that document's clause as a
        # source too: the plan says 落实…减免, the rate is in the tax law, the conditions in the measures.
        # It must clear the same "basis" bar as a whole question would.
        extra = []
        parts = [] if state["analysis"].names_clause else question_parts(state["question"])
        subject = " ".join(domain_terms(parts[0])) if parts else ""  # what the first part is about
        for part in parts[1:]:
            sub = f"{subject} {part}".strip()
            top = searcher.search(sub, 3)
            used_docs = {h.clause.doc_slug for h in (*hits[:1], *extra)}
            fresh = [h for h in top if h.clause.doc_slug not in used_docs][:1]
            if fresh and not should_abstain(looks(sub, fresh, corpus)[-1], model):
                extra.append(fresh[0])
        conversation: Conversation = state["conversation"]
        if conversation.turns and state["query"] != state["question"]:
            carried = [h for h in conversation.turns[-1].answer.hits[:1] if h.clause.id not in {x.clause.id for x in hits}]
            hits = carried + hits if carried and not state["analysis"].names_clause else hits
        return {**state, "index": corpus, "hits": hits, "extra_sources": extra}

    def decide_step(state: dict) -> dict:
        corpus: PolicyIndex = state["index"]
        evidence = looks(state["query"], state["hits"], corpus, Searcher(corpus).closeness, model)[-1]
        return {**state, "evidence": evidence}

    def compose_step(state: dict) -> dict:
        extractive = extractive_answerer(state["index"], citation, model)
        answer = extractive.answer(state["analysis"], state["hits"], state["evidence"], state["extra_sources"])
        llm = state.get("llm")
        if llm is not None and not answer.abstained:
            answer = _with_llm(llm, state, answer)
        return {**state, "answer": answer}

    def verify_step(state: dict) -> dict:
        answer: Answer = state["answer"]
        clauses = state["index"].store.clauses
        for c in answer.citations:
            if c.quote not in clauses[c.clause_id].text:  # a bug, never a user error
                raise AssertionError(f"quote of [{c.n}] is not in {c.clause_id}")
        conversation: Conversation = state["conversation"]
        conversation.turns.append(Turn(state["question"], state["query"], state["analysis"], answer))
        return state

    return (
        RunnableLambda(analyse_step, name="analyse")
        | RunnableLambda(retrieve_step, name="retrieve")
        | RunnableLambda(decide_step, name="decide")
        | RunnableLambda(compose_step, name="compose")
        | RunnableLambda(verify_step, name="verify")
    )


def extractive_answerer(
    corpus: PolicyIndex, citation: Callable[[Clause], str], model: AbstentionModel | None = None
) -> ExtractiveAnswerer:
    """The extractive answerer over one index: words weigh by their IDF there."""
    return ExtractiveAnswerer(citation, model, weight=corpus.idf, known=corpus.uses)


def _with_llm(llm: Any, state: dict, extractive: Answer) -> Answer:
    """The model's answer if it passes verification, else the extractive one with a note.

    The note gives a generic reason: the verifier's own message would repeat the unsupported figure.
    """
    from bot.errors import LLMUnavailable

    try:
        text, citations, problems = llm.answer(state["question"], state["hits"], state["conversation"].history)
    except LLMUnavailable as exc:
        log.info("LLM unavailable, extractive answer shown: %s", exc)
        return llm_unavailable(extractive, exc)
    return llm_result(extractive, text, citations, problems)


def llm_unavailable(extractive: Answer, exc: Exception) -> Answer:
    """The extractive answer, with a note that the model could not be reached."""
    from bot.answering.prompts import UNAVAILABLE_NOTE

    note = UNAVAILABLE_NOTE.render(reason=str(exc))
    return replace(extractive, text=f"{note}\n{extractive.text}", notes=(note,))


def llm_result(extractive: Answer, text: str, citations, problems) -> Answer:
    """The model's text as the answer when it passed verification, else the extractive one with a note
    (also used by the web app after streaming the text)."""
    from bot.answering.prompts import FALLBACK_NOTE
    from bot.answering.verify import is_no_basis

    if problems:
        log.info("LLM answer failed verification (%d problems), extractive answer shown", len(problems))
        note = FALLBACK_NOTE.render(reason=f"{len(problems)} 处引用或数字无法在所引条款中核实")
        return replace(extractive, text=f"{note}\n{extractive.text}", notes=(note, *problems))
    from bot.answering.extractive import lead_text

    first = next((line for line in text.splitlines() if line.strip()), "")
    if is_no_basis(text):
        return replace(extractive, text=text, abstained=True, citations=(), answerer="llm", lead=lead_text(first))
    amended = [line for line in extractive.text.splitlines() if line.startswith("⚠ 注意")]
    sources = ["出处："] + [f"[{c.n}] {c.citation}" for c in citations]
    return replace(extractive, text="\n".join([*amended, text, *sources]), citations=tuple(citations), answerer="llm",
                   lead=lead_text(first.removeprefix("答：")))
