"""Loaders, tested on real files made here: GBK text, PDFs from reportlab, pages with broken fonts, DOCX, HTML."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from bot.ingest.decoding import looks_garbled
from bot.ingest.loaders import SUPPORTED_SUFFIXES, load_document
from bot.ingest.metadata import short_doc_number
from bot.errors import DocumentError
from bot.records import DocumentMeta

from .. import files

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
GUIZHOU_TITLE = "关于推进全省高新技术产业开发区高质量发展的实施方案"
NOTICE = (
    "标题: 贵州省高新区企业研发补助办法\n"
    "文号: 黔科发〔2023〕7号\n"
    "发布机关: 贵州省科学技术厅\n"
    "成文日期: 2023-05-06\n"
    "\n"
    "第一条 为支持企业加大研发投入，制定本办法。\n"
    "第二条 对研发费用增长的企业给予不超过100万元补助。\n"
)


# --- helpers that make real files ---------------------------------------------------------------

def add_garbled_page(writer, index: int) -> None:
    """Insert a page set in an embedded-style Identity-H font with no ToUnicode map, as 公文 PDFs often are.

    The content stream holds glyph ids, so text extraction can only guess characters from the codes.
    """
    from pypdf import PageObject
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    name = NameObject("/ABCDEF+FZXiaoBiaoSong-B05S")
    descendant = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/CIDFontType2"),
        NameObject("/BaseFont"): name,
        NameObject("/CIDSystemInfo"): DictionaryObject({
            NameObject("/Registry"): TextStringObject("Adobe"), NameObject("/Ordering"): TextStringObject("Identity"),
            NameObject("/Supplement"): NumberObject(0)}),
        NameObject("/FontDescriptor"): DictionaryObject({
            NameObject("/Type"): NameObject("/FontDescriptor"), NameObject("/FontName"): name,
            NameObject("/Flags"): NumberObject(4)}),
    })
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type0"),
        NameObject("/BaseFont"): name, NameObject("/Encoding"): NameObject("/Identity-H"),
        NameObject("/DescendantFonts"): ArrayObject([descendant]),
    })
    rng = random.Random(index)
    rows = ["".join(f"{rng.randint(3, 2000):04X}" for _ in range(30)) for _ in range(5)]
    content = DecodedStreamObject()
    content.set_data(("BT /F1 16 Tf 60 780 Td " + " ".join(f"<{r}> Tj 0 -24 Td" for r in rows) + " ET").encode())
    page = PageObject.create_blank_page(writer, 595, 842)
    fonts = DictionaryObject({NameObject("/F1"): font})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
    page.replace_contents(content)
    writer.insert_page(page, index)


def write_pdf(writer) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


PARAGRAPHS = ["贵州省科学技术厅关于印发高新区企业研发补助办法的通知", "黔科发〔2023〕7号",
              "第一条 为支持企业加大研发投入，制定本办法。", "二〇二三年五月六日"]


# --- plain text and the shipped corpus ----------------------------------------------------------

CORPUS_EXPECTED = [
    ("enterprise-income-tax-law-2018.txt", "中华人民共和国企业所得税法",
     "中华人民共和国主席令第六十三号", "2018-12-29"),
    ("enterprise-income-tax-law-implementing-regulations-2024.txt", "中华人民共和国企业所得税法实施条例",
     "中华人民共和国国务院令第512号", "2024-12-06"),
    ("guizhou-hitech-zones-plan-2021.txt", GUIZHOU_TITLE, "黔科领发〔2021〕1号", "2021-11-13"),
    ("hitech-enterprise-recognition-measures-2016-32.txt", "高新技术企业认定管理办法",
     "国科发火〔2016〕32号", "2016-01-29"),
    ("promoting-sci-tech-achievements-transformation-law-2015.txt", "中华人民共和国促进科技成果转化法",
     "中华人民共和国主席令第三十二号", "2015-08-29"),
    ("sci-tech-progress-law-2021.txt", "中华人民共和国科学技术进步法", "中华人民共和国主席令第一〇三号", "2021-12-24"),
]


def test_every_corpus_file_is_covered_by_the_expectations():
    assert sorted(p.name for p in CORPUS.iterdir() if p.suffix in SUPPORTED_SUFFIXES and not p.name.startswith("README")) == sorted(
        name for name, *_ in CORPUS_EXPECTED)


@pytest.mark.parametrize("name,title,number,date", CORPUS_EXPECTED)
def test_corpus_file_loads_with_title_number_date_and_a_body_without_header(name, title, number, date):
    path = CORPUS / name
    document = load_document(path)
    full = path.read_text(encoding="utf-8")
    assert (document.meta.title, short_doc_number(document.meta), document.meta.date) == (title, number, date)
    assert document.slug == path.stem and document.warnings == ()
    assert full[document.body_offset:document.body_offset + len(document.text)] == document.text
    for key in ("标题:", "文号:", "发布机关:", "成文日期:", "来源:", "发布者:", "发布时间:"):
        assert key not in document.text
    assert document.text.strip() and not document.text[0].isspace()


def test_guizhou_notice_is_filed_under_the_plan_it_issues_with_number_date_and_issuer():
    document = load_document(CORPUS / "guizhou-hitech-zones-plan-2021.txt")
    assert document.meta == DocumentMeta(title=GUIZHOU_TITLE, doc_number="黔科领发〔2021〕1号",
                                         issuer="贵州省科技创新领导小组", date="2021-11-13")
    assert not document.text.startswith("贵州省科技创新领导小组印发")
    assert document.text.startswith("黔科领发〔2021〕1号")


def test_gbk_text_is_decoded_and_its_header_parsed(tmp_path):
    path = tmp_path / "gbk-notice.txt"
    path.write_bytes(NOTICE.replace("\n", "\r\n").encode("gbk"))
    document = load_document(path)
    assert document.meta == DocumentMeta(title="贵州省高新区企业研发补助办法", doc_number="黔科发〔2023〕7号",
                                         issuer="贵州省科学技术厅", date="2023-05-06")
    assert document.text == NOTICE.split("\n\n", 1)[1].rstrip()
    assert "\r" not in document.text


def test_utf8_with_bom_loses_the_bom_and_keeps_offsets_into_the_decoded_text(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + NOTICE.encode("utf-8"))
    document = load_document(path)
    assert document.meta.title == "贵州省高新区企业研发补助办法"
    assert NOTICE[document.body_offset:].startswith(document.text)


def test_notepad_utf16_text_is_read(tmp_path):
    path = tmp_path / "utf16.txt"
    path.write_bytes(NOTICE.encode("utf-16"))
    assert load_document(path).meta.doc_number == "黔科发〔2023〕7号"


def test_without_header_title_number_date_and_issuer_come_from_the_text(tmp_path):
    path = tmp_path / "bare.md"
    path.write_text("# 贵州省科学技术厅关于印发研发补助办法的通知\n\n黔科发[2023]7号\n\n"
                    "现将《研发补助办法》印发给你们。\n\n二〇二三年五月六日\n\n"
                    "研发补助办法\n\n第一条 为支持研发，制定本办法。\n", encoding="utf-8")
    meta = load_document(path).meta
    assert meta == DocumentMeta(title="研发补助办法", doc_number="黔科发[2023]7号",
                                issuer="贵州省科学技术厅", date="2023-05-06")


def test_a_few_bad_utf8_bytes_are_replaced_with_a_chinese_warning(tmp_path):
    path = tmp_path / "damaged.txt"
    path.write_bytes(NOTICE.encode("utf-8") * 20 + b"\xff" + "第三条 完。".encode())
    document = load_document(path)
    assert "\ufffd" in document.text and document.warnings == ("文件含1处无效的UTF-8字节，已替换为�",)


@pytest.mark.parametrize("value,expected", [
    ("中华人民共和国国务院令第512号（2007年公布）；2019年修订（国务院令第714号）", "中华人民共和国国务院令第512号"),
    ("国科发火〔2016〕32号（附件）", "国科发火〔2016〕32号"),
    ("本文件为修正后的现行文本（修正决定以中华人民共和国主席令第三十二号公布）", "中华人民共和国主席令第三十二号"),
    ("财政部 税务总局公告2023年第7号", "财政部 税务总局公告2023年第7号"),
    ("黔府办发【2022】15号", "黔府办发【2022】15号"),
    ("现行有效", ""),
])
def test_short_doc_number_takes_the_first_number_looking_token(value, expected):
    assert short_doc_number(DocumentMeta(doc_number=value)) == expected


# --- PDF ------------------------------------------------------------------------------------------

def test_pdf_chinese_text_is_extracted_without_page_number_lines(tmp_path):
    path = tmp_path / "measures.pdf"
    path.write_bytes(files.pdf([
        ["高新区企业研发补助办法", "黔科发〔2023〕7号", "第一条 为支持企业加大研发投入，制定本办法。", "- 1 -"],
        ["第二条 对研发费用增长的企业给予不超过100万元补助。", "2023年5月6日", "— 2 —"],
        ["第三条 本办法自发布之日起施行。", "第3页"],
    ]))
    document = load_document(path)
    assert document.text == ("高新区企业研发补助办法\n黔科发〔2023〕7号\n第一条 为支持企业加大研发投入，制定本办法。\n"
                             "第二条 对研发费用增长的企业给予不超过100万元补助。\n2023年5月6日\n"
                             "第三条 本办法自发布之日起施行。")
    assert (document.meta.title, document.meta.doc_number, document.meta.date) == (
        "高新区企业研发补助办法", "黔科发〔2023〕7号", "2023-05-06")
    assert document.warnings == ()


def test_pdf_title_comes_from_metadata_when_the_text_has_none(tmp_path):
    path = tmp_path / "untitled.pdf"
    path.write_bytes(files.pdf([["第一条 为支持企业加大研发投入，制定本办法。"]], title="研发补助办法"))
    assert load_document(path).meta.title == "研发补助办法"


def test_pdf_page_with_a_font_lacking_tounicode_is_skipped_with_a_warning(tmp_path):
    from pypdf import PdfReader, PdfWriter

    good = files.pdf([["研发补助办法", "第一条 为支持企业加大研发投入，制定本办法。"],
                      ["第三条 本办法自发布之日起施行。"]])
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(good)))
    add_garbled_page(writer, 1)
    path = tmp_path / "mixed.pdf"
    path.write_bytes(write_pdf(writer))
    document = load_document(path)
    assert document.warnings == ("第2页文字乱码（字体缺少ToUnicode映射？），已跳过",)
    assert document.text == "研发补助办法\n第一条 为支持企业加大研发投入，制定本办法。\n第三条 本办法自发布之日起施行。"


def test_pdf_with_only_an_owner_password_opens_with_the_empty_user_password(tmp_path):
    pytest.importorskip("cryptography")  # AES needs it; pypdf reads RC4 on its own
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(files.pdf([["研发补助办法", "第一条 制定本办法。"]]))))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-256")
    path = tmp_path / "restricted.pdf"
    path.write_bytes(write_pdf(writer))
    assert load_document(path).meta.title == "研发补助办法"


@pytest.mark.parametrize("text,typical,garbled", [
    ("第一条 为支持企业加大研发投入，制定本办法。对研发费用增长的企业给予补助。", None, False),
    ("(cid:1234)(cid:88)(cid:4021)(cid:17)(cid:305) 第一条", None, True),
    ("\ue001\ue002\ue003\ue004\ue005第一条为支持企业制定本办法", None, True),
    ("第一条\ufffd\ufffd\ufffd\ufffd为支持企业", None, True),
    ("ĖҐ؟ٮۊȍôϹؙΛϊԹْ̌ưÃϪ=ڲܨ̡ӟ֔ئΓȤ", None, True),
    ("".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(60)), None, True),
    ("!\"#$%&'()*+,-./:;<=>?@ABCDEFGHIJKLMNOP", 0.9, True),
    ("!\"#$%&'()*+,-./:;<=>?@ABCDEFGHIJKLMNOP", None, False),
    ("Annex 1: Table of figures, 2023 budget in RMB", 0.2, False),
])
def test_garble_detector(text, typical, garbled):
    assert looks_garbled(text, typical) is garbled


# --- HTML and DOCX ----------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>研发补助办法_贵州省科学技术厅</title>
<meta name="ArticleTitle" content="贵州省高新区企业研发补助办法">
<meta name="PubDate" content="2023-05-08 10:30"><meta name="ContentSource" content="贵州省科学技术厅">
<style>p { color: red }</style><script>var secret = "不应出现";</script></head>
<body><nav><a href="/">首页</a> | <a href="/zc">政策文件</a></nav><header>网站头部</header>
<div class="article"><h1>贵州省高新区企业研发补助办法</h1><p>黔科发〔2023〕7号</p>
<p>第一条&nbsp;为支持企业加大研发投入，
制定本办法。</p><p>第二条 补助标准：<br>不超过100万元。</p>
<table><tr><td>项目</td><td>金额</td></tr></table><script>track("不应出现")</script>
<p>2023年5月6日</p></div><footer>版权所有</footer><form><input value="搜索"></form></body></html>"""


