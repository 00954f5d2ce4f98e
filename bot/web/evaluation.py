"""The 评测 tab: run a question set (uploaded or the shipped one), show the metrics and charts,
offer the report as a zip.

`run_evaluation` does the work without Gradio (tests call it); `EvalRuns` is what the web app lets
a visitor run (one at a time, so many an hour, on a set uploaded through the page); `build_eval_tab`
lays out the tab inside the app's `gr.Blocks()` and wires one button to it.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from bot.errors import PolicyBotError
from bot.evaluation.labels import mode_name
from bot.settings import MODES

# The 评测 tab's help on the question file (users have no DESIGN.md).
QUESTION_FORMAT = """问题集为 UTF-8 编码的 JSONL 文件，每行一个 JSON 对象，即一个问题：

- `question`：问题文本（必填）
- `answerable`：能否依据已收录的政策回答，`true` 或 `false`（默认 `true`）
- `gold_quotes`：答案所依据的政策原文片段（列表），用于评测检索
- `must_mention`：回答中必须出现的关键事实（列表），如金额、比例
- `category`：问题类别，如 `amount`（金额）、`eligibility`（资格判断）、`out_of_scope`（超出政策范围）
- `id`：问题编号（可选）；多轮问题用 `turns` 列出各轮，每轮写法同上

示例（两行）：

