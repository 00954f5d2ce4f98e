"""Loaders: turn a policy file (.txt .md .pdf .html .docx) into a Document with its metadata.

Every format is reduced to one decoded full text; the same header parsing and metadata inference
then run on it, so a notice behaves the same whether it arrives as GBK text, a PDF or a web page.
Anything the user can fix (wrong file, encrypted, scanned, garbled) becomes a DocumentError with a
one-line Chinese reason; parser libraries are imported only when a file of their kind is loaded.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import stat
import statistics
import unicodedata
import warnings as warnings_module
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from bot.errors import DocumentError
from bot.records import Document, DocumentMeta
from bot.text.numerals import NUMERAL_CHARS, iso_date

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
_HEADER_FIELDS = {"标题": "title", "文号": "doc_number", "发文字号": "doc_number", "发布机关": "issuer",
                  "发文机关": "issuer", "发布者": "issuer", "成文日期": "date", "发布时间": "published",
                  "来源": "source"}
_HEADER_LINE = re.compile(rf"[ \t\u3000]*({'|'.join(_HEADER_FIELDS)})[ \t\u3000]*[:：][ \t\u3000]*(.*?)[ \t\u3000]*")
_BLANK_LINES = re.compile(r"(?:[ \t\u3000\xa0]*\n)*")
_DOC_NO_BRACKET = r"[\u4e00-\u9fffA-Za-z]{1,12}\s*[〔\[【［(（]\s*\d{4}\s*[〕\]】］)）]\s*第?\s*\d+\s*号"
_DOC_NO = re.compile(
    _DOC_NO_BRACKET
    + rf"|(?:中华人民共和国)?[\u4e00-\u9fff]{{1,10}}?令第[{NUMERAL_CHARS}\d]+号"
    + r"|[\u4e00-\u9fff]{1,12}(?: [\u4e00-\u9fff]{1,12})*公告\d{4}年第\d+号")
_ATTACHMENT = re.compile(r"现将[^《\n。]{0,30}((?:《[^《》\n]{2,100}》[、和及]?)+)[^。\n]{0,40}?印发")
_PAGE_NUMBER = re.compile(r"[-—–－~～\s]*\d{1,4}[-—–－~～\s]*|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
                          r"|\d{1,4}\s*/\s*\d{1,4}")
_CID = re.compile(r"\(cid:\d+\)")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SYMBOL = re.compile(r"[\u2000-\u2bff\u3000-\u303f\uff00-\uffef×÷·°±§¥]")  # 、〔〕①—…, full-width forms
# Characters frequent in any policy text. Wrong glyph-to-code maps produce rare CJK instead.
_COMMON_CJK = set(
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产"
    "种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从"
    "业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反明看原又么利"
    "比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文"
    "总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干"
    "做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共"
    "权收证改清己美再采转更单风切打白教速花带安场车例真务具万每目至达走积示议声报斗完类八离华名确才科张信"
    "马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连"
    "断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存"
    "候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严企创"
    "策励依施税额奖补助申请评审核落服综推")


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
    return _assemble(path, data, full, hints, warnings, web=suffix in (".html", ".htm"))


def short_doc_number(meta: DocumentMeta) -> str:
    """The first 文号-looking token of meta.doc_number: our header values carry history after it."""
    match = _DOC_NO.search(meta.doc_number)
    if not match:
        return ""
    token = match.group(0).strip()
    # A decree found mid-sentence ("修正决定以国务院令…") may drag in the word before it.
    return re.sub(r"^[以经由依按见及和与据为](?=\S*(?:国务院|主席|部|局|委|院|署|行)令)", "", token)


def looks_garbled(text: str, typical_cjk_share: float | None = None) -> bool:
    """Whether extracted PDF page text is mojibake rather than words.

    Fonts without a ToUnicode map (common with 公文 fonts) yield replacement characters, `(cid:NN)`
    runs, private-use or control characters, letters of unrelated scripts, or rare CJK characters;
    a page whose CJK share is far below the document's typical page is suspect too.
    """
    cids = len(_CID.findall(text))
    chars = [c for c in _CID.sub("", text) if not c.isspace() and not c.isdigit()]
    n = len(chars)
    if cids >= 3 and cids > 0.05 * (n + cids):
        return True
    if n < 4:
        return False
    cjk = [c for c in chars if _CJK.match(c)]
    odd = sum(1 for c in chars if not (c.isascii() or _CJK.match(c) or _SYMBOL.match(c)))
    unmapped = sum(1 for c in chars if c == "\ufffd" or unicodedata.category(c) in ("Co", "Cc"))
    if unmapped > 0.05 * n or odd > 0.2 * n:
        return True
    if len(cjk) >= 30 and sum(1 for c in cjk if c in _COMMON_CJK) < 0.2 * len(cjk):
        return True  # codes read as CJK, but not the characters real prose is made of
    return (typical_cjk_share is not None and typical_cjk_share >= 0.4 and n >= 20
            and len(cjk) / n < typical_cjk_share / 4)


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


def html_charset(data: bytes) -> str | None:
    """The charset a page declares in a <meta> tag within its first 4 KB, lower-cased."""
    declared = re.search(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", data[:4096], re.IGNORECASE)
    return declared.group(1).decode().lower() if declared else None


def decode_text(data: bytes, declared: str | None = None) -> tuple[str, list[str]]:
    """Text bytes decoded, with warnings: a BOM's UTF-16, else the declared charset, UTF-8 (BOM or
    not), then GB18030, which covers GBK/GB2312. ValueError (the reason, in Chinese) when the bytes
    are not text. Upload checks use it too, so an upload is refused exactly when ingest would be."""
    warnings: list[str] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Notepad's "Unicode"
        encodings = ["utf-16"]
    elif b"\x00" in data:
        raise ValueError("不是文本文件（含NUL字节，可能是二进制文件被改了扩展名）")
    else:
        encodings = ["utf-8-sig", "gb18030"]
        if declared in ("gb2312", "gbk", "x-gbk", "cp936"):
            encodings.insert(0, "gb18030")
        elif declared and declared not in ("utf-8", "utf8", "iso-8859-1", "windows-1252", "ascii", "us-ascii"):
            encodings.insert(0, declared)  # Latin-1 never fails, so a wrong Latin-1 label must not win
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if encoding != "gb18030" or not looks_garbled(text[:20000]):  # Big5 or random bytes pass as GB18030
            break
    else:
        text = data.decode("utf-8-sig", errors="replace")
        bad = text.count("\ufffd")
        if bad > max(1, len(text) // 1000):
            raise ValueError("不是文本文件（既不是UTF-8也不是GBK/GB18030编码的文字）")
        warnings.append(f"文件含{bad}处无效的UTF-8字节，已替换为�")
    controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\t\n\r\f\v")
    if controls > len(text) * 0.02:
        raise ValueError("不是文本文件（控制字符过多，可能是二进制文件）")
    return text, warnings


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _assemble(path: Path, data: bytes, full: str, hints: dict, warnings: list[str], web: bool) -> Document:
    """Split off the header block, infer the metadata, and build the Document."""
    header, lead, offset = _split_header(full)
    body = full[offset:].rstrip()
    if not body:
        raise DocumentError(path, "只有头部信息，没有正文" if header or lead else "没有可提取的正文文字")
    lines = [_clean_title(line) for line in body.split("\n") if line.strip()]
    first = lines[0] if lines and _title_like(lines[0]) else ""
    title = (header.get("title") or _attachment_title(body, lines) or (web and hints.get("title"))
             or lead or first or hints.get("title", ""))
    date = (iso_date(header.get("date", ""))
            or next((d for line in lines if (d := iso_date(line, whole=True))), "")
            or iso_date(header.get("published", "")) or iso_date(hints.get("date", "")))
    number = header.get("doc_number") or next(
        (line for line in lines[:30] if re.fullmatch(_DOC_NO_BRACKET, line)), "")
    issuer = header.get("issuer") or _issuer_from_title(lead or first or hints.get("title", ""))
    meta = DocumentMeta(title=title, doc_number=number, issuer=issuer, date=date,
                        source=header.get("source") or hints.get("source", ""))
    if not title:
        warnings.append("未识别出文档标题")
    return Document(slug=path.stem, path=str(path), text=body, meta=meta,
                    sha256=hashlib.sha256(data).hexdigest(), body_offset=offset, warnings=tuple(warnings))


def _split_header(full: str) -> tuple[dict[str, str], str, int]:
    """The leading `key: value` block (optionally after one title line): fields, title line, body offset."""
    lines = full.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    i = next((k for k, line in enumerate(lines) if line.strip()), len(lines))
    lead = ""
    if (i + 1 < len(lines) and not _HEADER_LINE.fullmatch(lines[i])
            and _HEADER_LINE.fullmatch(lines[i + 1])):
        lead, i = _clean_title(lines[i]), i + 1
    fields: dict[str, str] = {}
    j = i
    while j < len(lines) and (match := _HEADER_LINE.fullmatch(lines[j])):
        if match.group(2):
            fields.setdefault(_HEADER_FIELDS[match.group(1)], match.group(2))
        j += 1
    if j == i:
        return {}, "", _BLANK_LINES.match(full).end()
    end = min(starts[j], len(full))
    return fields, lead, _BLANK_LINES.match(full, end).end()


def _clean_title(line: str) -> str:
    return re.sub(r"^#+\s*", "", line.strip())


def _title_like(line: str) -> bool:
    return (2 <= len(line) <= 100 and "。" not in line and not line.endswith((":", "："))
            and len(_CJK.findall(line)) >= 2 and not iso_date(line, whole=True)
            and not re.fullmatch(_DOC_NO_BRACKET, line))


def _attachment_title(body: str, lines: list[str]) -> str:
    """现将《X》印发…: a notice that issues X is filed under X when X's own text follows."""
    match = _ATTACHMENT.search(body[:5000])
    if not match:
        return ""
    standalone = {line.strip("《》") for line in lines}
    return next((t for t in re.findall(r"《([^《》]+)》", match.group(1)) if t in standalone), "")


def _issuer_from_title(title: str) -> str:
    match = (re.match(r"([^《》，。,:：]{2,40}?)(?:关于(?:修订|重新)?)?印发", title)
             or re.match(r"([^《》，。,:：]{2,40}?)关于.+的(?:通知|决定|意见|批复|通告|公告|函)$", title))
    return match.group(1).strip(" 、") if match else ""


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
    return len(_CJK.findall("".join(chars))) / len(chars) if chars else 0.0


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
