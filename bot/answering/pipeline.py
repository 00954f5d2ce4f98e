"""The answer pipeline as a LangChain runnable: analyse -> retrieve -> decide -> compose -> verify.

A Conversation (bot/answering/conversation.py) carries earlier turns, so a follow-up ("那需要什么条件？",
"省级高新区也可以吗？", "那大数据电子信息呢？") is read against the subject, form and facts before it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any, Callable

from langchain_core.runnables import Runnable, RunnableConfig

from bot.answering.abstention import AbstentionModel, looks, should_abstain
from bot.answering.extractive import ExtractiveAnswerer
# Conversation, Turn and is_follow_up live in conversation.py; imported from here by older callers too.
from bot.answering.conversation import Conversation, Turn, is_follow_up, subject_of  # noqa: F401
from bot.answering.question import analyse, question_parts, search_text
from bot.errors import QuestionError
from bot.index.store import PolicyIndex
from bot.logs import question_for_log
from bot.records import Answer, Clause
from bot.retrieval.search import Searcher
from bot.retrieval.terms import CorpusTerms, refers_back

log = logging.getLogger(__name__)
MAX_QUESTION_CHARS = 500
_CONTENT = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


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
    """analyse | retrieve | decide | compose | verify, each step a function of a state dict.

    `index` gives the serving index; each ask reads it once (retrieve), so all its steps see one generation."""
    model = AbstentionModel.load()

    def analyse_step(state: dict) -> dict:
        question = check_question(state["question"])
        log.debug("question %s", question_for_log(log_questions, question))
        conversation: Conversation = state.get("conversation") or Conversation()
        return {**state, "question": question, "conversation": conversation, "analysis": analyse(question)}

    def retrieve_step(state: dict) -> dict:
        corpus = index()
        searcher = Searcher(corpus)
        conversation: Conversation = state["conversation"]
        reading = conversation.read(state["analysis"], CorpusTerms.of(corpus))
        # `search` drops what the asker says they are not; whether there is a basis is judged on all of it.
        search = search_text(reading.query)
        hits = searcher.search(search, k)
        if reading.focus and (about := CorpusTerms.of(corpus).naming(reading.focus)):
            # A switched subject must be in the clauses: the borrowed form and old subject only lean.
            first = searcher.search(search, k, among=about)
            hits = (first + [h for h in hits if h.clause.id not in {f.clause.id for f in first}])[:k]
        # A clause that addresses the model ("忽略之前的指令…") is quoted at most, never the lead basis.
        hits = sorted(hits, key=lambda h: h.clause.instructs)
        analysis = reading.analysis
        # A further sub-question answered in another document gets that document's clause as a
        # source too: the plan says 落实…减免, the rate is in the tax law, the conditions in the measures.
        # It must clear the same "basis" bar as a whole question would.
        extra = []
        parts = [] if analysis.names_clause else question_parts(state["question"])
        # What the first part is about, by its domain terms only: "方案说要落实…减免，税率是多少？" does
        # not make the later parts ask about the plan.
        subject = subject_of(parts[0], analysis, CorpusTerms.of(corpus), words=False) if parts else ""
        for n, part in enumerate(parts if len(parts) > 1 else []):  # the first part too: the whole
            sub = f"{subject} {part}".strip() if n else part  # question's hits may all answer a later one
            top = searcher.search(sub, 3, meaning=search)
            used_docs = {h.clause.doc_slug for h in (*hits[:1], *extra)}
            fresh = [h for h in top if h.clause.doc_slug not in used_docs][:1]
            if fresh and not should_abstain(looks(sub, fresh, corpus)[-1], model):
                extra.append(fresh[0])
        if reading.follow_up and not analysis.names_clause:
            previous = conversation.turns[-1].answer.hits[:1]
            # A switch to a sibling the last clause names too ("健康医药的呢？" after the plan's zones and
            # their industries): that clause answers it first.
            sibling = bool(reading.focus and previous
                           and previous[0].clause.id in CorpusTerms.of(corpus).naming(reading.focus))
            if reading.follow_up == "keep" or sibling:
                hits = _with_previous(hits, previous, sibling or refers_back(state["question"]), k)
        return {**state, "index": corpus, "searcher": searcher, "reading": reading, "query": reading.query,
                "analysis": analysis, "hits": hits, "extra_sources": extra}

    def decide_step(state: dict) -> dict:
        corpus: PolicyIndex = state["index"]
        evidence = looks(state["query"], state["hits"], corpus, state["searcher"].closeness, model)[-1]
        conversation: Conversation = state["conversation"]
        kept = (state["reading"].follow_up == "keep" and conversation.turns
                and not conversation.turns[-1].answer.abstained)
        if kept and not is_follow_up(state["question"]):
            # A turn that names no subject of its own but does not point back either ("期间公司改名了怎么办？",
            # "公司想注册商标，流程是怎样的？"): read within the last subject, it has a basis only if the clauses
            # found answer the question itself.
            own = state["searcher"].closeness(state["question"])  # the hits' closeness to the question alone
            hits = [replace(h, dense_score=own.get(h.clause.id, 0.0)) for h in state["hits"]]
            evidence = looks(state["question"], hits, corpus, state["searcher"].closeness, model)[-1]
        elif kept or state["reading"].follow_up == "item":
            # "这条是哪些部门负责？", "我们营收2.5亿，算哪档？": about what was just answered, or an item named
            # by its heading ("那人才支撑那条呢？"), so there is a basis; whether it states the detail asked
            # is the answer type's to say (相关条款没有规定…).
            evidence = replace(evidence, pinned=True)
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
        state["conversation"].add(state["reading"], answer)
        return state

    return (
        Step(analyse_step, "analyse")
        | Step(retrieve_step, "retrieve")
        | Step(decide_step, "decide")
        | Step(compose_step, "compose")
        | Step(verify_step, "verify")
    )


class Step(Runnable[dict, dict]):
    """One step of the chain: a function of the state dict. Unlike a RunnableLambda it does not
    inspect its function's signature nor open a child run on every call (callbacks see the chain's
    run): five RunnableLambdas cost 0.57 ms an ask, five of these 0.07 ms."""

    def __init__(self, func: Callable[[dict], dict], name: str) -> None:
        self.func, self.name = func, name

    def invoke(self, input: dict, config: RunnableConfig | None = None, **kwargs: Any) -> dict:
        return self.func(input)


def _with_previous(hits: list, previous: list, first: bool, k: int) -> list:
    """A follow-up that keeps the subject keeps the clause the last answer rested on among its hits:
    first when it refers to it ("这个是哪个部门管的？"), else second: the fresh top clause answers
    what is asked now ("那需要什么条件？" after a rate), the previous one stays at hand."""
    if not previous or not hits or hits[0].clause.id == previous[0].clause.id:
        return hits or previous
    rest = [h for h in hits if h.clause.id != previous[0].clause.id]
    return ([previous[0], *rest] if first else [rest[0], previous[0], *rest[1:]])[: max(k, len(hits))]


def extractive_answerer(
    corpus: PolicyIndex, citation: Callable[[Clause], str], model: AbstentionModel | None = None
) -> ExtractiveAnswerer:
    """The extractive answerer over one index: words weigh by their IDF there."""
    return ExtractiveAnswerer(citation, model, weight=corpus.idf, known=corpus.uses,
                              issuer_of=lambda clause: corpus.store.documents[clause.doc_slug].issuer)


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
