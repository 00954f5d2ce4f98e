"""The Gradio app: three tabs over one PolicyBot, plus named API endpoints (/ask, /search, /match).

`build_app(bot)` is the factory app.py and the tests call; nothing happens at import time beyond
imports. Formatting lives in bot/ui.py; this module is layout and event wiring only. Errors meant
for the user (PolicyBotError) become a visible warning in the UI and a gr.Error in the API.
"""

from __future__ import annotations

import json
from typing import Any

import gradio as gr

from . import ui
from .errors import PolicyBotError, ProfileError
from .pipeline import Conversation
from .service import PolicyBot
from .webguard import Guard, configure_logging, guarded

EXAMPLES = [
    "科技成果转化项目最多能拿多少支持？",
    "研发费用加计扣除比例是多少？",
    "高新技术企业认定需要满足哪些条件？",
    "外籍专家63岁还能办工作许可吗？",
    "高新区人才用房政策由哪个部门负责？",
]
ALL_DOCS = "全部文件"
ZONE_LEVELS = [("（未填）", ""), ("国家级高新区", "national"), ("省级高新区", "provincial"), ("不在高新区", "none")]
YES_NO = ["未知", "是", "否"]
LISTING = [("（未填）", ""), ("未上市", "unlisted"), ("筹备上市", "preparing"), ("已上市", "listed")]
CSS = f"""
.{ui.NO_BASIS_CLASS} {{ border-left: 4px solid #d97706; padding-left: .6em; color: #92400e; }}
.pb-footnote summary {{ cursor: pointer; }}
.pb-clause {{ white-space: normal; font-size: .95em; }}
.pb-amended, .pb-editor-note {{ color: #b45309; }}
mark {{ background: #fde68a; padding: 0 1px; }}
"""
# The matching form: (profile field, component factory), in display order.
NUMBER_FIELDS = [
    ("revenue_wan", "上一年度营业收入（万元）"),
    ("rd_expense_wan", "上一年度研发费用（万元）"),
    ("rd_intensity", "研发投入强度（%，6 表示 6%）"),
    ("employees", "职工总数（人）"),
    ("st_staff", "科技人员数（人）"),
    ("registered_years", "注册成立年限（年）"),
    ("taxable_income_wan", "应纳税所得额（万元）"),
    ("total_assets_wan", "资产总额（万元）"),
]
FLAG_FIELDS = [
    ("is_hightech", "高新技术企业"),
    ("is_st_sme", "科技型中小企业"),
    ("owns_core_ip", "拥有核心知识产权"),
    ("has_major_achievement_project", "有拟转化落地的重大科技成果项目"),
    ("needs_talent_housing", "有人才用房需求"),
]