def test_html_page_keeps_article_text_and_drops_scripts_navigation_and_chrome(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(PAGE.encode("gbk"))
    document = load_document(path)
    assert document.text == ("贵州省高新区企业研发补助办法\n黔科发〔2023〕7号\n"
                             "第一条 为支持企业加大研发投入， 制定本办法。\n"
                             "第二条 补助标准：\n不超过100万元。\n项目\t金额\n2023年5月6日")
    assert document.meta == DocumentMeta(title="贵州省高新区企业研发补助办法", doc_number="黔科发〔2023〕7号",
                                         issuer="", date="2023-05-06", source="贵州省科学技术厅")


@pytest.mark.parametrize("head,body,title", [
    ("<title>研发补助办法_贵州省科学技术厅</title>", "<h1>高新区研发补助办法</h1><p>正文。</p>", "高新区研发补助办法"),
    ("<title>研发补助办法_贵州省科学技术厅</title>", "<p>第一条 正文。</p>", "研发补助办法"),
])
def test_html_title_falls_back_to_h1_then_to_the_title_tag(tmp_path, head, body, title):
    path = tmp_path / "page.htm"
    path.write_text(f"<html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>", encoding="utf-8")
    assert load_document(path).meta.title == title


def test_docx_paragraphs_and_table_rows_come_in_document_order(tmp_path):
    path = tmp_path / "measures.docx"
    path.write_bytes(files.docx(PARAGRAPHS, table=[["项目", "补助"], ["研发", "100万元"]], after=["第三条 本办法自发布之日起施行。"]))
    document = load_document(path)
    assert document.text == "\n".join(PARAGRAPHS) + "\n项目\t补助\n研发\t100万元\n第三条 本办法自发布之日起施行。"
    assert document.meta == DocumentMeta(title="贵州省科学技术厅关于印发高新区企业研发补助办法的通知",
                                         doc_number="黔科发〔2023〕7号", issuer="贵州省科学技术厅", date="2023-05-06")


def test_docx_title_comes_from_core_properties_when_the_text_has_none(tmp_path):
    path = tmp_path / "untitled.docx"
    path.write_bytes(files.docx(["第一条 为支持企业加大研发投入，制定本办法。"], title="研发补助办法"))
    assert load_document(path).meta.title == "研发补助办法"


# --- errors -------------------------------------------------------------------------------------------

def _encrypted_pdf():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(files.pdf([["研发补助办法"]]))))
    writer.encrypt(user_password="secret", owner_password="owner")
    return write_pdf(writer)


