"""What a hostile page or a guessing client meets at a real `python app.py`: the app cannot be framed,
another site cannot post to it through a visitor's browser, a user's own markup is shown as text,
and the admin token cannot be guessed at speed."""

from __future__ import annotations

import json

import httpx
import pytest

from ..webapp import client as api_client
from .websec import TOKEN, Site, file_data, new_address, outcome, run_event, upload

pytestmark = pytest.mark.slow
TAG = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def site(tmp_path_factory, embedder) -> Site:
    return Site(tmp_path_factory.mktemp("protect-app"), embedder)


@pytest.fixture(scope="module")
def app(site) -> str:
    with site.serving(POLICYBOT_RATE_LIMIT="0") as (url, _):
        yield url


# ---- 12. framing, sniffing, cross-site requests, the user's own markup ----

@pytest.mark.parametrize("method, path", [("GET", ""), ("GET", "config"), ("GET", "api/"), ("GET", "no-such-page"),
                                          ("POST", "gradio_api/queue/join"), ("POST", "api/gradio_api/upload")])
def test_every_response_forbids_framing_and_sniffing(app, method, path):
    headers = httpx.request(method, app + path, json={} if method == "POST" else None, timeout=30).headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["content-security-policy"] == "frame-ancestors 'none'"
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Origin": "null"},
                                     {"Referer": "http://evil.example/form.html"}])
def test_a_post_from_another_site_is_refused(app, headers):
    for answer in (upload(app, "a.txt", b"hello", new_address(), headers=headers),
                   httpx.post(app + "gradio_api/queue/join", json={}, headers=headers, timeout=30)):
        assert answer.status_code == 403 and "其他网站" in answer.json()["error"]


def test_the_page_itself_and_programs_are_not_refused(app):
    origin = app.rstrip("/")
    assert upload(app, "a.txt", b"hello", new_address(), headers={"Origin": origin, "Referer": app}).status_code == 200
    answer = api_client(app + "api/").predict("研发补助最多多少万元？", api_name="/ask")
    assert "200万元" in answer["answer"]


def test_a_question_holding_markup_is_shown_as_typed(app):
    _, messages = run_event(app, "chat", [f"{TAG} 研发补助最多多少万元？", [], None])
    shown = json.dumps(messages, ensure_ascii=False)
    assert outcome(messages)["success"]
    assert "<img" not in shown and "&lt;img src=x onerror=alert\\\\(1\\\\)&gt;" in shown


def test_a_warning_that_echoes_input_shows_it_as_text(app):
    stored = upload(app, "p.json", json.dumps({"revenue_wan": TAG}).encode()).json()  # 上一年度营业收入
    _, messages = run_event(app, "match_ui", [file_data(stored[0]), None])  # this corpus has no rules: no fields
    warnings = [m["log"] for m in messages if m.get("msg") == "log"]
    assert warnings and "&lt;img src=x onerror=alert(1)&gt;" in warnings[0] and "<img" not in warnings[0]


# ---- 6. the admin token ----

def test_wrong_admin_tokens_lock_the_client_out_with_one_log_line_each(app, site):
    address = new_address()
    errors = [outcome(run_event(app, "upload", [token, []], address)[1])["output"]["error"]
              for token in ["", "guess1", "guess2", "guess3", "guess4", "guess5", "guess6", TOKEN]]
    assert errors[0] == "请输入管理口令"
    assert errors[1:6] == ["管理口令不正确"] * 5
    assert errors[6] == errors[7] == "管理口令错误次数过多，请 30 秒后再试"  # even the right token waits
    other = outcome(run_event(app, "upload", [TOKEN, []], new_address())[1])["output"]["error"]
    assert other.startswith("请先选择要上传的文件")  # another client is not locked out
    log = site.log.read_text(encoding="utf-8")
    assert log.count("admin-upload wrong-token") == 5 and log.count("admin-upload locked-out") == 2
    assert "Traceback" not in log and "guess" not in log