class WebApp:
    """The UI's handlers over one PolicyBot; each returns plain values for Gradio components."""

    def __init__(self, bot: PolicyBot) -> None:
        self.bot = bot
        self.guard = Guard.from_settings(bot.settings)  # rate limit + request log

    # ---- API (named endpoints) ----

    @guarded("ask", text=True)
    def api_ask(self, question: str) -> dict:
        """Answer one question: {answer, abstained, citations: [{clause_id, path, quote, …}]}."""
        try:
            return ui.answer_dict(self.bot.ask(question))
        except PolicyBotError as exc:
            raise gr.Error(str(exc)) from None

    @guarded("search", text=True)
    def api_search(self, query: str, k: int = 5) -> dict:
        """The k best clauses for a query: {query, hits: [{clause_id, path, text, citation, …}]}."""
        try:
            hits = self._search(query, int(k))
        except PolicyBotError as exc:
            raise gr.Error(str(exc)) from None
        return {"query": query, "hits": [ui.hit_dict(h, self.bot.citation(h.clause)) for h in hits]}

    @guarded("match")
    def api_match(self, profile_json: str) -> dict:
        """Match an enterprise profile (a JSON object string) against the rules: {verdicts: [...]}."""
        try:
            verdicts = self._match(_load_json(profile_json))
        except PolicyBotError as exc:
            raise gr.Error(str(exc)) from None
        return {"summary": ui.match_summary(verdicts),
                "verdicts": [ui.verdict_dict(v, self.bot.cite) for v in ui.sort_verdicts(verdicts)]}

    # ---- shared ----

    def _search(self, query: str, k: int, doc_slug: str = "") -> list:
        query = (query or "").strip()
        if not query:
            raise PolicyBotError("请输入要检索的关键词或条款号，例如：研发费用加计扣除、（八）、第九十五条")
        if not 1 <= k <= 50:
            raise PolicyBotError(f"结果条数应在 1 到 50 之间，收到 {k}")
        if not doc_slug:
            return self.bot.search(query, k)
        hits = [h for h in self.bot.search(query, k * 5) if h.clause.doc_slug == doc_slug]
        return hits[:k]

    def _match(self, data: Any) -> list:
        from .profile import parse_profile

        return self.bot.match(parse_profile(data))

    # ---- UI handlers ----

    @guarded("chat", text=True)
    def chat(self, message: str, history: list | None, conversation: Conversation | None):
        history = list(history or [])
        conversation = conversation if conversation is not None else Conversation()
        try:
            answer = self.bot.ask(message, conversation)
        except PolicyBotError as exc:
            gr.Warning(str(exc))
            return message, history, conversation
        reply = ui.answer_markdown(answer, self.bot.index.store.clauses)
        history += [{"role": "user", "content": message}, {"role": "assistant", "content": reply}]
        return "", history, conversation

    @guarded("search-ui", text=True)
    def search_ui(self, query: str, doc_slug: str | None, k: float):
        try:
            hits = self._search(query, int(k or 5), doc_slug or "")
        except PolicyBotError as exc:
            gr.Warning(str(exc))
            return f"<div class='pb-error'>{ui.esc(str(exc))}</div>", gr.update(choices=[], value=None), "", ""
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
            gr.Warning(str(exc))
            return f"<div class='pb-error'>{ui.esc(str(exc))}</div>", ""
        return ui.clause_markdown(view), view.citation

    def documents(self):
        try:
            docs = self.bot.index.store.documents
        except PolicyBotError as exc:
            gr.Warning(str(exc))
            docs = {}
        choices = [(ALL_DOCS, "")] + [(meta.title or slug, slug) for slug, meta in sorted(docs.items())]
        return gr.update(choices=choices, value="")

    @guarded("match-ui")
    def match_ui(self, zone_name, zone_level, listing_status, extra_json, *values):
        names = [n for n, _ in NUMBER_FIELDS] + [n for n, _ in FLAG_FIELDS]
        form = {"zone_name": zone_name, "zone_level": zone_level, "listing_status": listing_status,
                **dict(zip(names, values))}
        try:
            data = ui.profile_from_form(form)
            if (extra_json or "").strip():
                extra = _load_json(extra_json)
                data.update(extra)
            verdicts = self._match(data)
        except PolicyBotError as exc:
            gr.Warning(str(exc))
            return f"<div class='pb-error'>⚠ {ui.esc(str(exc))}</div>", []
        return ui.match_summary(verdicts), ui.verdict_rows(verdicts, self.bot.cite)


