"""Handlers of the 政策问答 and 条款检索 tabs that wrap WebApp's for how the page shows their outcome:
the rating buttons' selected look, and a request refused by the rate limit said once in a line of
the tab (a search's old results replaced by it, so they are not taken for the new query's)."""

from __future__ import annotations

from typing import Callable

import gradio as gr

from bot.errors import RateLimited
from bot.web import format as ui
from bot.web.app import WebApp

RATINGS = {"up": "👍 有帮助", "down": "👎 没帮助"}
CHOSEN = "（已选）"


def unrated() -> tuple:
    """Both rating buttons as they are before a rating (a new answer resets them)."""
    return tuple(gr.update(value=RATINGS[r], variant="secondary", elem_classes=[]) for r in RATINGS)


def rating_buttons(app: WebApp, rating: str) -> Callable:
    """The click handler of one rating button: stores the rating (one record per answer: the last
    choice) and marks the chosen button, unmarking the other. Gradio hands it the request the rate
    limit counts."""

    def rate(request: gr.Request, comment: str, last: dict | None):
        comment_box, note = app.feedback(request, rating, comment, last)
        if not isinstance(note, str):  # not stored: the buttons keep their look
            return comment_box, note, gr.skip(), gr.skip()
        return comment_box, note, *(
            gr.update(value=RATINGS[r] + (CHOSEN if r == rating else ""),
                      variant="primary" if r == rating else "secondary",
                      elem_classes=["pb-rated"] if r == rating else [])
            for r in RATINGS)

    return rate


def _limited(exc: gr.Error) -> bool:
    return isinstance(exc.__context__, RateLimited)  # the guard raises its gr.Error from the RateLimited


def _limit_line(exc: gr.Error) -> str:
    return f"<div class='pb-error pb-limited'>⚠ {ui.esc(exc.message)}</div>"


def refused_chat(app: WebApp) -> Callable:
    """app.chat with a fifth output, the line under the chat: a request refused as too frequent is
    said there once (no toast, no error cover over the conversation), the question kept to resend;
    an admitted one clears it."""

    def chat(request: gr.Request, message: str, history: list | None, conversation):
        try:
            note = ""
            for update in app.chat(request, message, history, conversation):
                yield (*update, note)
                note = gr.skip()
        except gr.Error as exc:
            if not _limited(exc):
                raise
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), _limit_line(exc)

    return chat


def refused_search(app: WebApp) -> Callable:
    """app.search_ui, except that a request refused as too frequent replaces the results with that
    one line (no toast, which would stack over a clerk's quick lookups) and empties the clause panel."""

    # Named search_ui, not search: Gradio names an event's endpoint after its function even when private,
    # and a second "search" would push the program endpoint /search to /search_1.
    def search_ui(request: gr.Request, query: str, doc_slug: str | None, section: str | None, k: float):
        try:
            return app.search_ui(request, query, doc_slug, section, k)
        except gr.Error as exc:
            if not _limited(exc):
                raise
            return _limit_line(exc), gr.update(choices=[], value=None), "", ""

    return search_ui
