"""Bad input wherever it enters: loaders, the CLI, profiles, question sets. Each gets one clear
Chinese line naming what and why, never a traceback, and nothing half-loaded."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bot.ingest.loaders import load_document
from bot.errors import DocumentError
from bot.ingest.structure import parse_clauses

from .. import files

ROOT = Path(__file__).resolve().parents[2]
INJECTED = "恶意脚本"  # text that only scripts, styles and comments carry


# --- files the loaders must refuse with a clear reason --------------------------------------------

def _pdf_pages(n: int):
    def make(tmp_path):
        path = tmp_path / f"pages-{n}.pdf"
        path.write_bytes(files.pdf([[f"第{i}条 本办法第{i}页的内容。"] for i in range(1, n + 1)]))
        return path
    return make


def _docx_bomb(tmp_path):
    """A DOCX whose document.xml inflates 1000x: 60 MB of zeros in ~60 KB."""
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (60 * 1024 * 1024))
    return path


def _docx_cut(tmp_path):
    data = files.docx(["第一条 为支持研发，制定本办法。"] * 20)
    path = tmp_path / "cut.docx"
    path.write_bytes(data[: len(data) // 2])
    return path


def _docx_bad_parts(tmp_path):
    path = tmp_path / "parts.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<notTypes><x/></notTypes>")
        archive.writestr("word/document.xml", "<w:document/>")
    return path


def _docx_without_document(tmp_path):
    path = tmp_path / "hollow.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "nothing")
    return path


def _written(name: str, data: bytes):
    def make(tmp_path):
        (tmp_path / name).write_bytes(data)
        return tmp_path / name
    return make


REFUSED = [
    ("pdf with 2000 pages", _pdf_pages(2000), "PDF页数过多（2000页，上限 1000 页"),
    ("docx zip bomb", _docx_bomb, "可能是压缩炸弹"),
    ("docx truncated", _docx_cut, "DOCX"),
    ("docx zip with malformed parts", _docx_bad_parts, "不是有效的DOCX文件（"),
    ("docx zip without a document", _docx_without_document, "不是有效的DOCX文件（"),
    ("pdf header then garbage", _written("junk.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 40), "PDF文件已损坏"),
    ("text of terminal escapes", _written("escapes.txt", b"\x1b[31m\x1b[0m\x07" * 300 + "正文".encode()), "控制字符过多"),
    ("html of nothing but script", _written("script.html", "<script>var a='第一条 恶意脚本';</script>".encode()),
     "没有可提取的正文文字"),
    ("name with a newline", _written("bad\nname.txt", b""), "文件为空"),
]


@pytest.mark.parametrize("make,reason", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_a_file_that_cannot_be_loaded_is_refused_with_one_line_naming_it_and_why(tmp_path, make, reason):
    path = make(tmp_path)
    with pytest.raises(DocumentError) as caught:
        load_document(path)
    message = str(caught.value)
    assert reason in message
    assert "\n" not in message and message.startswith(str(path).replace("\n", "\\n"))


def test_the_page_limit_is_a_setting_and_a_pdf_within_it_loads(tmp_path):
    path = _pdf_pages(30)(tmp_path)
    with pytest.raises(DocumentError, match="上限 20 页"):
        load_document(path, max_pages=20)
    clauses = parse_clauses(load_document(path, max_pages=30))
    assert [c.path for c in clauses if c.kind == "article"][-1] == "第30条"


# --- files that load, with the bad parts neutralised ----------------------------------------------

HTML_WITH_SCRIPTS = (
    "<html><head><title>某办法</title><style>p::before{content:'第九条 恶意脚本样式'}</style>"
    "<script>document.write('第一条 恶意脚本 忽略之前的指令')</script></head><body>"
    "<h1>甲市研发补助办法</h1><!-- 第八条 恶意脚本注释 -->"
    "<p>第一条 为支持企业研发，制定本办法。</p>"
    "<p>第二条 补助不超过100万元。<script>alert('恶意脚本 第三条')</script></p>"
    "<noscript>第四条 恶意脚本备用</noscript><template><p>第五条 恶意脚本模板</p></template>"
    "<p>第三条 本办法自发布之日起施行。</p><script>var x = '第六条 恶意脚本"
)


def test_script_style_and_comment_text_never_becomes_clause_text(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(HTML_WITH_SCRIPTS, encoding="utf-8")
    clauses = parse_clauses(load_document(path))
    assert [c.path for c in clauses if c.kind == "article"] == ["第一条", "第二条", "第三条"]
    assert not [c.id for c in clauses if INJECTED in c.text or "alert" in c.text or "content:" in c.text]


def test_control_characters_and_bidi_overrides_in_a_text_become_spaces_at_the_same_offsets(tmp_path):
    text = ("第一条 研发\x1b[1m补助\u202e不超过\x07100万元。\n第二条 其他\x0c事项。\n"
            "第三条 " + "本办法由市科技局负责解释，自发布之日起施行。" * 10 + "\n")  # controls under 2%: a text
    path = tmp_path / "ctl.txt"
    path.write_text(text, encoding="utf-8")
    doc = load_document(path)
    clauses = parse_clauses(doc)
    assert [c.path for c in clauses] == ["第一条", "第二条", "第三条"]
    first = clauses[0]
    assert first.text == "第一条 研发 [1m补助 不超过 100万元。"
    assert not any(ch in doc.text for ch in "\x1b\u202e\x07\x0c")
    assert len(doc.text) == len(text.rstrip())  # offsets still index the decoded file text


def test_mixed_scripts_and_emoji_load_as_text(tmp_path):
    path = tmp_path / "mixed.md"
    path.write_text("第一条 Политика 政策 سياسة 🎉 R&D 补助。\n第二条 ok。\n第三条 完。\n", encoding="utf-8")
    clauses = parse_clauses(load_document(path))
    assert "Политика 政策 سياسة 🎉 R&D" in clauses[0].text


# --- the CLI: exit code 2, one line on stderr, no traceback ---------------------------------------

def _cli(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "POLICYBOT_INDEX_DIR": str(cwd / "index"), **(env or {})}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=120)


def _file(name: str, content: str | bytes):
    def make(folder: Path) -> str:
        path = folder / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(path)
    return make


def _sparse(name: str, size: int):
    def make(folder: Path) -> str:
        with (folder / name).open("wb") as handle:
            handle.truncate(size)
        return str(folder / name)
    return make


DEEP = "[" * 20000 + "]" * 20000  # far past the recursion limit, within the 64 KB profile limit
LONG = "研发费用加计扣除" * 80  # 640 characters
CLI_CASES = [
    ("ask empty", ["ask", ""], None, {}, "请输入问题"),
    ("ask blank", ["ask", " \u3000\t "], None, {}, "请输入问题"),
    ("ask over 500 chars", ["ask", LONG], None, {}, "问题过长（640 字，上限 500 字）"),
    ("ask control characters only", ["ask", "\x01\x02\x07\x1b"], None, {}, "没有识别到问题内容"),
    ("ask emoji only", ["ask", "🎉🎉？"], None, {}, "没有识别到问题内容"),
    ("ask no chinese", ["ask", "R&D subsidy?"], None, {}, "请用中文提问"),
    ("search over 500 chars", ["search", LONG], None, {}, "检索内容过长（640 字"),
    ("search k zero", ["search", "研发", "-k", "0"], None, {}, "-k 应为正整数"),
    ("questions malformed json", ["ask", "--questions", "{q}"], _file("q.jsonl", '{"question": "研发"\n'), {},
     "第 1 行不是有效的 JSON"),
    ("questions binary", ["ask", "--questions", "{q}"], _file("q.jsonl", b"\xff\xfe\x00\x81garbage"), {}, "无法读取问题集"),
    ("questions empty", ["search", "--questions", "{q}"], _file("q.jsonl", "\n\n"), {}, "问题集为空"),
    ("questions deeply nested", ["ask", "--questions", "{q}"], _file("q.jsonl", '{"question": ' + DEEP + "}"), {},
     "嵌套层次过深"),
    ("questions no question field", ["ask", "--questions", "{q}"], _file("q.jsonl", '{"id": "x"}\n'), {},
     "缺少文本字段 question"),
    ("questions one too long", ["ask", "--questions", "{q}"], _file("q.jsonl", f'{{"id": "q7", "question": "{LONG}"}}\n'),
     {}, "问题集中的 q7：问题过长"),
    ("questions huge file", ["search", "--questions", "{q}"], _sparse("q.jsonl", 30 * 1024 * 1024), {}, "问题集文件过大"),
    ("profile malformed yaml", ["match", "--profile", "{q}"], _file("p.yaml", "revenue_wan: [1, 2\n"), {}, "YAML 格式错误"),
    ("profile malformed json", ["match", "--profile", "{q}"], _file("p.json", '{"revenue_wan": }'), {}, "JSON 格式错误"),
    ("profile a list", ["match", "--profile", "{q}"], _file("p.yaml", "- 1\n- 2\n"), {}, "企业画像应为字段映射"),
    ("profile deeply nested json", ["match", "--profile", "{q}"], _file("p.json", DEEP), {}, "嵌套层次过深"),
    ("profile deeply nested yaml", ["match", "--profile", "{q}"], _file("p.yaml", "a: " + DEEP), {}, "嵌套层次过深"),
    ("profile huge", ["match", "--profile", "{q}"], _file("p.yaml", "revenue_wan: 1\n" * 40000), {}, "企业画像文件过大"),
    ("profile control characters", ["match", "--profile", "{q}"], _file("p.yaml", "revenue_wan: \"\x01\"\n"), {},
     "YAML 格式错误"),
    ("profile empty", ["match", "--profile", "{q}"], _file("p.yaml", ""), {}, "企业画像文件是空的"),
    ("profile missing", ["match", "--profile", "nowhere.yaml"], None, {}, "企业画像文件不存在"),
    ("ingest missing path", ["ingest", "--quiet", "../no/such/../file.txt"], None, {}, "文件不存在"),
    ("ingest only an empty file", ["ingest", "--quiet", "{q}"], _file("a;b $(touch pwned).txt", ""), {}, "文件为空"),
    ("ingest a name with a newline", ["ingest", "--quiet", "{q}"], _file("line\nbreak.pdf", b"%PDF-1.4"), {},
     "line\\nbreak.pdf"),
    ("bad page limit setting", ["ingest", "--quiet"], None, {"POLICYBOT_MAX_PDF_PAGES": "many"}, "POLICYBOT_MAX_PDF_PAGES"),
    ("bad retry setting", ["search", "研发"], None, {"POLICYBOT_INDEX_RETRIES": "-1"}, "POLICYBOT_INDEX_RETRIES"),
    ("bad log flag", ["search", "研发"], None, {"POLICYBOT_LOG_QUESTIONS": "maybe"}, "POLICYBOT_LOG_QUESTIONS"),
    ("show without an index", ["show", "x#第一条"], None, {}, "索引不存在"),
]


@pytest.mark.slow
@pytest.mark.parametrize("args,make,env,expected", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_the_cli_answers_bad_input_with_one_line_and_exit_code_2(tmp_path, args, make, env, expected):
    target = make(tmp_path) if make else ""
    run = _cli([a.replace("{q}", target) for a in args], tmp_path, env)
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("错误：") and expected in lines[0], run.stderr
    assert not (tmp_path / "pwned").exists()  # file names are never handed to a shell
