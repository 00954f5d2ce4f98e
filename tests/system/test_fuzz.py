"""Fuzzing the loaders and the clause parser: random text and bytes, and real PDFs/DOCX made here
then truncated, bit-flipped and spliced. Every call returns clauses or raises our own
PolicyBotError: never another exception, never a hang.

The budget is fixed (derandomised, a few hundred examples, ~20 s in all) so CI is stable; set
POLICYBOT_FUZZ_EXAMPLES to search longer locally.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.ingest.loaders import load_document
from bot.errors import PolicyBotError
from bot.records import Document, DocumentMeta
from bot.ingest.structure import parse_clauses

from .. import files

SCALE = int(os.environ.get("POLICYBOT_FUZZ_EXAMPLES", "0")) or None


def _budget(n: int):
    return settings(max_examples=SCALE or n, deadline=None, derandomize=SCALE is None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# Text that looks like a policy: markers the parser reacts to, mixed with anything at all.
MARKERS = ["第一章 总则", "第二节", "第一条 ", "第十二条　", "一、", "（一）", "(二)", "1.", "2、", "——", "标题: ",
           "文号: 黔科发〔2023〕7号", "成文日期: 2023-05-06", "（责任单位：市科技局）", "。", "\n", "\n\n", "\r\n",
           "\u3000", "\t", "《", "》", "\ufeff", "\x00", "\x0c", "\u2028", "\u202e"]
policy_text = st.lists(st.one_of(st.sampled_from(MARKERS), st.text(max_size=12)), max_size=40).map("".join)


def _loads_or_refuses(path: Path) -> None:
    try:
        doc = load_document(path)
    except PolicyBotError:
        return
    clauses = parse_clauses(doc)
    assert clauses, "a loaded document has at least one clause"
    for clause in clauses:
        assert clause.text.strip() and doc.text[clause.start - doc.body_offset : clause.end - doc.body_offset] == clause.text


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@functools.cache
def samples() -> dict[str, bytes]:
    """One real PDF (reportlab, CJK font, 3 pages) and one real DOCX (python-docx, with a table)."""
    pages = [[f"第{page * 2 + 1}条 为支持企业研发，制定本办法。", f"第{page * 2 + 2}条 补助不超过100万元。"] for page in range(3)]
    paragraphs = ["甲市研发补助办法", "第一条 为支持企业研发，制定本办法。", "第二条 补助不超过100万元。", "第三条 施行。"]
    return {".pdf": files.pdf(pages, title="甲市研发补助办法"),
            ".docx": files.docx(paragraphs, table=[["条件", ""], ["", "研发投入"]])}


# --- the parser alone ------------------------------------------------------------------------------

@_budget(300)
@given(text=policy_text)
def test_the_parser_splits_any_text_losslessly_into_unique_clauses(text):
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    doc = Document(slug="fuzz", path="fuzz.txt", text=body, meta=DocumentMeta(title="甲市研发补助办法"),
                   sha256="", body_offset=0)
    clauses = parse_clauses(doc)
    ids = [c.id for c in clauses]
    assert len(ids) == len(set(ids))
    assert re.sub(r"\s", "", "".join(c.text for c in clauses)) == re.sub(r"\s", "", body)
    for a, b in zip(clauses, clauses[1:]):
        assert a.end <= b.start


# --- the loaders on random input -------------------------------------------------------------------

@_budget(150)
@given(text=policy_text, suffix=st.sampled_from([".txt", ".md", ".html", ".htm"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
def test_any_text_file_loads_or_is_refused_with_our_error(scratch, text, suffix, encoding):
    path = scratch / f"text{suffix}"
    path.write_bytes(text.encode(encoding, errors="replace"))
    _loads_or_refuses(path)


@_budget(150)
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".txt", ".md", ".html", ".pdf", ".docx"]))
def test_random_bytes_under_any_supported_suffix_load_or_are_refused(scratch, data, suffix):
    path = scratch / f"bytes{suffix}"
    path.write_bytes(data)
    _loads_or_refuses(path)


SCRIPTS = ["<script>恶意脚本</script>", "<script type='text/javascript'>document.write('恶意脚本')",
           "<style>p::after{content:'恶意脚本'}</style>", "<noscript>恶意脚本</noscript>", "<!-- 恶意脚本 -->"]
HTML_PARTS = ["<p>", "</p>", "</script>", "<style>", "</style>", "<!--", "-->", "<br>", "<table><tr><td>",
              "</td></tr></table>", "<pre>", "</pre>", "<meta charset='gbk'>", "<h1>", "&nbsp;", "<template>",
              "</template>", "<div class='a'>", "</div>"]
plain = st.text(alphabet=st.characters(blacklist_characters="<>&", blacklist_categories=("Cs",)), max_size=8)  # markup comes only from the lists


@_budget(100)
@given(html=st.lists(st.one_of(st.sampled_from(SCRIPTS), st.sampled_from(HTML_PARTS), st.sampled_from(MARKERS), plain),
                     max_size=40).map("".join))
def test_any_html_loads_without_script_text_or_is_refused(scratch, html):
    path = scratch / "page.html"
    path.write_text(html, encoding="utf-8")
    try:
        doc = load_document(path)
    except PolicyBotError:
        return
    assert "恶意脚本" not in doc.text


# --- real PDFs and DOCX, damaged -------------------------------------------------------------------

damage = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1), st.just(b"")),
    st.tuples(st.just("flip"), st.floats(0, 1), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("splice"), st.floats(0, 1), st.binary(max_size=64)),
    st.tuples(st.just("cut-middle"), st.floats(0, 1), st.binary(max_size=0)),
)


def _damaged(data: bytes, kind: str, where: float, payload: bytes) -> bytes:
    at = int(where * (len(data) - 1))
    if kind == "truncate":
        return data[:at]
    if kind == "flip":
        return data[:at] + bytes(b ^ 0xFF if i % 2 else b for i, b in enumerate(payload)) + data[at + len(payload):]
    if kind == "splice":  # inserted bytes, or a piece of the file repeated elsewhere
        return data[:at] + (payload or data[at // 2 : at]) + data[at:]
    return data[: at // 2] + data[at:]


@_budget(250)
@given(suffix=st.sampled_from([".pdf", ".docx"]), hits=st.lists(damage, min_size=1, max_size=4))
def test_a_damaged_pdf_or_docx_loads_what_it_can_or_is_refused(scratch, suffix, hits):
    data = samples()[suffix]
    for kind, where, payload in hits:
        data = _damaged(data, kind, where, payload)
    path = scratch / f"damaged{suffix}"
    path.write_bytes(data)
    _loads_or_refuses(path)


def test_the_undamaged_samples_load(scratch):
    """The fuzzed files start from documents that load, so refusals above are about the damage."""
    for suffix, first in ((".pdf", ["第1条", "第2条"]), (".docx", ["第一条", "第二条"])):
        path = scratch / f"whole{suffix}"
        path.write_bytes(samples()[suffix])
        assert [c.path for c in parse_clauses(load_document(path)) if c.kind == "article"][:2] == first
