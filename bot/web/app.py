"""The Gradio app: five tabs over one PolicyBot, plus named API endpoints (/ask, /search, /match).

`build_app(bot)` is the factory bot/web/server.py and the tests call, `build_api` the endpoints alone
(served at /api/); nothing happens at import time beyond imports. Formatting lives in bot/web/format.py;
this module holds the layout, the event wiring and the handlers (including streaming a verified
LLM answer and storing feedback). Errors meant for the user (PolicyBotError) become a visible
warning in the UI and a gr.Error in the API; a message never shows a filesystem path.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Callable, Iterator

import gradio as gr

from bot.web import format as ui
from bot.errors import LLMUnavailable, PolicyBotError, ProfileError
from bot.web.feedback import FeedbackStore
from bot.answering.pipeline import Conversation, check_query, llm_result, llm_unavailable
from bot.service import PolicyBot
from bot.text.facts import fact
from bot.web.guard import Guard, guarded, shown, text_argument, whole_number

EXAMPLES = [
    "科技成果转化项目最多能拿多少支持？",
    "研发费用加计扣除比例是多少？",
    "高新技术企业认定需要满足哪些条件？",
    "外籍专家63岁还能办工作许可吗？",
    "高新区人才用房政策由哪个部门负责？",
]
ALL_DOCS = "全部文件"
YES_NO = ["未知", "是", "否"]
MAX_K = 50  # the most clauses one search returns
STREAM_PAUSE = 0.04  # seconds between the lines of a streamed extractive answer
CSS = f"""
.{ui.NO_BASIS_CLASS} {{ border-left: 4px solid #d97706; background: #fffbeb; padding: .3em .6em; color: #92400e; }}
.{ui.CITED_CLASS} {{ border-left: 4px solid #059669; padding-left: .6em; }}
.pb-label {{ display: inline-block; font-size: .8em; font-weight: bold; padding: 0 .5em; border-radius: .6em; margin-bottom: .2em; }}
.pb-label-cited {{ background: #d1fae5; color: #065f46; }}
.pb-label-no-basis {{ background: #fde68a; color: #92400e; }}
.pb-footnote summary {{ cursor: pointer; }}
.pb-clause {{ white-space: normal; font-size: .95em; }}
.pb-amended, .pb-editor-note {{ color: #b45309; }}
mark {{ background: #fde68a; padding: 0 1px; }}
"""
# The matching form's profile fields in display order; labels from bot/text/facts.yaml (form_label).
NUMBER_FIELDS = ["revenue_wan", "rd_expense_wan", "rd_intensity", "employees", "st_staff", "registered_years",
                 "taxable_income_wan", "total_assets_wan"]
FLAG_FIELDS = ["is_hightech", "is_st_sme", "owns_core_ip", "has_major_achievement_project", "needs_talent_housing"]


COPY_JS = """(text) => {
  window.pbCopied = text;  // what was copied, for people and tests alike
  if (text && navigator.clipboard) { navigator.clipboard.writeText(text).catch(() => {}); }
  return text ? "已复制：" + text : "请先选择一个条款";
}"""


class WebApp:
    """The UI's handlers over one PolicyBot; each returns plain values for Gradio components."""

    def __init__(self, bot: PolicyBot) -> None:
        self.bot = bot
        self.guard = Guard.from_settings(bot.settings)  # rate limit + request log
        self.feedback_store = FeedbackStore.in_dir(bot.settings.data_dir)

    # ---- API (named endpoints) ----

    @guarded("ask", text=True, api=True)
    def api_ask(self, question: str) -> dict:
        """Answer one question: {answer, abstained, citations: [{clause_id, path, quote, …}]}."""
        return ui.answer_dict(self.bot.ask(question))

    @guarded("search", text=True, api=True)
    def api_search(self, query: str, k: int = 5) -> dict:
        """The k best clauses for a query: {query, hits: [{clause_id, path, text, citation, …}]}."""
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
            gr.Warning(ui.esc(shown(exc)))
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
            gr.Warning("请先提问，再对回答进行评价")
            return gr.skip(), gr.skip()
        try:
            record = self.feedback_store.add(last["question"], last["answer"], last["citations"], rating,
                                             text_argument("comment", comment), answer_id=last.get("answer_id"))
        except PolicyBotError as exc:
            gr.Warning(ui.esc(shown(exc)))
            return gr.skip(), gr.skip()
        label = "👍 有帮助" if rating == "up" else "👎 没帮助"
        return "", f"已记录反馈 #{record}（{label}），谢谢！"

    # ---- 条款检索 ----

    @guarded("search-ui", text=True)
    def search_ui(self, query: str, doc_slug: str | None, section: str | None, k: float):
        try:
            hits = self._search(query, whole_number("条数", k or 5, 1, MAX_K), doc_slug or "", section or "")
        except PolicyBotError as exc:
            gr.Warning(ui.esc(shown(exc)))
            return f"<div class='pb-error'>{ui.esc(shown(exc))}</div>", gr.update(choices=[], value=None), "", ""
        lines = [self.bot.citation(h.clause) for h in hits]
        html = ui.hits_markdown(hits, ui.query_terms(query), lines)
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
            gr.Warning(ui.esc(shown(exc)))
            return f"<div class='pb-error'>{ui.esc(shown(exc))}</div>", ""
        return ui.clause_markdown(view), view.citation

    def documents(self):
        try:
            docs = self.bot.index.store.documents
        except PolicyBotError as exc:
            gr.Warning(ui.esc(shown(exc)))
            docs = {}
        choices = [(ALL_DOCS, "")] + [(meta.title or slug, slug) for slug, meta in sorted(docs.items())]
        return gr.update(choices=choices, value="")

    # ---- 政策匹配 ----

    @guarded("match-ui")
    def match_ui(self, zone_name, zone_level, listing_status, extra_json, *values):
        """(summary, table rows, the clause ids of each row for the clause panel)."""
        names = NUMBER_FIELDS + FLAG_FIELDS
        form = {"zone_name": zone_name, "zone_level": zone_level, "listing_status": listing_status,
                **dict(zip(names, values))}
        try:
            data = ui.profile_from_form(form)
            if (extra_json or "").strip():
                extra = _load_json(extra_json)
                data.update(extra)
            verdicts = self._match(data)
        except PolicyBotError as exc:
            gr.Warning(ui.esc(shown(exc)))
            return f"<div class='pb-error'>⚠ {ui.esc(shown(exc))}</div>", [], []
        ids = [list(v.citations) for v in ui.sort_verdicts(verdicts)]
        return ui.match_summary(verdicts), ui.verdict_rows(verdicts, self.bot.cite), ids

    def verdict_clauses(self, ids_per_row: list | None, evt: gr.SelectData) -> str:
        """The clauses a clicked table row rests on, whole."""
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        if not ids_per_row or not 0 <= row < len(ids_per_row):
            return ""
        views = []
        for clause_id in ids_per_row[row]:
            try:
                views.append(ui.clause_markdown(self.bot.view(clause_id)))
            except PolicyBotError as exc:
                views.append(f"<div class='pb-error'>{ui.esc(shown(exc))}</div>")
        return "<hr>".join(views)


def _with_reply(past: list, content: str) -> list:
    """A new history list (each update its own, so none is changed after it was sent)."""
    return [*past, {"role": "assistant", "content": content}]


def _rating(app: WebApp, rating: str) -> Callable:
    """The click handler of one rating button; Gradio hands it the request the rate limit counts."""

    def rate(request: gr.Request, comment: str, last: dict | None):
        return app.feedback(request, rating, comment, last)

    return rate


def _load_json(text: str) -> dict:
    from bot.matching.profile import MAX_PROFILE_BYTES

    if len(text or "") > MAX_PROFILE_BYTES:  # refused before parsing: a huge value is never echoed or logged
        raise ProfileError(f"企业画像过大（{len(text) // 1024} KB，上限 {MAX_PROFILE_BYTES // 1024} KB）")
    try:
        data = json.loads(text or "")
    except json.JSONDecodeError as exc:
        raise ProfileError(f"企业画像 JSON 格式错误：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"企业画像应为 JSON 对象（如 {{\"revenue_wan\": 5000}}），收到 {type(data).__name__}")
    return data


def _number_box(name: str) -> gr.Textbox:
    """A text box rather than gr.Number: blank stays unknown (a Number shows and sends 0), and
    amounts may be written as people say them (3亿元, 5000万)."""
    return gr.Textbox(label=fact(name).form_label, placeholder="未填", elem_id=f"pb-{name}")


def _choices(name: str) -> list[tuple[str, str]]:
    """A dropdown of a fact's values as they read (国家级高新区 -> national), blank first."""
    return [("（未填）", ""), *((label, value) for value, label in fact(name).choices.items())]


def build_app(bot: PolicyBot, app: WebApp | None = None) -> gr.Blocks:
    """The web app over `bot`: 政策问答, 条款检索, 政策匹配, 文档管理, 评测, and the /ask, /search, /match endpoints.

    Serve it with `css=CSS` (Gradio 6 takes styling at launch or mount). `app` shares its handlers
    (rate limit, feedback store) with build_api.
    """
    from bot.web.admin import admin_tab
    from bot.web.evaluation import build_eval_tab

    app = app or WebApp(bot)
    # No telemetry or version check: the app makes no network calls beyond its own port.
    with gr.Blocks(title="PolicyBot 高新区政策助手", analytics_enabled=False) as demo:
        gr.Markdown("## PolicyBot 贵州高新区政策助手\n每个回答都引用并标注所依据的政策条款。")
        with gr.Tab("政策问答"):
            conversation = gr.State(None)
            last_answer = gr.State(None)
            chatbot = gr.Chatbot(label="对话", height=520, buttons=["copy"], elem_id="pb-chat")
            with gr.Row():
                question = gr.Textbox(placeholder="用自己的话提问，例如：科技成果转化项目最多能拿多少支持？",
                                      show_label=False, scale=8, elem_id="pb-question")
                send = gr.Button("提问", variant="primary", scale=1, elem_id="pb-ask")
            chat_io = ([question, chatbot, conversation], [question, chatbot, conversation, last_answer])
            with gr.Row():
                gr.Markdown("**示例问题**（点击即问）：")
                for example in EXAMPLES:
                    gr.Button(example, size="sm", elem_classes=["pb-example"]).click(
                        lambda q=example: q, None, question, api_visibility="private", queue=False
                    ).then(app.chat, *chat_io, api_visibility="private")
            with gr.Row():
                up = gr.Button("👍 有帮助", size="sm", elem_id="pb-up")
                down = gr.Button("👎 没帮助", size="sm", elem_id="pb-down")
                comment = gr.Textbox(placeholder="意见（可选）：哪里不对、缺了什么", show_label=False, scale=4,
                                     elem_id="pb-comment")
                clear = gr.Button("新对话", size="sm")
            feedback_note = gr.Markdown(elem_id="pb-feedback-note")
            for trigger in (question.submit, send.click):
                trigger(app.chat, *chat_io, api_visibility="private")
            for button, rating in ((up, "up"), (down, "down")):
                button.click(_rating(app, rating), [comment, last_answer], [comment, feedback_note],
                             api_visibility="private")
            clear.click(lambda: ([], None, "", None, ""), None, [chatbot, conversation, question, last_answer, feedback_note],
                        api_visibility="private")

        with gr.Tab("条款检索"):
            with gr.Row():
                query = gr.Textbox(label="关键词或条款号", placeholder="如：研发费用加计扣除、（八）、第十二条", scale=5,
                                   elem_id="pb-query")
                doc = gr.Dropdown(label="文件", choices=[(ALL_DOCS, "")], value="", scale=3)
                section = gr.Textbox(label="章节（可选）", placeholder="如：四、 或 第四章", scale=1)
                k = gr.Number(label="条数", value=5, minimum=1, maximum=50, precision=0, scale=1)
            go = gr.Button("检索", variant="primary", elem_id="pb-search")
            with gr.Row():
                with gr.Column(scale=3):
                    results = gr.HTML(label="检索结果", elem_id="pb-results")
                with gr.Column(scale=2):
                    pick = gr.Dropdown(label="查看条款全文", choices=[])
                    view = gr.HTML(elem_id="pb-clause-view")
                    cite_line = gr.Textbox(label="引用", interactive=False, elem_id="pb-cite-line")
                    copy = gr.Button("复制引用", size="sm", elem_id="pb-copy")
                    copy_note = gr.Markdown(elem_id="pb-copy-note")
            for trigger in (query.submit, go.click):
                trigger(app.search_ui, [query, doc, section, k], [results, pick, view, cite_line],
                        api_visibility="private")
            pick.change(app.clause_ui, pick, [view, cite_line], api_visibility="private")
            copy.click(None, cite_line, copy_note, js=COPY_JS, api_visibility="private")
            demo.load(app.documents, None, doc, api_visibility="private")

        with gr.Tab("政策匹配"):
            gr.Markdown("填写已知情况（不知道的留空），查看可申请的政策及每项条件是否满足。")
            with gr.Row():
                zone_name = gr.Textbox(label="所在高新区", placeholder="如：贵阳国家高新区", elem_id="pb-zone")
                zone_level = gr.Dropdown(label=fact("zone_level").label, choices=_choices("zone_level"), value="")
                listing = gr.Dropdown(label=fact("listing_status").label, choices=_choices("listing_status"), value="")
            with gr.Row():
                numbers = [_number_box(name) for name in NUMBER_FIELDS[:4]]
            with gr.Row():
                numbers += [_number_box(name) for name in NUMBER_FIELDS[4:]]
            with gr.Row():
                flags = [gr.Radio(YES_NO, label=fact(name).form_label, value="未知", elem_id=f"pb-{name}")
                         for name in FLAG_FIELDS]
            extra = gr.Textbox(label="其他字段（JSON，可选）", lines=2,
                               placeholder='{"hightech_income_share": 70, "province": "贵州"}')
            run = gr.Button("匹配政策", variant="primary", elem_id="pb-match")
            summary = gr.Markdown(elem_id="pb-match-summary")
            row_clauses = gr.State([])
            table = gr.Dataframe(headers=ui.VERDICT_HEADERS, datatype="str", wrap=True, interactive=False,
                                 column_widths=["18%", "11%", "36%", "20%", "15%"], max_height=700,
                                 label="匹配结果（点击一行查看所依据的条款全文）", elem_id="pb-verdicts")
            verdict_clause = gr.HTML(elem_id="pb-verdict-clause")
            run.click(app.match_ui, [zone_name, zone_level, listing, extra, *numbers, *flags],
                      [summary, table, row_clauses], api_visibility="private")
            table.select(app.verdict_clauses, row_clauses, verdict_clause, api_visibility="private")

        with gr.Tab("文档管理"):
            admin_tab(bot)

        build_eval_tab(bot, bot.settings)  # its own 评测 tab

        _endpoints(app)
    # A waiting page sees its place in the queue updated every second, rather than each time any event
    # starts ("auto": O(waiting) messages per event under load; see build_api).
    demo.queue(default_concurrency_limit=bot.settings.web_concurrency, status_update_rate=1)
    return demo


def build_api(app: WebApp) -> gr.Blocks:
    """The /ask, /search and /match endpoints alone, which serve() mounts at /api/ beside the UI.

    Gradio sets up a session's state for every component of a Blocks on the session's first call:
    about 10 ms for the UI's 104, serialised with all other calls. A program calling at volume (20
    users at once, each a new session) pays only for its answers here."""
    with gr.Blocks(title="PolicyBot 接口", analytics_enabled=False) as api:
        gr.Markdown("PolicyBot 程序接口：/ask、/search、/match，用 gradio_client 调用（见下方“通过 API 使用”）。")
        _endpoints(app)
    # No queue-position broadcasts: with "auto", every event that starts sends each waiting caller
    # its new rank, O(waiting) messages per call under load, which programs never show. One is still
    # sent on joining, and then every 10 s to those still waiting.
    api.queue(default_concurrency_limit=app.bot.settings.web_concurrency, status_update_rate=10)
    return api


def _endpoints(app: WebApp) -> None:
    """The named endpoints, in the Blocks being built (the UI's and the API-only one): one set of
    handlers, so both share the rate limit and request log."""
    gr.api(app.api_ask, api_name="ask")
    gr.api(app.api_search, api_name="search")
    gr.api(app.api_match, api_name="match")
