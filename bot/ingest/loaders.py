"""Loaders: turn a policy file (.txt .md .pdf .html .docx) into a Document with its metadata.

Every format is reduced to one decoded full text; the same metadata inference (bot/ingest/metadata.py)
then runs on it, so a notice behaves the same whether it arrives as GBK text, a PDF or a web page.
Anything the user can fix (wrong file, encrypted, scanned, garbled) becomes a DocumentError with a
one-line Chinese reason; parser libraries are imported only when a file of their kind is loaded.
"""

from __future__ import annotations

import io
import logging
import os
import re
import stat
import statistics
import warnings as warnings_module
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from bot.errors import DocumentError
from bot.ingest.decoding import CJK, decode_text, html_charset, looks_garbled
from bot.ingest.metadata import assemble_document
from bot.records import Document

SUPPORTED_SUFFIXES = (".txt", ".md", ".pdf", ".html", ".htm", ".docx")
_MB = 1024 * 1024
MAX_PDF_PAGES = 1000  # text extraction is ~2 ms a short page, far more on dense ones: bound the wait
# A DOCX is a zip of XML, which compresses ~5-20x; far beyond that is a zip bomb, refused unread.
DOCX_MAX_UNPACKED = 200 * _MB
DOCX_MAX_RATIO = 200

