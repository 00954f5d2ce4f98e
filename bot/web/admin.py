"""The 文档管理 tab: upload policy files into the corpus and re-index, behind the admin token.

Every upload is checked (bot.web.uploads) and staged in a folder beside the corpus, never inside it; the
index is rebuilt from the staged files and the corpus together through PolicyBot.ingest in a child
process (bot/ingest/child.py: the app keeps none of the work's memory), which swaps in a new
generation only when it is complete, and only then are the files the ingest took moved into the
corpus. A failing ingest, a refused file or a crash (staging is cleared at the next start) leaves
the corpus as it was. Wrong tokens lock a client out for longer and longer (bot/web/attempts.py), and
uploaded files are deleted once read, whatever the outcome (bot/web/files.py).
"""

from __future__ import annotations

import hmac
import logging
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

import gradio as gr

from bot.web import format as ui
from bot.web.attempts import Lockout
from bot.errors import PolicyBotError, UploadError
from bot.ingest.build import discover
from bot.ingest.loaders import staging_root
from bot.ingest.metadata import short_doc_number
from bot.service import PolicyBot
from bot.web.uploads import check_size, check_upload
from bot.web.files import admitted, discard, file_path, upload_root
from bot.web.toasts import refusal

DISABLED = "文档上传未启用：服务器未设置管理口令（环境变量 POLICYBOT_ADMIN_TOKEN），请联系管理员。"
DOC_HEADERS = ["标题", "文号", "条款数", "文件名"]  # what a person reads first; the file last
FILE_TYPES = [".pdf", ".docx", ".txt", ".md", ".html", ".htm"]
log = logging.getLogger(__name__)


class DocumentAdmin:
    """Upload and re-index handlers over one PolicyBot."""

    def __init__(self, bot: PolicyBot) -> None:
        self.bot = bot
        self.uploads = upload_root(bot.settings)
        self.staging = staging_root(bot.settings.corpus_dir)
        self.lockout = Lockout()
        _clear_stale(self.staging)

    def _store(self):
        """The index's store, or None before there is an index."""
        try:
            return self.bot.index.store
        except PolicyBotError:
            return None

    def clause_counts(self) -> dict[str, int]:
        """Clauses indexed per document (by file stem)."""
        counts: dict[str, int] = {}
        for clause in getattr(self._store(), "clauses", {}).values():
            counts[clause.doc_slug] = counts.get(clause.doc_slug, 0) + 1
        return counts

    def documents(self) -> list[list]:
        """The indexed documents as the table shows them: title, short 文号, clause count, file name."""
        store = self._store()
        if store is None:
            return []
        counts = self.clause_counts()
        files = {path.stem: path.name for path in discover([Path(self.bot.settings.corpus_dir)])[0]}
        return [[meta.title or slug, short_doc_number(meta) or meta.doc_number, counts.get(slug, 0), files.get(slug, slug)]
                for slug, meta in sorted(store.documents.items(), key=lambda item: item[1].title or item[0])]

    def check_token(self, token, client: str | None = None) -> None:
        """gr.Error unless `token` is the admin token; `client` (None in-process) counts wrong ones."""
        expected = self.bot.settings.admin_token
        if not expected:
            raise refusal(DISABLED)
        token = token if isinstance(token, str) else ""
        if not token.strip():
            raise refusal("请输入管理口令")
        wait = self.lockout.wait(client) if client else 0.0
        if wait:
            log.info("admin-upload locked-out")
            raise refusal(f"管理口令错误次数过多，请 {math.ceil(wait)} 秒后再试")
        if not hmac.compare_digest(token.encode(), expected.encode()):
            if client:
                self.lockout.fail(client)
            log.info("admin-upload wrong-token")
            raise refusal("管理口令不正确")
        if client:
            self.lockout.succeed(client)

    def upload(self, token, files, progress=gr.Progress(), request: gr.Request = None):
        """Check, stage and index the uploaded files; (per-file summary, document table). The uploads
        are deleted afterwards, whatever happened."""
        items = files if isinstance(files, list) else [files] if files else []
        started = time.perf_counter()
        try:
            self.check_token(token, (getattr(request.client, "host", None) or "-") if request is not None else None)
            if not items:
                raise refusal("请先选择要上传的文件（PDF、DOCX、TXT、HTML）")
            result = self._ingest(items, progress)
            log.info("admin-upload ok %.0f ms", (time.perf_counter() - started) * 1000)
            return result
        finally:
            for item in items:
                discard(self.uploads, item)

    def _ingest(self, items: list, progress):
        settings = self.bot.settings
        corpus = Path(settings.corpus_dir).resolve()
        results: list[tuple[str, bool, str]] = []
        existing = {path.stem: path for path in discover([corpus])[0]}
        try:
            self.staging.mkdir(parents=True, exist_ok=True)
            stage = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=self.staging))
        except OSError:
            raise PolicyBotError("无法暂存上传的文件：服务器上语料库旁的文件夹不可写，请联系管理员") from None
        try:
            staged: dict[str, Path] = {}  # name -> staged file
            for item in items:
                try:
                    source = admitted(self.uploads, item)
                    check_size(source.name, source.stat().st_size, settings.max_file_bytes)  # before reading it
                    data = source.read_bytes()
                    name = check_upload(source.name, data, settings.max_file_bytes)
                    if name in staged:
                        raise UploadError(f"{name}：同名文件重复上传")
                    same = existing.get(Path(name).stem)
                    if same is not None and same != corpus / name:
                        raise UploadError(f"{name}：与已有文件 {same.relative_to(corpus)} 的文档标识相同，请改名后再上传")
                except UploadError as exc:  # the summary names the file before the reason: once
                    name = Path(file_path(item)).name
                    results.append((name, False, str(exc).removeprefix(f"{name}：")))
                    continue
                staged[name] = stage / name
                staged[name].write_bytes(data)
            if not staged:
                return ui.upload_summary(results, "没有可导入的文件，索引未改变。"), self.documents()

            def step(stage_name: str, done: int, total: int) -> None:
                progress(done / max(total, 1), desc=f"{stage_name} {done}/{total}")

            try:  # staged files first: one replacing a corpus file of its name is the one indexed
                report = self.bot.ingest([*staged.values(), corpus], step, in_child=True)
            except PolicyBotError as exc:
                why = _without_folders(str(exc), stage, corpus, self.bot.settings.index_dir)
                results += [(name, False, f"未导入：{why}") for name in staged]
                return ui.upload_summary(results, "索引未改变，仍在使用之前的版本。"), self.documents()
            refused = _as_uploaded(report, stage, corpus)
            counts = self.clause_counts()
            for name, path in staged.items():
                if name in refused:
                    results.append((name, False, f"未能导入：{refused[name]}"))
                    continue
                _move_in(path, corpus / name)  # indexed: now it belongs in the corpus
                results.append((name, True, f"已导入，条款 {counts.get(Path(name).stem, 0)} 条"))
            return ui.upload_summary(results, report.summary()), self.documents()
        finally:
            shutil.rmtree(stage, ignore_errors=True)


