"""The 文档管理 tab's rule drafts panel: an admin reviews, edits, accepts or discards drafted rules.

Ingest drafts rules for a new document into <rules>/drafts/<doc>.yaml (bot.matching.drafts), where
the matcher never looks. Accepting checks the edited text as every rule file is checked when it
loads (schema, validator against the corpus, ids unique among the accepted rules) and only then
writes it to <rules>/<doc>.yaml and removes the draft; a refused edit leaves both files as they were.
Every action needs the admin token, counted against wrong guesses like the upload's.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import gradio as gr

from bot.errors import DocumentError
from bot.matching.drafts import drafts_folder, rules_folder
from bot.web.admin import DocumentAdmin
from bot.web.format import esc
from bot.web.toasts import refusal as _refuse

log = logging.getLogger(__name__)




def _client(request) -> str | None:
    return (getattr(request.client, "host", None) or "-") if request is not None else None


class DraftReview:
    """List, open, accept and discard the drafts of one bot's corpus, behind the admin token."""

    def __init__(self, admin: DocumentAdmin) -> None:
        self.admin = admin

    @property
    def corpus(self) -> Path:
        return Path(self.admin.bot.settings.corpus_dir)

    def names(self) -> list[str]:
        """The documents with a draft, by file stem."""
        folder = drafts_folder(self.corpus)
        return sorted(p.stem for p in folder.glob("*.yaml") if p.is_file()) if folder.is_dir() else []

    def _path(self, name) -> Path:
        if not isinstance(name, str) or name not in self.names():  # also keeps any path out
            raise _refuse("请先选择一个规则草稿")
        return drafts_folder(self.corpus) / f"{name}.yaml"

    def listing(self, token, request: gr.Request = None):
        """(the draft picker, a table of drafts with how many of their rules pass the validator)."""
        self.admin.check_token(token, _client(request))
        return self._listing()

    def _listing(self, keep: str | None = None):
        names = self.names()
        if not names:
            return gr.update(choices=[], value=None), "暂无规则草稿：导入新文档后会自动起草。"
        rows = ["| 草稿 | 规则数 | 未通过校验 |", "|---|---|---|"]
        clauses, amendments = self._corpus()
        for name in names:
            try:
                rules, problems = self._check(drafts_folder(self.corpus) / f"{name}.yaml", clauses, amendments)
                rows.append(f"| {esc(name)} | {len(rules)} | {sum(1 for p in problems if p)} |")
            except DocumentError as exc:
                rows.append(f"| {esc(name)} | — | {esc(exc.reason)} |")
        return gr.update(choices=names, value=keep if keep in names else None), "\n".join(rows)

    def open(self, token, name, request: gr.Request = None) -> str:
        """The draft's text for the edit box."""
        if not name:
            return ""
        self.admin.check_token(token, _client(request))
        return self._path(name).read_text(encoding="utf-8")

    def accept(self, token, name, text, request: gr.Request = None):
        """Check the edited text; if every rule passes, it becomes <rules>/<name>.yaml and the draft
        goes. (message, picker, listing, edit box)."""
        self.admin.check_token(token, _client(request))
        draft = self._path(name)
        target = rules_folder(self.corpus) / f"{name}.yaml"
        if target.exists():
            raise _refuse(f"未接受：已有规则文件 {target.name}，请先改名或合并后再接受")
        text = text if isinstance(text, str) else ""
        check = draft.with_name(f".{name}.yaml.check")
        try:
            check.write_text(text, encoding="utf-8")
            rules, problems = self._check(check, *self._corpus())
            if not rules:
                raise _refuse("未接受：草稿中没有规则")
            first = next(((rule, found) for rule, found in zip(rules, problems) if found), None)
            if first:
                more = f"（另有 {sum(map(len, problems)) - 1} 处问题）" if sum(map(len, problems)) > 1 else ""
                raise _refuse(f"未接受：规则 {first[0].id}：{first[1][0]}{more}")
            taken = {rule.id: rule.source_file for rule in self.admin.bot.rules()}
            clash = next((rule.id for rule in rules if rule.id in taken), None)
            if clash:
                raise _refuse(f"未接受：规则 id {clash} 与 {taken[clash]} 中的规则重复，请改用其他 id")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(check, target)
        except DocumentError as exc:
            raise _refuse(f"未接受：{exc.reason}") from None
        finally:
            check.unlink(missing_ok=True)
        draft.unlink(missing_ok=True)
        log.info("rule draft accepted: %s (%d rules)", name, len(rules))
        return (f"✓ 已接受 {len(rules)} 条规则，写入 rules/{target.name}，现已参与政策匹配。", *self._listing(), "")

    def discard(self, token, name, request: gr.Request = None):
        """Delete the draft. (message, picker, listing, edit box)."""
        self.admin.check_token(token, _client(request))
        self._path(name).unlink(missing_ok=True)
        log.info("rule draft discarded: %s", name)
        return (f"已丢弃草稿 {name}。", *self._listing(), "")

    def _corpus(self):
        from bot.ingest.amendments import load_amendments
        from bot.matching.rules import corpus_clauses

        notes = self.corpus / "amendments.yaml"
        return corpus_clauses(self.corpus), load_amendments(notes) if notes.is_file() else {}

    @staticmethod
    def _check(path: Path, clauses, amendments):
        """(rules, problems of each): the schema errors of read_rule_file raise DocumentError."""
        from bot.matching.drafts import validation_problems
        from bot.matching.rules import read_rule_file

        rules = read_rule_file(path)
        return rules, validation_problems(rules, clauses, amendments)


def drafts_panel(admin: DocumentAdmin, token: gr.Textbox) -> None:
    """The panel's components and events, under the upload (shares its token box)."""
    review = DraftReview(admin)
    enabled = bool(admin.bot.settings.admin_token)
    with gr.Accordion("规则草稿（新文档导入时自动起草，接受后才参与政策匹配）", open=False, elem_id="pb-drafts"):
        show = gr.Button("列出规则草稿", size="sm", interactive=enabled, elem_id="pb-drafts-list")
        listing = gr.Markdown(elem_id="pb-drafts-table")
        pick = gr.Dropdown(label="草稿", choices=[], interactive=enabled, elem_id="pb-drafts-pick")
        text = gr.Textbox(label="草稿内容（YAML，可编辑；以 # 开头的是说明，不影响规则）", lines=18, max_lines=40,
                          interactive=enabled, elem_id="pb-drafts-text")
        with gr.Row():
            accept = gr.Button("校验并接受", variant="primary", interactive=enabled, elem_id="pb-drafts-accept")
            discard = gr.Button("丢弃草稿", variant="stop", interactive=enabled, elem_id="pb-drafts-discard")
        note = gr.Markdown(elem_id="pb-drafts-note")
    show.click(review.listing, token, [pick, listing], api_visibility="private")
    pick.change(review.open, [token, pick], text, api_visibility="private")
    accept.click(review.accept, [token, pick, text], [note, pick, listing, text], api_visibility="private")
    discard.click(review.discard, [token, pick], [note, pick, listing, text], api_visibility="private")
