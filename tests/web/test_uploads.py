"""Upload checks: a file is refused by name, size or content before it reaches the corpus."""

from __future__ import annotations

import io
import zipfile

import pytest

from bot.errors import UploadError
from bot.web.uploads import check_size, check_upload, safe_name, sniff

from .. import files

MB = 1024 * 1024
POLICY = "关于支持科技创新的若干措施\n一、研发支持\n（一）对研发投入给予补助。".encode()


def pdf_bytes() -> bytes:
    return files.pdf([["policy"]])


def docx_bytes() -> bytes:
    return files.docx(["关于支持科技创新的若干措施"])


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("evil.sh", "rm -rf /")
    return buf.getvalue()


@pytest.mark.parametrize("name, data, expected", [
    ("科技创新措施.txt", POLICY, "科技创新措施.txt"),
    ("黔科发〔2024〕3号 （修订）.md", POLICY, "黔科发〔2024〕3号 （修订）.md"),
    ("gbk-policy.txt", "关于支持科技创新的若干措施，对研发投入给予补助。".encode("gb18030"), "gbk-policy.txt"),
    ("C:\\Users\\me\\政策.html", "<html><body><p>研发补助</p></body></html>".encode(), "政策.html"),
    ("/tmp/uploads/方案.pdf", pdf_bytes(), "方案.pdf"),
    ("措施.docx", docx_bytes(), "措施.docx"),
])
def test_good_uploads_keep_their_chinese_name_without_folders(name, data, expected):
    assert check_upload(name, data, MB) == expected


@pytest.mark.parametrize("name, data, message", [
    ("../../etc/passwd.txt", POLICY, r"\.\."),
    ("a/../b.txt", POLICY, r"\.\."),
    ("..", POLICY, r"\.\."),
    ("", POLICY, "为空"),
    ("/tmp/", POLICY, "为空"),
    ("rm -rf;ls.txt", POLICY, "不允许的字符"),
    ("$(reboot).txt", POLICY, "不允许的字符"),
    ("a`id`.txt", POLICY, "不允许的字符"),
    ("政策\n.txt", POLICY, "不允许的字符"),
    ("政策\x00.pdf", POLICY, "不允许的字符"),
    ("a|b.txt", POLICY, "不允许的字符"),
    (".hidden.txt", POLICY, "开头"),
    ("-rf.txt", POLICY, "开头"),
    ("政" * 200 + ".txt", POLICY, "过长"),
    ("policy.exe", POLICY, "不支持的文件类型"),
    ("policy", POLICY, "不支持的文件类型"),
    ("空文件.txt", b"", "为空"),
    ("大文件.txt", b"a" * (MB + 1), "过大"),
    ("假的.pdf", POLICY, "与扩展名不符"),
    ("假的.docx", zip_bytes(), "与扩展名不符"),
    ("假的.docx", pdf_bytes(), "PDF"),
    ("程序.txt", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, "无法识别"),
    ("图片.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "无法识别"),
    ("网页.html", POLICY, "纯文本"),
    ("断zip.docx", b"PK\x03\x04" + b"\x00" * 50, "无法识别"),
])
def test_bad_uploads_are_refused_with_the_reason(name, data, message):
    with pytest.raises(UploadError, match=message):
        check_upload(name, data, MB)


def test_sniff_reads_the_bytes_not_the_name():
    assert sniff(pdf_bytes()) == "pdf" and sniff(docx_bytes()) == "docx"
    assert sniff(b"<!DOCTYPE html><title>x</title>") == "html" and sniff(POLICY) == "text"
    assert sniff(zip_bytes()) is None


def test_safe_name_keeps_cjk_brackets_and_spaces():
    assert safe_name("  关于印发《实施方案》的通知（2021）.pdf ") == "关于印发《实施方案》的通知（2021）.pdf"


TEXT = "关于支持科技创新的若干措施\n一、研发支持\n（一）对研发投入给予补助。\n"


@pytest.mark.parametrize("name, data, taken", [
    ("措施.txt", TEXT.encode(), True),
    ("措施.txt", TEXT.encode("utf-16"), True),  # Notepad's "Unicode": UTF-16 LE with a BOM
    ("措施.txt", b"\xfe\xff" + TEXT.encode("utf-16-be"), True),
    ("措施.txt", TEXT.encode("gb18030"), True),
    ("措施.txt", "關於支持科技創新的若干措施\n一、研發支持\n（一）對研發投入給予補助。\n".encode("big5"), False),
    ("措施.html", '<html><head><meta charset="big5"></head><body><p>關於支持科技創新的若干措施</p></body></html>'.encode("big5"),
     True),  # a page that declares its charset
    ("措施.txt", TEXT.encode("utf-16-le"), False),  # no BOM: NUL bytes, no way to tell it from binary
    ("措施.txt", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, False),
], ids=["utf-8", "utf-16-bom", "utf-16-be-bom", "gb18030", "big5", "big5-page", "utf-16-no-bom", "binary"])
def test_an_upload_is_taken_exactly_when_ingest_would_take_it(tmp_path, name, data, taken):
    from bot.ingest.loaders import load_document
    from bot.errors import DocumentError

    path = tmp_path / name
    path.write_bytes(data)
    try:
        load_document(path)
        ingest_takes_it = True
    except DocumentError:
        ingest_takes_it = False
    try:
        check_upload(path.name, data, MB)
        upload_takes_it = True
    except UploadError:
        upload_takes_it = False
    assert (upload_takes_it, ingest_takes_it) == (taken, taken)


def test_an_oversize_file_is_refused_by_its_size_alone():
    with pytest.raises(UploadError, match=r"大文件\.txt：文件过大（2\.0 MB，上限 1 MB）"):
        check_size("大文件.txt", 2 * MB, MB)
    with pytest.raises(UploadError, match="为空"):
        check_size("空.txt", 0, MB)
    assert check_size("C:\\docs\\措施.txt", MB, MB) == "措施.txt"


def test_a_utf16_html_upload_is_recognised_as_a_web_page():
    assert sniff("<html><body><p>研发补助</p></body></html>".encode("utf-16")) == "html"
    assert check_upload("政策.html", "<html><body><p>研发补助</p></body></html>".encode("utf-16"), MB) == "政策.html"
