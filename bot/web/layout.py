"""The Gradio layout: five tabs over one PolicyBot, plus the named API endpoints (/ask, /search, /match).

`build_app(bot)` is the factory bot/web/server.py and the tests call, `build_api` the endpoints alone
(served at /api/); nothing happens at import time beyond imports. This module only places components
and wires their events to the handlers of bot/web/app.py (WebApp).
"""

from __future__ import annotations


import gradio as gr

from bot.records import MAX_K
from bot.service import PolicyBot
from bot.web import format as ui
from bot.web.app import ALL_DOCS, WebApp
from bot.web.match_tab import MATCH_CSS, match_tab
from bot.web.page_script import PAGE_CSS
from bot.web.ui_events import RATINGS, rating_buttons, refused_chat, refused_search, unrated

EXAMPLES = [
    "科技成果转化项目最多能拿多少支持？",
    "研发费用加计扣除比例是多少？",
    "高新技术企业认定需要满足哪些条件？",
    "外籍专家63岁还能办工作许可吗？",
    "高新区人才用房政策由哪个部门负责？",
]
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
""" + MATCH_CSS + PAGE_CSS

COPY_JS = """(text) => {
  window.pbCopied = text;  // what was copied, for people and tests alike
  if (text && navigator.clipboard) { navigator.clipboard.writeText(text).catch(() => {}); }
  return text ? "已复制：" + text : "请先选择一个条款";
}"""


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
            chatbot = gr.Chatbot(label="对话", height=520, buttons=["copy"], elem_id="pb-chat",
                                 autoscroll=False)  # page_script shows a new answer from its start
            with gr.Row():
                question = gr.Textbox(placeholder="用自己的话提问，例如：科技成果转化项目最多能拿多少支持？",
                                      label="问题", show_label=False, scale=8, elem_id="pb-question")
                send = gr.Button("提问", variant="primary", scale=1, elem_id="pb-ask")
            chat_note = gr.HTML(elem_id="pb-chat-note")
            chat_io = ([question, chatbot, conversation], [question, chatbot, conversation, last_answer, chat_note])
            with gr.Row():
                gr.Markdown("**示例问题**（点击即问）：")
                for example in EXAMPLES:
                    gr.Button(example, size="sm", elem_classes=["pb-example"]).click(
                        lambda q=example: q, None, question, api_visibility="private", queue=False
                    ).then(refused_chat(app), *chat_io, api_visibility="private")
            with gr.Row():
                up, down = (gr.Button(RATINGS[r], size="sm", elem_id=f"pb-{r}") for r in ("up", "down"))
                comment = gr.Textbox(placeholder="意见（可选）：哪里不对、缺了什么", label="意见", show_label=False, scale=4,
                                     elem_id="pb-comment")
                clear = gr.Button("新对话", size="sm")
            feedback_note = gr.Markdown(elem_id="pb-feedback-note")
            for trigger in (question.submit, send.click):
                trigger(refused_chat(app), *chat_io, api_visibility="private")
            for button, rating in ((up, "up"), (down, "down")):
                button.click(rating_buttons(app, rating), [comment, last_answer], [comment, feedback_note, up, down],
                             api_visibility="private")
            last_answer.change(unrated, None, [up, down], api_visibility="private", queue=False)
            clear.click(lambda: ([], None, "", None, ""), None, [chatbot, conversation, question, last_answer, feedback_note],
                        api_visibility="private")

        with gr.Tab("条款检索"):
            with gr.Row():
                query = gr.Textbox(label="关键词或条款号", placeholder="如：研发费用加计扣除、（八）、第十二条", scale=5,
                                   elem_id="pb-query")
                doc = gr.Dropdown(label="文件", choices=[(ALL_DOCS, "")], value="", scale=3)
                section = gr.Textbox(label="章节（可选）", placeholder="如：四、 或 第四章", scale=1)
                k = gr.Number(label="条数", value=5, minimum=1, maximum=MAX_K, precision=0, scale=1)
            go = gr.Button("检索", variant="primary", elem_id="pb-search")
            with gr.Row():
                with gr.Column(scale=3):
                    results = gr.HTML(label="检索结果", elem_id="pb-results")
                with gr.Column(scale=2, elem_id="pb-clause-panel"):
                    pick = gr.Dropdown(label="查看条款全文", choices=[])
                    view = gr.HTML(elem_id="pb-clause-view")
                    cite_line = gr.Textbox(label="引用", interactive=False, elem_id="pb-cite-line")
                    copy = gr.Button("复制引用", size="sm", elem_id="pb-copy")
                    copy_note = gr.Markdown(elem_id="pb-copy-note")
            for trigger in (query.submit, go.click):
                trigger(refused_search(app), [query, doc, section, k], [results, pick, view, cite_line],
                        api_visibility="private")
            pick.change(app.clause_ui, pick, [view, cite_line], api_visibility="private")
            copy.click(None, cite_line, copy_note, js=COPY_JS, api_visibility="private")
            demo.load(app.documents, None, doc, api_visibility="private")

        with gr.Tab("政策匹配"):
            match_tab(app)

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
