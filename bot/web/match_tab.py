"""The 政策匹配 tab: the grouped form (bot/web/match_form.py), the verdicts as a table on a wide screen
and as cards under 600 px, the clauses of a chosen verdict under a heading naming its policy, and the
PDF report to take home (bot/matching/report.py).

`match_tab(app)` lays the tab out inside the current gr.Tab; `MatchTab` holds its handlers.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from bot.errors import PolicyBotError, ProfileError
from bot.web import format as ui
from bot.web.guard import guarded, shown
from bot.web.toasts import warn
from bot.web.match_form import (
    HAS_TALENTS,
    TALENT_COLUMNS,
    UNSURE,
    YES_NO,
    Field,
    form_error,
    form_fields,
    profile_from_fields,
)

PHONE_WIDTH = 600  # px: below it the verdicts are cards
MATCH_CSS = f"""
#pb-verdict-cards {{ display: none !important; }}
@media (max-width: {PHONE_WIDTH}px) {{
  #pb-verdicts {{ display: none !important; }}
  #pb-verdict-cards {{ display: block !important; }}
}}
.pb-card {{ border: 1px solid #d1d5db; border-left-width: 6px; border-radius: .5em; padding: .6em .8em; margin: .6em 0;
  background: #fff; color: #111827; }}
.pb-card-eligible {{ border-left-color: #059669; }}
.pb-card-needs_info {{ border-left-color: #d97706; }}
.pb-card-not_eligible {{ border-left-color: #9ca3af; }}
.pb-card-status {{ font-weight: bold; font-size: 1.05em; }}
.pb-card-eligible .pb-card-status {{ color: #065f46; }}
.pb-card-needs_info .pb-card-status {{ color: #92400e; }}
.pb-card-not_eligible .pb-card-status {{ color: #4b5563; }}
.pb-card-name {{ font-weight: bold; margin: .2em 0; }}
.pb-card ul {{ margin: .3em 0; padding-left: 1.1em; }}
.pb-card li, .pb-card-line {{ font-size: .93em; line-height: 1.5; word-break: break-word; }}
.pb-card details summary {{ cursor: pointer; color: #1d4ed8; }}
.pb-clauses-heading {{ margin: .4em 0; }}
"""
_INTRO = ("填写已知情况（不知道的留空或选“不清楚”），每项注明单位和所指期间；也可导入企业画像文件。"
          "结果逐项列出可申请的政策及每项条件是否满足，可下载 PDF 报告。")


class MatchTab:
    """The tab's handlers over the app's PolicyBot, sharing its rate limit and request log."""

    def __init__(self, app: Any, fields: list[Field]) -> None:
        from bot.web.files import upload_root

        self.bot, self.guard, self.fields = app.bot, app.guard, fields
        self.uploads = upload_root(app.bot.settings)
        self.reports = self.uploads / "reports"  # served from Gradio's upload folder, swept by age

    def _profile(self, upload: Any, talents: Any, values: tuple) -> dict:
        """The form's profile mapping over the uploaded file's (the form wins where both say)."""
        from bot.web.files import admitted, discard

        data: dict = {}
        if upload:
            try:
                from bot.matching.profile import load_profile

                path = admitted(self.uploads, upload)
                data = load_profile(path).model_dump(exclude_unset=True)
            except ProfileError as exc:
                raise ProfileError(f"企业画像文件有误：{form_error(exc)}") from None
            finally:
                discard(self.uploads, upload)
        form = profile_from_fields(self.fields, values, talents)
        for key, value in form.items():
            data[key] = {**data[key], **value} if isinstance(value, dict) and isinstance(data.get(key), dict) else value
        return data

    @guarded("match-ui")
    def match(self, upload, talents, *values):
        """(summary, table rows, cards, each row's (policy, clause ids), the profile for the report)."""
        from bot.matching.profile import parse_profile

        try:
            data = self._profile(upload, talents, values)
            verdicts = ui.sort_verdicts(self.bot.match(parse_profile(data)))
        except ProfileError as exc:
            return self._refused(form_error(exc))
        except PolicyBotError as exc:
            return self._refused(shown(exc))
        rows = [(v.name, list(v.citations)) for v in verdicts]
        return (ui.match_summary(verdicts) + _closest(verdicts), ui.verdict_rows(verdicts, self.bot.cite), self._cards(verdicts), rows,
                data)

    @staticmethod
    def _refused(message: str):
        warn(ui.esc(message))
        return f"<div class='pb-error'>⚠ {ui.esc(message)}</div>", [], "", [], None

    def _clauses(self, name: str, ids: list[str]) -> str:
        """The clauses a verdict rests on, whole, under a heading naming its policy."""
        views = []
        for clause_id in ids:
            try:
                views.append(ui.clause_markdown(self.bot.view(clause_id)))
            except PolicyBotError as exc:
                views.append(f"<div class='pb-error'>{ui.esc(shown(exc))}</div>")
        return f"<h3 class='pb-clauses-heading'>“{ui.esc(name)}”所依据的条款</h3>" + "<hr>".join(views)

    def _cards(self, verdicts: list) -> str:
        """One card a verdict, status first, for a phone screen; its clauses fold out under it."""
        from bot.matching.report import condition_text

        cards = []
        for v in verdicts:
            benefit = ui.esc(v.benefit) + (f"<br>【编者注】现行标准：{ui.esc(v.current_benefit)}" if v.current_benefit else "")
            conditions = "".join(f"<li>{ui.esc(condition_text(c))}</li>" for c in v.conditions) or "<li>（无附加条件）</li>"
            missing = (f"<div class='pb-card-line'>还需了解：{ui.esc('；'.join(v.missing.values()))}</div>"
                       if v.missing else "")
            note = (f"<div class='pb-card-line pb-amended'>【编者注】所依据的条款已被后续文件修改：{ui.esc(v.amendment_note)}</div>"
                    if v.amendment_note else "")
            cites = "；".join(self.bot.cite(c) for c in v.citations)
            cards.append(
                f"<div class='pb-card pb-card-{v.status}'>"
                f"<div class='pb-card-status'>{ui.esc(ui.verdict_row(v)[1])}</div>"
                f"<div class='pb-card-name'>{ui.esc(v.name)}</div>"
                f"<div class='pb-card-line'>支持内容：{benefit}</div>"
                f"<ul>{conditions}</ul>{missing}{note}"
                f"<div class='pb-card-line'>依据：{ui.esc(cites)}</div>"
                f"<details><summary>查看所依据的条款全文</summary>{self._clauses(v.name, list(v.citations))}</details>"
                "</div>")
        return "".join(cards)

    def verdict_clauses(self, rows: list | None, evt: gr.SelectData) -> str:
        """The clauses a clicked table row rests on, whole, under the policy's name."""
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        if not rows or not 0 <= row < len(rows):
            return ""
        name, ids = rows[row]
        return self._clauses(name, ids)

    @guarded("match-report")
    def report(self, data: dict | None):
        """The PDF report of the last match, for download."""
        from bot.matching.profile import parse_profile
        from bot.matching.report import build_report, clause_quote, write_report

        if not data:
            warn("请先点击“匹配政策”，再下载报告")
            return None
        try:
            profile = parse_profile(data)
            report = build_report(profile, self.bot.match(profile), clause_quote(self.bot))
            self.reports.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix="report-", dir=self.reports))
            return str(write_report(report, folder / "政策匹配报告.pdf"))
        except PolicyBotError as exc:
            warn(ui.esc(shown(exc)))
            return None


def _closest(verdicts) -> str:
    """The summary's 最接近的政策 lines, as the chat's table and `policybot match` list them."""
    from bot.matching.render import CLOSEST_HEADING, closest_gaps

    near = closest_gaps(verdicts)
    return "\n\n" + "\n".join([CLOSEST_HEADING] + [f"- {ui.typed_text(f'{n}：{g}')}" for n, g in near]) if near else ""


def _component(field: Field):
    """The input for one field: a text box for numbers and words (blank stays unknown, amounts may be
    written as said: 3亿元), a dropdown for choices, 是/否/不清楚 for yes/no facts."""
    from bot.text.facts import fact

    elem_id = f"pb-{field.key.replace('.', '-')}"
    info = field.info or None
    if field.kind == "choice":
        choices = [("（未填）", ""), *((label, value) for value, label in fact(field.key).choices.items())]
        return gr.Dropdown(label=field.label, choices=choices, value="", info=info, elem_id=elem_id, min_width=180)
    if field.kind == "yes_no":
        return gr.Radio(YES_NO, value=UNSURE, label=field.label, info=info, elem_id=elem_id, min_width=180)
    if field.kind == "talents":
        return gr.Radio(HAS_TALENTS, value=UNSURE, label="有无在聘或拟聘的境外人才", info="有的请在下表逐人填写",
                        elem_id=elem_id, min_width=180)
    placeholder = "未填，可写 3亿元、5000万" if fact(field.key).unit == "万元" else "未填"
    return gr.Textbox(label=field.label, placeholder=placeholder, info=info, elem_id=elem_id, min_width=180)


def match_tab(app: Any) -> None:
    """Lay out the 政策匹配 tab in the current container; its fields are what the loaded rules ask."""
    try:
        rules = app.bot.rules()
    except PolicyBotError:  # no rules folder: the form is empty, and matching says why when asked
        rules = ()
    groups = form_fields(rules)
    fields = [f for _, group in groups for f in group]
    tab = MatchTab(app, fields)
    gr.Markdown(_INTRO)
    inputs = []
    talents = None
    for name, group in groups:
        with gr.Group():
            gr.Markdown(f"#### {name}", elem_classes=["pb-form-group"])
            with gr.Row(equal_height=False):
                inputs += [_component(f) for f in group]
            if any(f.kind == "talents" for f in group):
                talents = gr.Dataframe(headers=TALENT_COLUMNS, datatype="str", row_count=2, column_count=len(TALENT_COLUMNS),
                                       interactive=True, label="境外人才（每行一人）", elem_id="pb-talents")
    if talents is None:  # no rule asks about talents
        talents = gr.State(None)
    upload = gr.File(label="导入企业画像文件（YAML/JSON，可选；表单中填写的项优先）", file_types=[".yaml", ".yml", ".json"],
                     type="filepath", elem_id="pb-profile-file")
    run = gr.Button("匹配政策", variant="primary", elem_id="pb-match")
    summary = gr.Markdown(elem_id="pb-match-summary")
    with gr.Row():
        download = gr.Button("下载报告（PDF）", elem_id="pb-report")
        report_file = gr.File(label="报告文件", interactive=False, elem_id="pb-report-file")
    rows, profile = gr.State([]), gr.State(None)
    table = gr.Dataframe(headers=ui.VERDICT_HEADERS, datatype="str", wrap=True, interactive=False,
                         column_widths=["18%", "11%", "36%", "20%", "15%"], max_height=700,
                         label="匹配结果（点击一行查看所依据的条款全文）", elem_id="pb-verdicts")
    cards = gr.HTML(elem_id="pb-verdict-cards")
    verdict_clause = gr.HTML(elem_id="pb-verdict-clause")
    # preprocess=False: the handler gets the upload as sent and checks it itself (bot/web/files.py).
    run.click(tab.match, [upload, talents, *inputs], [summary, table, cards, rows, profile], api_name="match_ui",
              api_visibility="private", preprocess=False)
    table.select(tab.verdict_clauses, rows, verdict_clause, api_visibility="private")
    download.click(tab.report, profile, report_file, api_visibility="private")
