"""The 文档管理 tab: upload policy files into the corpus and re-index, behind the admin token.

Every upload is checked (bot.uploads) before it is written into the corpus folder; the index is then
rebuilt through PolicyBot.ingest, which swaps in a new generation only when it is complete, so a
failing ingest leaves the previous index serving. A file the ingest skips is taken back out of the
corpus (its previous version restored), so the corpus never keeps a file the index refused.
"""

from __future__ import annotations

import hmac
import os
from pathlib import Path

import gradio as gr

from . import ui
from .errors import PolicyBotError, UploadError
from .service import PolicyBot
from .uploads import check_size, check_upload

DISABLED = "文档上传未启用：服务器未设置管理口令（环境变量 POLICYBOT_ADMIN_TOKEN），请联系管理员。"
DOC_HEADERS = ["文件", "标题", "文号", "条款数"]
FILE_TYPES = [".pdf", ".docx", ".txt", ".md", ".html", ".htm"]


class DocumentAdmin:
    """Upload and re-index handlers over one PolicyBot."""

    def __init__(self, bot: PolicyBot) -> None:
        self.bot = bot

    def documents(self) -> list[list]:
        """The indexed documents: file stem, title, 文号, clause count."""
        try:
            store = self.bot.index.store
        except PolicyBotError:
            return []
        counts: dict[str, int] = {}
        for clause in store.clauses.values():
            counts[clause.doc_slug] = counts.get(clause.doc_slug, 0) + 1
        return [[slug, meta.title, meta.doc_number, counts.get(slug, 0)] for slug, meta in sorted(store.documents.items())]

    def check_token(self, token: str) -> None:
        expected = self.bot.settings.admin_token
        if not expected:
            raise gr.Error(DISABLED)
        if not hmac.compare_digest((token or "").encode(), expected.encode()):
            raise gr.Error("管理口令不正确")

    def upload(self, token: str, files: list | None, progress=gr.Progress()):
        """Check, store and index the uploaded files; (per-file summary, document table)."""
        self.check_token(token)
        if not files:
            raise gr.Error("请先选择要上传的文件（PDF、DOCX、TXT、HTML）")
        settings = self.bot.settings
        results: list[tuple[str, bool, str]] = []
        written: dict[str, tuple[Path, bytes | None]] = {}  # name -> (corpus path, previous content)
        for item in files:
            source = Path(item if isinstance(item, (str, os.PathLike)) else item.name)
            try:
                check_size(source.name, source.stat().st_size, settings.max_file_bytes)  # before reading it
                data = source.read_bytes()
                name = check_upload(source.name, data, settings.max_file_bytes)
                if name in written:
                    raise UploadError(f"{name}：同名文件重复上传")
            except UploadError as exc:
                results.append((source.name, False, str(exc)))
                continue
            target = settings.corpus_dir / name
            written[name] = (target, target.read_bytes() if target.exists() else None)
            _write_atomically(target, data)
        if not written:
            return ui.upload_summary(results, "没有可导入的文件，索引未改变。"), self.documents()

        def step(stage: str, done: int, total: int) -> None:
            progress(done / max(total, 1), desc=f"{stage} {done}/{total}")

        try:
            report = self.bot.ingest([settings.corpus_dir], step)
        except BaseException as exc:
            for target, previous in written.values():
                _restore(target, previous)
            if isinstance(exc, PolicyBotError):
                results += [(name, False, f"未导入：{exc}") for name in written]
                return ui.upload_summary(results, "索引未改变，仍在使用之前的版本。"), self.documents()
            raise
        skipped = {Path(path).resolve(): reason for path, reason in report.skipped}
        replaced_refused = False
        for name, (target, previous) in written.items():
            reason = skipped.get(target.resolve())
            if reason is None:
                continue
            _restore(target, previous)
            replaced_refused |= previous is not None
            results.append((name, False, f"未能导入：{reason}"))
        if replaced_refused:  # the refused file had replaced a good one: index the good one again
            report = self.bot.ingest([settings.corpus_dir], step)
        counts = {row[0]: row[3] for row in self.documents()}
        for name, (target, _) in written.items():
            if target.resolve() not in skipped:
                results.append((name, True, f"已导入，条款 {counts.get(target.stem, 0)} 条"))
        return ui.upload_summary(results, report.summary()), self.documents()


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def _restore(target: Path, previous: bytes | None) -> None:
    if previous is None:
        target.unlink(missing_ok=True)
    else:
        _write_atomically(target, previous)


def admin_tab(bot: PolicyBot) -> None:
    """The tab's components and events (call inside a gr.Tab)."""
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
    table = gr.Dataframe(value=admin.documents, headers=DOC_HEADERS, datatype=["str", "str", "str", "number"],
                         interactive=False, label="已索引的文件", elem_id="pb-admin-docs")
    upload.click(admin.upload, [token, files], [summary, table], api_visibility="private")