# Control characters (terminal escapes, NULs from PDFs) and bidi overrides, which can make shown
# text read differently from what is stored, become spaces; the line breaks str.splitlines knows
# become "\n". Same length, so clause offsets still point into the text.
_NEUTRALISE = {c: " " for c in [*range(0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
               if chr(c) not in "\t\n"} | {ord(c): "\n" for c in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}
_PAGE_NUMBER = re.compile(r"[-—–－~～\s]*\d{1,4}[-—–－~～\s]*|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
                          r"|\d{1,4}\s*/\s*\d{1,4}")


def load_document(path: str | os.PathLike[str], *, max_bytes: int = 20 * _MB, max_pages: int = MAX_PDF_PAGES) -> Document:
    """Load one policy file; the suffix picks the reader. Raises DocumentError for user-fixable problems."""
    if max_bytes <= 0 or max_pages <= 0:
        raise ValueError(f"max_bytes and max_pages must be positive, got {max_bytes}, {max_pages}")
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise DocumentError(path, "文件不存在或在读取时被移走")
    if suffix not in SUPPORTED_SUFFIXES:
        hint = "，请先另存为.docx" if suffix in (".doc", ".wps") else ""
        supported = " ".join(SUPPORTED_SUFFIXES)
        raise DocumentError(path, f"不支持的文件类型“{suffix or '无扩展名'}”（支持 {supported}）{hint}")
    data = _read_bytes(path, max_bytes)
    if not data:
        raise DocumentError(path, "文件为空（0字节）")
    warnings: list[str] = []
    hints: dict[str, str] = {}
    if suffix == ".pdf":
        full = _pdf_text(path, data, hints, warnings, max_pages)
    elif suffix == ".docx":
        full = _docx_text(path, data, hints)
    elif suffix in (".html", ".htm"):
        full = _html_text(path, data, hints, warnings)
    else:
        full = _decode_text(path, data, warnings)
        if not full.strip():
            raise DocumentError(path, "文件只有空白字符，没有正文")
    full = _normalise_newlines(full).translate(_NEUTRALISE)
    return assemble_document(path, data, full, hints, warnings, web=suffix in (".html", ".htm"))


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    """Read the file, refusing oversized ones by stat before a byte is read."""
    try:
        info = path.stat()
        _check_regular(path, info.st_mode)
        if info.st_size > max_bytes:
            raise DocumentError(path, f"文件过大（{_size(info.st_size)}，上限 {_size(max_bytes)}）")
        # O_NONBLOCK: should a pipe take the file's place after the stat, opening it does not wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with open(fd, "rb") as handle:
            _check_regular(path, os.fstat(fd).st_mode)
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise DocumentError(path, "文件不存在或在读取时被移走") from None
    except PermissionError:
        raise DocumentError(path, "没有读取该文件的权限") from None
    if len(data) > max_bytes:  # grew between stat and read
        raise DocumentError(path, f"文件过大（超过上限 {_size(max_bytes)}）")
    return data


def _check_regular(path: Path, mode: int) -> None:
    """Refuse a folder, pipe, device or socket: reading a pipe or a terminal waits forever."""
    if stat.S_ISDIR(mode):
        raise DocumentError(path, "这是一个文件夹，不是文件")
    if not stat.S_ISREG(mode):
        raise DocumentError(path, "不是普通文件（管道、设备或套接字），未读取")


def _size(n: int) -> str:
    unit, scale = ("MB", _MB) if n >= _MB else ("KB", 1024)
    return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"


def _decode_text(path: Path, data: bytes, warnings: list[str], declared: str | None = None) -> str:
    try:
        text, notes = decode_text(data, declared)
    except ValueError as exc:
        raise DocumentError(path, str(exc)) from None
    warnings.extend(notes)
    return text


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs every repair it attempts on a damaged file; the user gets our one line instead."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings_module.catch_warnings():
            warnings_module.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _pdf_text(path: Path, data: bytes, hints: dict, warnings: list[str], max_pages: int = MAX_PDF_PAGES) -> str:
    with _quiet_pypdf():
        return _pdf_pages_text(path, data, hints, warnings, max_pages)


def _pdf_pages_text(path: Path, data: bytes, hints: dict, warnings: list[str], max_pages: int) -> str:
    """Text of the readable pages: page-number lines dropped, garbled pages skipped with a warning."""
    import zlib

    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    # A damaged file surfaces from pypdf's parser as any of these (tests/system/test_fuzz.py damages real PDFs).
    damaged = (PyPdfError, ValueError, KeyError, IndexError, TypeError, AttributeError, AssertionError,
               ArithmeticError, RecursionError, EOFError, NotImplementedError, zlib.error)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(path, "PDF已加密，请先解除密码保护")
        count = len(reader.pages)
        if count > max_pages:
            raise DocumentError(path, f"PDF页数过多（{count}页，上限 {max_pages} 页，可用 POLICYBOT_MAX_PDF_PAGES 调整），请拆分后再导入")
        pages = list(reader.pages)
        title = reader.metadata.title if reader.metadata else None
    except DependencyError:
        raise DocumentError(path, "PDF用AES加密，读取需要 cryptography 包（pip install cryptography）") from None
    except damaged as exc:
        raise DocumentError(path, f"PDF文件已损坏，无法读取（{_describe(exc)}）") from None
    if isinstance(title, str) and title.strip():
        title = re.sub(r"^Microsoft Word - |\.(?:docx?|wps|pdf)$", "", title.strip(), flags=re.I)
        hints["title"] = title.strip()
    texts: list[tuple[int, str]] = []
    failures = []
    for number, page in enumerate(pages, 1):
        try:
            raw = page.extract_text() or ""
        except damaged as exc:
            failures.append(exc)
            warnings.append(f"第{number}页无法读取（{_describe(exc)}），已跳过")
            continue
        text = "\n".join(line for line in _normalise_newlines(raw).split("\n")
                          if not _PAGE_NUMBER.fullmatch(line.strip())).strip("\n")
        if text.strip():
            texts.append((number, text))
        else:
            warnings.append(f"第{number}页没有文字层（扫描页或空白页），已跳过")
    if not texts:
        if pages and len(failures) == len(pages):
            raise DocumentError(path, f"PDF文件已损坏，无法读取（{_describe(failures[0])}）")
        raise DocumentError(path, "扫描版PDF没有文字层：请先OCR再导入")
    shares = [_cjk_share(t) for _, t in texts if not looks_garbled(t)]
    typical = statistics.median(shares) if shares else None
    kept = []
    for number, text in texts:
        if looks_garbled(text, typical):
            warnings.append(f"第{number}页文字乱码（字体缺少ToUnicode映射？），已跳过")
        else:
            kept.append(text)
    if not kept:
        raise DocumentError(path, "PDF每一页的文字都是乱码（字体缺少ToUnicode映射）：请先OCR再导入")
    return "\n".join(kept)


def _cjk_share(text: str) -> float:
    chars = [c for c in text if not c.isspace() and not c.isdigit()]
    return len(CJK.findall("".join(chars))) / len(chars) if chars else 0.0


def _describe(exc: BaseException) -> str:
    """A short one-line cause, in Chinese where we recognise it."""
    message = " ".join(str(exc).split())
    if "ended unexpectedly" in message or "EOF" in message:
        return "文件不完整，可能下载或复制未完成"
    return f"{type(exc).__name__}: {message}"[:120]


def _docx_text(path: Path, data: bytes, hints: dict) -> str:
    """Paragraphs and tables in document order; a table row is one line, cells joined by a tab."""
    import zipfile
    import zlib

    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from lxml.etree import XMLSyntaxError

    # A damaged package surfaces from zipfile/python-docx as any of these (tests/system/test_fuzz.py damages real DOCX).
    damaged = (KeyError, PackageNotFoundError, XMLSyntaxError, ValueError, AttributeError, TypeError,
               IndexError, EOFError, NotImplementedError, zlib.error, zipfile.LargeZipFile)
    try:
        _check_zip_sizes(path, zipfile.ZipFile(io.BytesIO(data)))
        document = docx.Document(io.BytesIO(data))
        return _docx_lines(document, hints, Table)
    except zipfile.BadZipFile as exc:
        if "File is not a zip file" in str(exc):
            raise DocumentError(path, "不是有效的DOCX文件（不是zip格式，可能是旧版.doc或改了扩展名）") from None
        raise DocumentError(path, f"DOCX文件已损坏（{_describe(exc)}）") from None
    except damaged as exc:
        raise DocumentError(path, f"不是有效的DOCX文件（{_describe(exc)}）") from None


def _check_zip_sizes(path: Path, archive) -> None:
    """Refuse a zip bomb from the sizes its directory declares (zipfile never reads past them)."""
    unpacked = sum(info.file_size for info in archive.infolist())
    packed = sum(info.compress_size for info in archive.infolist())
    if unpacked > DOCX_MAX_UNPACKED:
        raise DocumentError(path, f"DOCX解压后过大（{_size(unpacked)}，上限 {_size(DOCX_MAX_UNPACKED)}），可能是压缩炸弹")
    if unpacked > _MB and unpacked > DOCX_MAX_RATIO * max(packed, 1):
        raise DocumentError(path, f"DOCX压缩比异常（{unpacked // max(packed, 1)}倍），可能是压缩炸弹，已拒绝读取")


def _docx_lines(document, hints: dict, Table) -> str:
    lines = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells, seen = [], set()
                for cell in row.cells:  # a merged cell repeats once per grid column
                    if id(cell._tc) not in seen:
                        seen.add(id(cell._tc))
                        cells.append(" ".join(cell.text.split()))
                lines.append("\t".join(cells))
        else:
            lines.append(block.text)
    hints["title"] = (document.core_properties.title or "").strip()
    return "\n".join(lines)


_DROPPED_TAGS = ["script", "style", "noscript", "nav", "header", "footer", "form", "template"]
_BLOCK_TAGS = ["address", "article", "aside", "blockquote", "caption", "center", "dd", "div", "dl", "dt",
               "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "main", "ol", "p",
               "pre", "section", "table", "tbody", "thead", "tr", "ul"]


def _html_text(path: Path, data: bytes, hints: dict, warnings: list[str]) -> str:
    """Visible article text, one block element a line; titles and dates from the gov-site <meta> tags."""
    from bs4 import BeautifulSoup, NavigableString

    text = _decode_text(path, data, warnings, html_charset(data))
    soup = BeautifulSoup(text, "lxml")

    def meta(name: str) -> str:
        tag = soup.find("meta", attrs={"name": re.compile(f"^{name}$", re.I)})
        return " ".join((tag.get("content") or "").split()) if tag else ""

    for tag in soup(_DROPPED_TAGS):
        tag.decompose()
    h1, title_tag = soup.find("h1"), soup.find("title")
    hints["title"] = (meta("ArticleTitle") or (h1 and h1.get_text(" ", strip=True))
                      or (title_tag and re.split(r"_| - |\|", title_tag.get_text(strip=True))[0].strip()) or "")
    hints["date"], hints["source"] = meta("PubDate"), meta("ContentSource")
    root = soup.body or soup
    for string in list(root.find_all(string=True)):
        if type(string) is NavigableString and not string.find_parent("pre"):
            string.replace_with(re.sub(r"[ \t\r\n\f\v\xa0]+", " ", str(string)))  # &nbsp; too
    for br in root.find_all("br"):
        br.replace_with("\n")
    for cell in root.find_all(["td", "th"]):
        cell.insert_after("\t")
    for block in root.find_all(_BLOCK_TAGS):
        block.insert_before("\n")
        block.insert_after("\n")
    lines = (re.sub(r" *\t *", "\t", line).strip() for line in root.get_text().split("\n"))
    return "\n".join(line for line in lines if line)


def staging_root(corpus_dir: Path) -> Path:
    """Where uploads wait for their ingest: beside the corpus (same disk, so moving in is a rename)."""
    corpus = Path(corpus_dir).resolve()
    return corpus.parent / f".{corpus.name}-staging"