def _load_json(text: str) -> dict:
    try:
        data = json.loads(text or "")
    except json.JSONDecodeError as exc:
        raise ProfileError(f"企业画像 JSON 格式错误：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"企业画像应为 JSON 对象（如 {{\"revenue_wan\": 5000}}），收到 {type(data).__name__}")
    return data


def build_app(bot: PolicyBot) -> gr.Blocks:
    """The web app over `bot`: 政策问答, 条款检索, 政策匹配, and the /ask, /search, /match endpoints.

    Launch it with `css=CSS` (Gradio 6 takes styling at launch).
    """
    app = WebApp(bot)
    with gr.Blocks(title="PolicyBot 高新区政策助手") as demo:
        gr.Markdown("## PolicyBot 贵州高新区政策助手\n每个回答都引用并标注所依据的政策条款。")
        with gr.Tab("政策问答"):
            conversation = gr.State(None)
            chatbot = gr.Chatbot(label="对话", height=520, buttons=["copy"])
            with gr.Row():
                question = gr.Textbox(placeholder="用自己的话提问，例如：科技成果转化项目最多能拿多少支持？",
                                      show_label=False, scale=8)
                send = gr.Button("提问", variant="primary", scale=1)
            clear = gr.Button("新对话", size="sm")
            gr.Examples(EXAMPLES, inputs=question, label="示例问题")
            for trigger in (question.submit, send.click):
                trigger(app.chat, [question, chatbot, conversation], [question, chatbot, conversation],
                        api_visibility="private")
            clear.click(lambda: ([], None, ""), None, [chatbot, conversation, question], api_visibility="private")

        with gr.Tab("条款检索"):
            with gr.Row():
                query = gr.Textbox(label="关键词或条款号", placeholder="如：研发费用加计扣除、（八）、第十二条", scale=6)
                doc = gr.Dropdown(label="文件", choices=[(ALL_DOCS, "")], value="", scale=3)
                k = gr.Number(label="条数", value=5, minimum=1, maximum=50, precision=0, scale=1)
            go = gr.Button("检索", variant="primary")
            with gr.Row():
                with gr.Column(scale=3):
                    results = gr.HTML(label="检索结果")
                with gr.Column(scale=2):
                    pick = gr.Dropdown(label="查看条款全文", choices=[])
                    view = gr.HTML()
                    cite_line = gr.Textbox(label="复制引用", buttons=["copy"], interactive=False)
            for trigger in (query.submit, go.click):
                trigger(app.search_ui, [query, doc, k], [results, pick, view, cite_line], api_visibility="private")
            pick.change(app.clause_ui, pick, [view, cite_line], api_visibility="private")
            demo.load(app.documents, None, doc, api_visibility="private")

        with gr.Tab("政策匹配"):
            gr.Markdown("填写已知情况（不知道的留空），查看可申请的政策及每项条件是否满足。")
            with gr.Row():
                zone_name = gr.Textbox(label="所在高新区", placeholder="如：贵阳国家高新区")
                zone_level = gr.Dropdown(label="高新区级别", choices=ZONE_LEVELS, value="")
                listing = gr.Dropdown(label="上市情况", choices=LISTING, value="")
            with gr.Row():
                numbers = [gr.Number(label=label, value=None) for _, label in NUMBER_FIELDS[:4]]
            with gr.Row():
                numbers += [gr.Number(label=label, value=None) for _, label in NUMBER_FIELDS[4:]]
            with gr.Row():
                flags = [gr.Radio(YES_NO, label=label, value="未知") for _, label in FLAG_FIELDS]
            extra = gr.Textbox(label="其他字段（JSON，可选）", lines=2,
                               placeholder='{"hightech_income_share": 70, "province": "贵州"}')
            run = gr.Button("匹配政策", variant="primary")
            summary = gr.Markdown()
            table = gr.Dataframe(headers=ui.VERDICT_HEADERS, datatype="str", wrap=True, interactive=False,
                                 label="匹配结果")
            run.click(app.match_ui, [zone_name, zone_level, listing, extra, *numbers, *flags], [summary, table],
                      api_visibility="private")

        gr.api(app.api_ask, api_name="ask")
        gr.api(app.api_search, api_name="search")
        gr.api(app.api_match, api_name="match")
    return demo


def serve(settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Build the index from corpus/ if there is none, then serve the app (blocks)."""
    import sys
    import threading

    from .service import build_bot

    configure_logging()
    bot = build_bot(settings)
    report = bot.ensure_index()
    if report is not None:
        print(report.summary(), file=sys.stderr)
    # Load the index, jieba and the model while Gradio starts, so the first question is not the slow one.
    threading.Thread(target=bot.search, args=("研发费用加计扣除", 1), name="warm-up", daemon=True).start()
    build_app(bot).launch(server_name=host, server_port=port, css=CSS, footer_links=["api"])
