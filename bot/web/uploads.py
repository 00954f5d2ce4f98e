"""Checks on an uploaded policy file before it touches the corpus: name, size and type by content.

The extension a browser reports is not trusted: the bytes must be what the name says (a PDF starts
with %PDF-, a DOCX is a zip holding word/document.xml, HTML looks like markup, text decodes as ingest
would decode it: UTF-8, GB18030, UTF-16 with a BOM, or a page's declared charset). Names keep their
Chinese characters but lose any folder part; `..`, control and shell characters are refused so a name
can never point outside the corpus folder or into a command.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from pathlib import PurePosixPath

from bot.ingest.decoding import decode_text, html_charset
from bot.ingest.loaders import SUPPORTED_SUFFIXES
from bot.errors import UploadError

MAX_NAME_CHARS = 120
_SHELL = set("$`;&|<>*?!\"'\\{}[]~^%#=")
_HTML = re.compile(r"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<meta\s|<title>|<p[\s>]|<div[\s>]", re.I)
_KINDS = {".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html", ".txt": "text", ".md": "text"}
_KIND_NAMES = {"pdf": "PDF", "docx": "Word（DOCX）", "html": "网页（HTML）", "text": "纯文本"}


def safe_name(name: str) -> str:
    """The file's own name without any folder; UploadError when it is empty, hidden or unsafe."""
    raw = (name or "").strip()
    if ".." in raw:
        raise UploadError(f"文件名不能包含“..”：{raw!r}")
    base = re.split(r"[/\\]", raw)[-1].strip()  # a browser may send C:\…\name or a/b/name
    if not base:
        raise UploadError("文件名为空")
    bad = sorted({c for c in base if unicodedata.category(c)[0] == "C" or c in _SHELL})
    if bad:
        shown = "、".join(repr(c) for c in bad)
        raise UploadError(f"文件名含有不允许的字符 {shown}：{base!r}（请只用中文、字母、数字、空格、-、_、.、括号）")
    if base.startswith((".", "-")):
        raise UploadError(f"文件名不能以“.”或“-”开头：{base!r}")
    if len(base) > MAX_NAME_CHARS:
        raise UploadError(f"文件名过长（{len(base)} 个字符，上限 {MAX_NAME_CHARS}）：{base[:20]}…")
    suffix = PurePosixPath(base).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES or not PurePosixPath(base).stem.strip():
        raise UploadError(f"不支持的文件类型：{base}（支持 PDF、DOCX、TXT、MD、HTML）")
    return base


def sniff(data: bytes) -> str | None:
    """What the bytes are: pdf, docx, html, text, or None (anything else)."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                return "docx" if "word/document.xml" in z.namelist() else None
        except zipfile.BadZipFile:
            return None
    try:
        text, _ = decode_text(data, html_charset(data))  # as ingest reads a page that declares its charset
    except ValueError:
        return None
    return "html" if _HTML.search(text[:4096]) else "text"


def check_size(name: str, size: int, max_bytes: int) -> str:
    """The safe file name, or UploadError when the name is unsafe or the file is empty or over the
    limit: checked on a file's size before its bytes are read."""
    base = safe_name(name)
    if not size:
        raise UploadError(f"{base}：文件为空（0字节）")
    if size > max_bytes:
        raise UploadError(f"{base}：文件过大（{size / 2**20:.1f} MB，上限 {max_bytes / 2**20:.0f} MB）")
    return base


def check_upload(name: str, data: bytes, max_bytes: int) -> str:
    """The safe file name for an upload, or UploadError naming the file and why it is refused."""
    base = check_size(name, len(data), max_bytes)
    expected = _KINDS[PurePosixPath(base).suffix.lower()]
    found = sniff(data)
    if found == expected or (expected == "text" and found == "html"):  # a .md or .txt may hold a tag
        return base
    what = _KIND_NAMES.get(found or "", "无法识别的二进制内容")
    raise UploadError(f"{base}：文件内容是{what}，与扩展名不符（应为{_KIND_NAMES[expected]}）")