def _scanned_pdf():
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.rect(50, 600, 300, 100, fill=1)
    pdf.circle(200, 400, 50)
    pdf.drawImage(ImageReader(Image.new("L", (40, 20), 128)), 50, 50, 200, 100)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _garbled_pdf():
    from pypdf import PdfWriter

    writer = PdfWriter()
    add_garbled_page(writer, 0)
    return write_pdf(writer)


def _write(name, content):
    def make(tmp_path):
        path = tmp_path / name
        data = content() if callable(content) else content
        path.write_bytes(data)
        return path
    return make


def _huge(tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024 + 400 * 1024)  # sparse: instant, no disk used
    return path


ERRORS = [
    ("empty", _write("empty.txt", b""), "文件为空"),
    ("whitespace only", _write("blank.txt", " \n\u3000\n".encode()), "文件只有空白字符，没有正文"),
    ("header only", _write("header.txt", "标题: 某办法\n文号: 黔科发〔2023〕7号\n\n".encode()),
     "只有头部信息，没有正文"),
    ("binary named .txt", _write("image.txt", bytes(range(256)) * 8), "不是文本文件"),
    ("random bytes", _write("random.txt", random.Random(1).randbytes(4000)), "不是文本文件"),
    ("undecodable high bytes", _write("high.txt", bytes(random.Random(2).choices(range(128, 256), k=4000))),
     "不是文本文件"),
    ("big5 text read as gb18030 would be mojibake",
     _write("big5.txt", ("第一條 為支持企業加大研發投入，制定本辦法。" * 9).encode("big5")), "不是文本文件"),
    ("a folder", lambda tmp_path: (tmp_path / "folder.txt").mkdir() or tmp_path / "folder.txt", "不是文件"),
    ("too large", _huge, "文件过大（50.4 MB，上限 20 MB）"),
    ("missing", lambda tmp_path: tmp_path / "vanished.txt", "文件不存在或在读取时被移走"),
    ("unsupported suffix", _write("table.xls", b"x"), "不支持的文件类型“.xls”"),
    ("old word format", _write("old.doc", b"x"), "请先另存为.docx"),
    ("encrypted pdf", _write("locked.pdf", _encrypted_pdf), "PDF已加密，请先解除密码保护"),
    ("scanned pdf", _write("scan.pdf", _scanned_pdf), "扫描版PDF没有文字层：请先OCR再导入"),
    ("truncated pdf", _write("cut.pdf", lambda: files.pdf([["研发补助办法"]] * 3)[:1500]),
     "PDF文件已损坏，无法读取（"),
    ("not a pdf", _write("fake.pdf", b"%PDF-1.4\nnothing here"), "PDF文件已损坏，无法读取（"),
    ("garbled pdf", _write("garbled.pdf", _garbled_pdf), "乱码"),
    ("docx not a zip", _write("fake.docx", "这不是Word文件".encode()), "不是有效的DOCX文件（"),
    ("docx zip of something else", _write("other.docx", b"PK\x05\x06" + b"\x00" * 18), "不是有效的DOCX文件（"),
]


@pytest.mark.parametrize("make,reason", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_unloadable_file_raises_an_error_naming_the_file_and_the_reason(tmp_path, make, reason):
    path = make(tmp_path)
    with pytest.raises(DocumentError) as caught:
        load_document(path)
    error = caught.value
    assert error.path == str(path) and str(error).startswith(f"{path}: ")
    assert reason in error.reason and "\n" not in error.reason