```
{"id": "q1", "question": "重大科技成果转化项目省级最多支持多少钱？", "gold_quotes": ["给予不超过1000万元省级重大科技成果转化项目支持"], "must_mention": ["1000万元"], "category": "amount"}
{"id": "q2", "question": "员工食堂伙食补贴标准是多少？", "answerable": false, "category": "out_of_scope"}
```
"""

@dataclass(frozen=True)
class EvalView:
    """What the tab shows: a summary, a per-category table, chart files and the report to download."""

    summary: str
    category_rows: list[list[str]]
    charts: list[str]
    report: str  # report.md
    archive: str  # report.zip: report.md, metrics.json, charts


def eval_folder(settings) -> Path:
    """The shipped question set and profiles live in eval/ beside the corpus folder."""
    return Path(settings.corpus_dir).resolve().parent / "eval"


def run_evaluation(
    bot, settings, questions_file: str | Path | None = None, modes: Sequence[str] = MODES, answers: bool = True,
    out_dir: Path | None = None, progress: Callable[[float, str], None] | None = None,
) -> EvalView:
    """Evaluate `bot` on a question set (default: the shipped eval/questions.jsonl) and write the report."""
    from bot.evaluation.report import summary_table, write_report
    from bot.evaluation.user_report import category_rows, counts_line
    from bot.evaluation.run import count_steps, evaluate_matching, run_bot
    from bot.evaluation.questions import load_questions

    modes = [m for m in modes if m in MODES]
    if not modes:
        raise PolicyBotError("请至少选择一种检索方式（混合检索、向量检索或关键词检索）")
    folder = eval_folder(settings)
    path = Path(questions_file) if questions_file else folder / "questions.jsonl"
    questions = load_questions(path)
    total = max(1, count_steps(questions, modes, answers))
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress and (done[0] % 5 == 0 or done[0] == total):
            progress(done[0] / total, "评测中")

    run = run_bot(bot, questions, path.name, modes, answers=answers, progress=tick)
    metrics = run.metrics()
    expected = folder / "profile_verdicts.yaml"
    if answers and expected.exists() and (folder / "profiles").is_dir():
        metrics["matching"] = evaluate_matching(bot.rules(), folder / "profiles", expected)
    out = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="policybot-eval-"))
    report = write_report(metrics, out, chinese=True)
    archive = out / "report.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(out.iterdir()):
            if f.suffix in (".md", ".json", ".png"):
                zf.write(f, f.name)
    charts = [str(p) for p in sorted(out.glob("*.png"))]
    head = counts_line(metrics["meta"], answers) + "\n\n"
    return EvalView(head + summary_table(metrics, chinese=True), category_rows(metrics, modes[0]), charts, str(report),
                    str(archive))


class EvalRuns:
    """The tab's runs: one at a time (each takes half a minute of CPU from the people asking), so many
    an hour per client, each on a set uploaded through the page, and only the last report kept."""

    BUSY = "另一个评测正在运行（同一时间只运行一个），请等它结束后再试"

    def __init__(self, bot, settings) -> None:
        from bot.web.attempts import PerHour
        from bot.web.files import upload_root

        self.bot, self.settings = bot, settings
        self.uploads = upload_root(settings)
        self.reports = self.uploads / "eval"  # served by Gradio from its upload folder, swept by age
        self.per_client = PerHour(settings.eval_runs_per_hour)
        self.lock = threading.Lock()

    def run(self, upload, modes, answers: bool, client: str | None, progress=None) -> EvalView:
        """Evaluate on the uploaded set (a FileData dict, or None for the shipped set); PolicyBotError
        when busy, over the client's limit or the upload is not one of this page's."""
        from bot.web.files import admitted, discard

        try:
            path = admitted(self.uploads, upload) if upload else None
            if not self.lock.acquire(blocking=False):
                raise PolicyBotError(self.BUSY)
            try:
                wait = self.per_client.take(client) if client else 0
                if wait:
                    raise PolicyBotError(f"评测次数已达上限：每个客户端每小时最多 {self.per_client.limit} 次，请约 {wait} 分钟后再试")
                shutil.rmtree(self.reports, ignore_errors=True)  # the previous report: its download link ends here
                self.reports.mkdir(parents=True)
                out = Path(tempfile.mkdtemp(prefix="run-", dir=self.reports))
                try:
                    view = run_evaluation(self.bot, self.settings, path, modes, answers=answers, out_dir=out, progress=progress)
                except PolicyBotError as exc:  # name the file as the user knows it, not where the server keeps it
                    raise PolicyBotError(str(exc).replace(str(path), path.name) if path else str(exc)) from None
            finally:
                self.lock.release()
        finally:
            if upload:
                discard(self.uploads, upload)
        for f in out.iterdir():  # the download and the gallery need only these
            if f.suffix not in (".zip", ".png"):
                f.unlink()
        return view


def build_eval_tab(bot, settings, tab: bool = True) -> None:
    """Lay out the 评测 tab in the current `gr.Blocks()` (or, with tab=False, in the current container)."""
    import contextlib

    import gradio as gr

    from bot.evaluation.user_report import CATEGORY_HEADERS
    from bot.web import format as ui
    from bot.web.toasts import warn

    runs = EvalRuns(bot, settings)

    def run(upload, modes, retrieval_only, progress=gr.Progress(), request=None):
        client = (getattr(request.client, "host", None) or "-") if request is not None else None
        try:
            view = runs.run(upload, [m for m in modes or [] if isinstance(m, str)], not retrieval_only, client,
                            progress=lambda f, d: progress(f, desc=d))
        except PolicyBotError as exc:
            warn(ui.esc(str(exc)))
            return f"**错误**：{ui.esc(str(exc))}", [], [], None
        return view.summary, view.category_rows, view.charts, view.archive

    run.__annotations__ = {"request": gr.Request}  # Gradio passes the request to the parameter so annotated

    with gr.Tab("评测") if tab else contextlib.nullcontext():
        gr.Markdown("上传问题集（JSONL 文件），或直接使用内置问题集，运行检索、回答与政策匹配评测。")
        with gr.Accordion("问题集格式说明", open=False):
            gr.Markdown(QUESTION_FORMAT, elem_id="pb-eval-format")
        with gr.Row():
            upload = gr.File(label="问题集（可选，.jsonl）", file_types=[".jsonl"], type="filepath", elem_id="pb-eval-file")
            with gr.Column():
                modes = gr.CheckboxGroup([(mode_name(m), m) for m in MODES], value=list(MODES), label="检索方式")
                retrieval_only = gr.Checkbox(label="仅评测检索（更快）", value=False)
                go = gr.Button("运行评测", variant="primary", elem_id="pb-eval-run")
        summary = gr.Markdown(elem_id="pb-eval-summary")
        table = gr.Dataframe(headers=CATEGORY_HEADERS, datatype="str", interactive=False, wrap=True, label="分类指标")
        charts = gr.Gallery(label="图表", columns=2, height="auto", object_fit="contain", elem_id="pb-eval-charts")
        download = gr.File(label="下载报告（report.md、metrics.json 与图表）", elem_id="pb-eval-download")
        # preprocess=False: the handler gets the upload as sent (Gradio's own step leaves an empty
        # temp file per event) and checks it itself (bot/web/files.py).
        go.click(run, [upload, modes, retrieval_only], [summary, table, charts, download], api_visibility="private",
                 preprocess=False)
