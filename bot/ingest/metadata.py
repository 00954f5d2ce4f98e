"""Document metadata: the header block, title, 文号, issuer, date and source of a decoded policy text.

A loader reduces every format to one full text plus hints (a PDF's or page's own title, a gov site's
<meta> date); `assemble_document` splits off the `key: value` header and infers what the header lacks
from the body, so a notice gets the same metadata whatever format it arrived in.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from bot.errors import DocumentError
from bot.ingest.decoding import CJK
from bot.records import Document, DocumentMeta
from bot.text.numerals import NUMERAL_CHARS, iso_date

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


def short_doc_number(meta: DocumentMeta) -> str:
    """The first 文号-looking token of meta.doc_number: our header values carry history after it."""
    match = _DOC_NO.search(meta.doc_number)
    if not match:
        return ""
    token = match.group(0).strip()
    # A decree found mid-sentence ("修正决定以国务院令…") may drag in the word before it.
    return re.sub(r"^[以经由依按见及和与据为](?=\S*(?:国务院|主席|部|局|委|院|署|行)令)", "", token)


def assemble_document(path: Path, data: bytes, full: str, hints: dict, warnings: list[str], web: bool) -> Document:
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
            and len(CJK.findall(line)) >= 2 and not iso_date(line, whole=True)
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
