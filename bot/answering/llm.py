"""The LLM answerer: an OpenAI-compatible chat model through LangChain, checked by bot.answering.verify.

The model sees the retrieved clauses numbered [1]..[k] and must cite them. Citations are then
built from the hits the text uses (never from what the model wrote about them), each quoting the
clause sentence closest to the answer sentences that cite it, and `bot.answering.verify.find_problems`
lists what the text says that its clauses do not. The caller decides what to show when there are
problems (the extractive answer, with prompts.FALLBACK_NOTE).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from bot.ingest.chunking import clause_label, sentences
from bot.logs import clip
from bot.errors import ConfigError, LLMUnavailable
from bot.records import Citation, Clause, Hit
from bot.answering.prompts import (
    CLAUSE,
    EDITOR_NOTE,
    HISTORY,
    INSTRUCTION_NOTE,
    HISTORY_TURN,
    LLM_HTTP_ERROR,
    LLM_UNREACHABLE,
    NO_BASIS,
    SYSTEM,
    USER,
)
from bot.settings import Settings
from bot.answering.verify import citation_refs, cited_sentences, find_problems, numbers, strip_citations

HISTORY_TURNS = 3  # earlier turns sent with a question, for resolving 它/这个/那


def make_chat_model(settings: Settings) -> BaseChatModel:
    """ChatOpenAI on `settings.llm_url` (imported here: langchain-openai is only needed for this)."""
    if not settings.llm_configured:
        raise ConfigError("未配置大模型服务：请设置 POLICYBOT_LLM_URL 和 POLICYBOT_LLM_MODEL")
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        raise ConfigError("使用大模型回答需要安装 langchain-openai：pip install 'langchain-openai>=1.0,<2'") from None
    return ChatOpenAI(
        base_url=settings.llm_url,
        model=settings.llm_model,
        api_key=settings.llm_api_key or "not-needed",
        temperature=0,
        timeout=settings.llm_timeout,
        max_retries=1,
        streaming=True,
    )


def render_clause(n: int, hit: Hit) -> str:
    clause = hit.clause
    text = CLAUSE.render(
        n=n,
        title=as_data(hit.doc_title),
        path=clause_label(clause),
        heading=as_data(f" {clause.heading}") if clause.heading else "",
        text=as_data(clause.text.strip()),
    )
    flagged = INSTRUCTION_NOTE.render() if clause.instructs else ""
    return text + as_data(_editor_note(hit)) + flagged


_FENCE = str.maketrans({"<": "‹", ">": "›"})


def as_data(text: str) -> str:
    """Text from the corpus or the user, unable to close the prompt's <<<条款…>>> fence or open one."""
    return re.sub(r"<{2,}|>{2,}", lambda m: m.group(0).translate(_FENCE), text)


def _editor_note(hit: Hit) -> str:
    a = hit.amendment
    return EDITOR_NOTE.render(note=f"{a.by_number}《{a.by_title}》（{a.by_date}）：{a.note}") if a else ""


def build_messages(question: str, hits: Sequence[Hit], history: Sequence[tuple[str, str]] = ()) -> list[BaseMessage]:
    """The system rules and one user message: earlier turns, the numbered clauses, the question."""
    turns = [
        HISTORY_TURN.render(question=as_data(q.strip()), answer=as_data(strip_citations(a).strip()))
        for q, a in list(history)[-HISTORY_TURNS:]
    ]
    user = USER.render(
        history=HISTORY.render(turns="\n".join(turns)) if turns else "",
        clauses="\n\n".join(render_clause(n, hit) for n, hit in enumerate(hits, 1)),
        question=as_data(question.strip()),
    )
    return [SystemMessage(SYSTEM.render()), HumanMessage(user)]


def best_quote(clause_text: str, answer_sentences: Sequence[str]) -> str:
    """The sentence of the clause sharing most figures, then most character pairs, with the
    answer sentences; an exact substring of `clause_text`."""
    candidates = sentences(clause_text) or [clause_text.strip()]
    target = strip_citations(" ".join(answer_sentences))
    target_numbers = {n.key for n in numbers(target)}
    target_pairs = _pairs(target)

    def score(s: str) -> tuple[int, int]:
        shared_numbers = len({n.key for n in numbers(s)} & target_numbers)
        return (10 * shared_numbers + len(_pairs(s) & target_pairs), len(set(s) & set(target)))

    return max(candidates, key=score)


def _pairs(text: str) -> set[str]:
    chars = re.sub(r"[^\w%]", "", text)
    return {chars[i : i + 2] for i in range(len(chars) - 1)}


_THINK_OPEN, _THINK_CLOSE = "<think>", "</think>"


