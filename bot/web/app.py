"""The web app's handlers (WebApp): what each tab's events and the /ask, /search, /match endpoints do.

The layout that wires them to components is bot/web/layout.py; formatting lives in bot/web/format.py.
The handlers include streaming a verified LLM answer and storing feedback. Errors meant for the user
(PolicyBotError) become a visible warning in the UI and a gr.Error in the API; a message never shows
a filesystem path.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Iterator

import gradio as gr

from bot.answering.pipeline import Conversation, check_query, llm_result, llm_unavailable
from bot.errors import LLMUnavailable, PolicyBotError
from bot.records import MAX_K
from bot.service import PolicyBot
from bot.web import format as ui
from bot.web.feedback import FeedbackStore
from bot.web.guard import RequestGuard, guarded, shown, text_argument, whole_number
from bot.web.toasts import warn

ALL_DOCS = "全部文件"
STREAM_PAUSE = 0.04  # seconds between the lines of a streamed extractive answer


class WebApp:
    """The UI's handlers over one PolicyBot; each returns plain values for Gradio components."""

    def __init__(self, bot: PolicyBot) -> None:
        self.bot = bot
        self.guard = RequestGuard.from_settings(bot.settings)  # rate limit + request log
        self.feedback_store = FeedbackStore.in_dir(bot.settings.data_dir)

    # ---- API (named endpoints) ----

    @guarded("ask", text=True, api=True)
    def api_ask(self, question: str) -> dict:
        """Answer one question: {answer, abstained, citations: [{clause_id, clause_path, quote, …}]}."""
        return ui.answer_dict(self.bot.ask(question))

    @guarded("search", text=True, api=True)
    def api_search(self, query: str, k: int = 5) -> dict:
        """The k best clauses for a query: {query, hits: [{clause_id, clause_path, text, citation, …}]}."""
        query = check_query(query)  # as searched: no control character is echoed
        hits = self._search(query, whole_number("k", k, 1, MAX_K))
        return {"query": query, "hits": [ui.hit_dict(h, self.bot.citation(h.clause)) for h in hits]}

    @guarded("match", api=True)
    def api_match(self, profile_json: str) -> dict:
        """Match an enterprise profile (a JSON object string) against the rules: {verdicts: [...]}."""
        verdicts = self._match(_load_json(text_argument("profile_json", profile_json)))
        return {"summary": ui.match_summary(verdicts),
                "verdicts": [ui.verdict_dict(v, self.bot.cite) for v in ui.sort_verdicts(verdicts)]}

    # ---- shared ----

    def _search(self, query: str, k: int, doc_slug: str = "", section: str = "") -> list:
        query = check_query(query)
        if not query:
            raise PolicyBotError("请输入要检索的关键词或条款号，例如：研发费用加计扣除、（八）、第九十五条")
        if not 1 <= k <= MAX_K:
            raise PolicyBotError(f"结果条数应在 1 到 {MAX_K} 之间，收到 {k}")
        if not doc_slug and not ui.section_key(section):
            return self.bot.search(query, k)
        among = {cid for cid, clause in self.bot.index.store.clauses.items()
                 if (not doc_slug or clause.doc_slug == doc_slug) and ui.in_section(clause, section)}
        return self.bot.search(query, k, among=among)

    def _match(self, data: Any) -> list:
        from bot.matching.profile import parse_profile

        return self.bot.match(parse_profile(data))

    # ---- 政策问答 ----

    @guarded("chat", text=True)
    def chat(self, message: str, history: list | None, conversation: Conversation | None) -> Iterator[tuple]:
        """Stream the reply: line by line for an extractive answer, token by token from a configured
        LLM; the last update carries the finished answer (for feedback)."""
        history = list(history or [])
        conversation = conversation if conversation is not None else Conversation()
        try:
            answer = self.bot.ask(message, conversation)
        except PolicyBotError as exc:
            warn(ui.esc(shown(exc)))
            yield message, history, conversation, gr.skip()
            return
        past = [*history, {"role": "user", "content": ui.typed_text(check_query(message))}]  # as typed (never markup), no control characters
        clauses = self.bot.index.store.clauses
        if self._streams_llm(answer, conversation):
            answer = yield from self._stream_llm(answer, conversation, past)
            final = ui.answer_markdown(answer, clauses)
        else:
            *steps, final = ui.answer_stream(answer, clauses)  # its last step is the whole answer
            for step in steps:
                yield "", _with_reply(past, step), conversation, gr.skip()
                time.sleep(STREAM_PAUSE)
        # The answer's own id: feedback on it is one record, whose rating a second click changes.
        yield "", _with_reply(past, final), conversation, {**ui.answer_dict(answer), "answer_id": uuid.uuid4().hex}

    def _streams_llm(self, answer, conversation: Conversation) -> bool:
        return (self.bot.settings.llm_configured and conversation.guided is None
                and not answer.abstained and bool(answer.citations))

    def _stream_llm(self, extractive, conversation: Conversation, past: list):
        """Show the model's tokens as they come, then verify them (extractive answer on failure)."""
        llm = self.bot.llm()
        text = ""
        try:
            for token in llm.stream(extractive.question, extractive.hits, conversation.history[:-1]):
                text += token
                yield "", _with_reply(past, ui.streaming_markdown(text)), conversation, gr.skip()
            answer = llm_result(extractive, text, *llm.check(text, extractive.hits))
        except LLMUnavailable as exc:
            answer = llm_unavailable(extractive, exc)
        conversation.turns[-1].answer = answer
        return answer

    @guarded("feedback")
    def feedback(self, rating: str, comment: str, last: dict | None):
        """Store 👍/👎 (and the comment) for the latest answer, one record per answer; returns
        (comment box, status line)."""
        if not last:
            warn("请先提问，再对回答进行评价")
            return gr.skip(), gr.skip()
        try:
            record = self.feedback_store.add(last["question"], last["answer"], last["citations"], rating,
                                             text_argument("comment", comment), answer_id=last.get("answer_id"))
        except PolicyBotError as exc:
            warn(ui.esc(shown(exc)))
            return gr.skip(), gr.skip()
        label = "👍 有帮助" if rating == "up" else "👎 没帮助"
        return "", f"已记录反馈 #{record}（{label}），谢谢！"

    # ---- 条款检索 ----

    @guarded("search-ui", text=True)
    def search_ui(self, query: str, doc_slug: str | None, section: str | None, k: float):
        try:
            hits = self._search(query, whole_number("条数", k or 5, 1, MAX_K), doc_slug or "", section or "")
        except PolicyBotError as exc:
            warn(ui.esc(shown(exc)))
            return f"<div class='pb-error'>{ui.esc(shown(exc))}</div>", gr.update(choices=[], value=None), "", ""
        lines = [self.bot.citation(h.clause) for h in hits]
        html = ui.hits_markdown(hits, ui.query_terms(query), lines, query)
        choices = [ui.hit_choice(n, h) for n, h in enumerate(hits, 1)]
        first = hits[0].clause.id if hits else None
        view, line = self.clause_ui(first) if first else ("", "")
        return html, gr.update(choices=choices, value=first), view, line

    def clause_ui(self, clause_id: str | None):
        if not clause_id:
            return "", ""
        try:
            view = self.bot.view(clause_id)
        except PolicyBotError as exc:
            warn(ui.esc(shown(exc)))
            return f"<div class='pb-error'>{ui.esc(shown(exc))}</div>", ""
        return ui.clause_markdown(view), view.citation

    def documents(self):
        try:
            docs = self.bot.index.store.documents
        except PolicyBotError as exc:
            warn(ui.esc(shown(exc)))
            docs = {}
        choices = [(ALL_DOCS, "")] + [(meta.title or slug, slug) for slug, meta in sorted(docs.items())]
        return gr.update(choices=choices, value="")


def _with_reply(past: list, content: str) -> list:
    """A new history list (each update its own, so none is changed after it was sent)."""
    return [*past, {"role": "assistant", "content": content}]


def _load_json(text: str) -> dict:
    from bot.matching.profile import profile_data

    return profile_data(text or "")
