"""What a person reads in the 评测 and 文档管理 tabs of a real `python app.py`: Chinese names and titles,
a file named as it was uploaded and only once, no server paths, no pointer to documents users do not
have, and a log without tracebacks for their mistakes."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import httpx
import pytest

from .websec import TOKEN, Site, file_data, new_address, outcome, run_event, upload

pytestmark = pytest.mark.slow
ENGLISH_NAMES = re.compile(r"must_mention|recall|abstention|citation|accuracy|hybrid|dense|bm25|amount|eligibility"
                           r"|out_of_scope|DESIGN\.md")
QUESTIONS = [
    {"id": "e1", "question": "研发补助最多多少万元？", "answerable": True, "gold_quotes": ["给予不超过200万元补助"],
     "must_mention": ["200万元"], "category": "amount"},
    {"id": "e2", "question": "公司想注册商标，流程是怎样的？", "answerable": False, "category": "out_of_scope"},
]


@pytest.fixture(scope="module")
def site(tmp_path_factory, embedder) -> Site:
    return Site(tmp_path_factory.mktemp("messages-app"), embedder)


@pytest.fixture(scope="module")
def app(site) -> str:
    with site.serving(POLICYBOT_RATE_LIMIT="0", POLICYBOT_EVAL_RUNS_PER_HOUR="100") as (url, _):
        yield url


def uploaded(app: str, name: str, data: bytes, address: str) -> dict:
    (stored,) = upload(app, name, data, address).json()
    return file_data(stored)


def evaluate(app: str, name: str, data: bytes, modes: list[str], retrieval_only: bool) -> list[dict]:
    address = new_address()
    return run_event(app, "run", [uploaded(app, name, data, address), modes, retrieval_only], address)[1]


def jsonl(lines: list[dict]) -> bytes:
    return "\n".join(json.dumps(q, ensure_ascii=False) for q in lines).encode() + b"\n"


def toasts(messages: list[dict]) -> list[dict]:
    return [m for m in messages if m.get("msg") == "log"]


def test_a_bad_question_file_is_named_as_uploaded_in_a_chinese_titled_warning(app, site):
    messages = evaluate(app, "bad.jsonl", jsonl(QUESTIONS[:1]) + b"{not json\n", ["bm25"], True)
    (toast,) = toasts(messages)
    assert toast["log"].startswith("bad.jsonl 第 2 行不是有效的 JSON") and toast["title"] == "提示"
    shown = json.dumps(outcome(messages)["output"]["data"][0], ensure_ascii=False)
    assert "bad.jsonl 第 2 行" in shown
    for where in (str(site.data), "uploads", "/tmp", "gradio"):
        assert where not in shown and where not in toast["log"]


def test_the_eval_tab_speaks_chinese_in_summary_table_report_and_says_what_a_retrieval_only_run_did(app):
    summary, table, charts, archive = outcome(evaluate(app, "mine.jsonl", jsonl(QUESTIONS), ["hybrid", "bm25"], False))["output"]["data"]
    assert "2 个问题" in summary and "关键事实召回率" in summary and "（混合检索）" in summary
    assert not ENGLISH_NAMES.search(summary), summary
    assert table["headers"][:3] == ["类别", "问题数", "前 5 条召回率 Recall@5"]
    assert sorted(row[0] for row in table["data"]) == ["超出政策范围", "金额"]
    assert len(charts) == 2
    report = httpx.get(archive["url"], timeout=30).content
    with zipfile.ZipFile(__import__("io").BytesIO(report)) as zf:
        text = zf.read("report.md").decode()
    assert text.startswith("# PolicyBot 评测报告") and "关键事实召回率" in text and "| 金额 |" in text
    readable = re.sub(r"\]\(\w+\.png\)", "]", text).replace("gold_quotes", "")  # chart files and the field keep their names
    assert not ENGLISH_NAMES.search(readable), text

    summary = outcome(evaluate(app, "mine.jsonl", jsonl(QUESTIONS), ["bm25"], True))["output"]["data"][0]
    assert "2 个问题" in summary and "仅评测检索" in summary and "共回答 0 轮" not in summary


def test_the_eval_tab_explains_the_question_format_itself_and_shows_whole_charts(app):
    config = httpx.get(f"{app}config", timeout=30).json()
    props = [c.get("props", {}) for c in config["components"]]
    texts = json.dumps(props, ensure_ascii=False)
    assert "DESIGN.md" not in texts and "问题集为 UTF-8 编码的 JSONL 文件" in texts
    gallery = next(p for p in props if p.get("elem_id") == "pb-eval-charts")
    assert gallery["object_fit"] == "contain"
    modes = next(p for p in props if p.get("label") == "检索方式")
    assert [label for label, _ in modes["choices"]] == ["混合检索", "向量检索", "关键词检索"]


def test_a_refused_upload_names_the_file_once_and_token_errors_are_chinese_and_quiet(app, site):
    address = new_address()
    fake = uploaded(app, "fake.pdf", "这不是PDF".encode(), address)
    summary = outcome(run_event(app, "upload", [TOKEN, [fake]], address)[1])["output"]["data"][0]
    assert "fake.pdf" in summary and "与扩展名不符" in summary and summary.count("fake.pdf") == 1, summary

    before = site.log.read_text(encoding="utf-8")
    errors = [outcome(run_event(app, "upload", [token, []], new_address())[1])["output"] for token in ("", "wrong")]
    assert [e["error"] for e in errors] == ["请输入管理口令", "管理口令不正确"]
    assert [e.get("title") for e in errors] == ["错误", "错误"]
    logged = site.log.read_text(encoding="utf-8")[len(before):]
    assert "Traceback" not in logged and logged.count("\n") <= 4, logged  # a line per refusal, no more


def test_warnings_beside_the_other_tabs_forms_have_a_chinese_title(app):
    # This corpus has no hand-written rules, so the form has no fields: the warning comes from an imported
    # profile file with a value that is not a number.
    address = new_address()
    profile = uploaded(app, "企业画像.yaml", "revenue_wan: 很多\n".encode(), address)
    warnings = toasts(run_event(app, "match_ui", [profile, None], address)[1])
    assert warnings and {w["title"] for w in warnings} == {"提示"}