def _without_reasoning(tokens: Iterable[str]) -> Iterator[str]:
    """Drop a leading <think>…</think> block (reasoning models) and leading blank space."""
    buffer, passing = "", False
    for token in tokens:
        if passing:
            yield token
            continue
        buffer += token
        head = buffer.lstrip()
        if head.startswith(_THINK_OPEN):
            if _THINK_CLOSE not in head:
                continue
            buffer = head.split(_THINK_CLOSE, 1)[1]
            head = buffer.lstrip()
            if not head:
                continue
        elif _THINK_OPEN.startswith(head):  # nothing yet, or what may become <think>
            continue
        passing = True
        yield head
    if not passing and buffer.strip() and not buffer.lstrip().startswith(_THINK_OPEN):
        yield buffer.lstrip()


class LLMAnswerer:
    """Answers from the given hits with a chat model; `answer` also returns citations and problems."""

    def __init__(self, chat_model: BaseChatModel, citation_of: Callable[[Clause], str], *, endpoint: str = "") -> None:
        self.chat_model = chat_model
        self.citation_of = citation_of
        self.endpoint = endpoint or str(getattr(chat_model, "openai_api_base", "") or "") or "（未知地址）"

    def stream(self, question: str, hits: Sequence[Hit], history: Sequence[tuple[str, str]] = ()) -> Iterator[str]:
        """The answer text as it arrives. Raises LLMUnavailable when the endpoint fails."""
        if not hits:
            yield NO_BASIS
            return
        yield from _without_reasoning(self._tokens(build_messages(question, hits, history)))

    def answer(
        self, question: str, hits: Sequence[Hit], history: Sequence[tuple[str, str]] = ()
    ) -> tuple[str, tuple[Citation, ...], list[str]]:
        """(text, citations of the [n] it uses, problems); problems == [] means it passed."""
        if not hits:
            return NO_BASIS, (), []
        with self._endpoint_errors():
            message = self.chat_model.invoke(build_messages(question, hits, history))
        text = "".join(_without_reasoning([message.text]))
        return (text, *self.check(text, hits))

    def check(self, text: str, hits: Sequence[Hit]) -> tuple[tuple[Citation, ...], list[str]]:
        """Citations and problems for a finished text (e.g. the join of `stream`)."""
        candidates = [self._citation(n, hit, "") for n, hit in enumerate(hits, 1)]
        clause_texts = {hit.clause.id: hit.clause.text + _editor_note(hit) for hit in hits}
        instructing = {hit.clause.id for hit in hits if hit.clause.instructs}
        problems = find_problems(text, candidates, clause_texts, instructing=instructing)
        sentences_citing: dict[int, list[str]] = {}
        for sentence, refs in cited_sentences(text):
            for n in refs:
                sentences_citing.setdefault(n, []).append(sentence)
        used = sorted(n for n in citation_refs(text) if 1 <= n <= len(hits))
        citations = tuple(
            self._citation(n, hits[n - 1], best_quote(hits[n - 1].clause.text, sentences_citing.get(n, [text])))
            for n in used
        )
        return citations, problems

    def _citation(self, n: int, hit: Hit, quote: str) -> Citation:
        clause = hit.clause
        return Citation(
            n=n,
            clause_id=clause.id,
            doc_title=hit.doc_title,
            path=clause.path,
            citation=self.citation_of(clause),
            quote=quote,
            responsible_units=clause.responsible_units,
        )

    def _tokens(self, messages: list[BaseMessage]) -> Iterator[str]:
        with self._endpoint_errors():
            for chunk in self.chat_model.stream(messages):
                if chunk.text:
                    yield chunk.text

    @contextmanager
    def _endpoint_errors(self) -> Iterator[None]:
        """Connection failures, timeouts and HTTP errors of the endpoint become LLMUnavailable."""
        try:
            yield
        except Exception as exc:
            message = _endpoint_message(exc, self.endpoint)
            if message is None:
                raise
            raise LLMUnavailable(message) from exc


def _endpoint_message(exc: Exception, url: str) -> str | None:
    try:
        import openai
    except ImportError:  # another LangChain chat model: nothing we know how to name
        return None
    if isinstance(exc, openai.APITimeoutError):
        return LLM_UNREACHABLE.render(url=url, reason="请求超时")
    if isinstance(exc, openai.APIConnectionError):
        detail = _one_line(_root_cause(exc))
        return LLM_UNREACHABLE.render(url=url, reason=f"连接失败（{detail}）" if detail else "连接失败")
    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        reason = str(body.get("message") or re.sub(r"^Error code: \d+ - ", "", exc.message))
        return LLM_HTTP_ERROR.render(url=url, status=exc.status_code, reason=_one_line(reason) or "无说明")
    return None


def _root_cause(exc: BaseException) -> str:
    """The innermost message (e.g. "[Errno 111] Connection refused" under "Connection error.")."""
    message, seen = "", set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        message = str(exc) or message
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return message


def _one_line(text: str, limit: int = 160) -> str:
    return clip(" ".join(str(text).split()), limit)