def _as_uploaded(report, stage: Path, corpus: Path) -> dict[str, str]:
    """Reword `report` as the admin sees it (staged files by name; a corpus file skipped because an
    indexed upload replaced it is not news) and return the uploads it skipped, name -> reason."""
    staged = stage.resolve()
    refused = {Path(path).name: reason for path, reason in report.skipped if Path(path).resolve().parent == staged}
    replaced = {corpus / p.name for p in staged.iterdir() if p.name not in refused}
    kept = []
    for path, reason in report.skipped:
        where = Path(path).resolve()
        if where not in replaced:
            kept.append((where.name if where.parent == staged else path, reason))
    report.skipped = kept
    report.warnings = [w.replace(f"{stage}{os.sep}", "") for w in report.warnings]
    return refused


def _without_folders(message: str, stage: Path, corpus: Path, index_dir: Path) -> str:
    """An ingest's message as the admin reads it: files by their own name, the index as 索引目录, no
    server folder (the CLI's messages name them; a web page must not)."""
    for folder in (stage, corpus):
        message = message.replace(f"{folder}{os.sep}", "").replace(f"{folder.resolve()}{os.sep}", "")
    for folder in {str(index_dir), str(index_dir.resolve())}:
        message = message.replace(folder, "索引目录")
    return message


def _move_in(staged: Path, target: Path) -> None:
    """Put an indexed upload into the corpus whole: a rename, or across disks a copy renamed into place."""
    try:
        os.replace(staged, target)
    except OSError:
        part = target.with_name(f".{target.name}.part")
        shutil.copyfile(staged, part)
        os.replace(part, target)


def _clear_stale(staging: Path) -> None:
    """Remove what an upload left staged when its process died mid-ingest (the corpus never saw it)."""
    if not staging.is_dir():
        return
    for folder in staging.iterdir():
        pid = folder.name.split("-", 1)[0]
        if not (pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid))):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def admin_tab(bot: PolicyBot) -> None:
    """The tab's components and events (call inside a gr.Tab)."""
    from bot.web.drafts_tab import drafts_panel  # it builds on DocumentAdmin
    admin = DocumentAdmin(bot)
    enabled = bool(bot.settings.admin_token)
    limit = bot.settings.max_file_bytes // (1024 * 1024)
    gr.Markdown(f"上传政策文件（PDF、DOCX、TXT、HTML，单个不超过 {limit} MB）后重建索引；导入失败时继续使用原索引。"
                if enabled else f"⚠ {DISABLED}", elem_id="pb-admin-note")
    token = gr.Textbox(label="管理口令", type="password", interactive=enabled, elem_id="pb-admin-token")
    files = gr.File(label="政策文件", file_count="multiple", file_types=FILE_TYPES, type="filepath",
                    interactive=enabled, elem_id="pb-admin-files")
    upload = gr.Button("上传并重建索引", variant="primary", interactive=enabled, elem_id="pb-admin-upload")
    summary = gr.Markdown(elem_id="pb-admin-summary")
    table = gr.Dataframe(value=admin.documents, headers=DOC_HEADERS, datatype=["str", "str", "number", "str"],
                         interactive=False, wrap=True, label="已收录的政策文件", elem_id="pb-admin-docs")
    # preprocess=False: the handler gets the uploads as sent (Gradio's own step leaves an empty temp
    # file per file and event) and checks them itself (bot/web/files.py).
    upload.click(admin.upload, [token, files], [summary, table], api_visibility="private", preprocess=False)
    drafts_panel(admin, token)  # review of the rules drafted for new documents (bot/web/drafts_tab.py)
