"""The REST API and the OpenAI-compatible endpoint of a running `python app.py`, called as integrators
call them: stock httpx for /v1/ask, /v1/search, /v1/match and /v1/clauses, the official `openai`
client for /v1/chat/completions; then the API key, the per-key/per-address API rate limit, and the
per-session limit of people using the UI (issue 18 items 5–7)."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import httpx
import pytest

from bot.commands import answer_json, clause_json, match_json, search_json
from bot.matching.profile import parse_profile

from ..webapp import web_app
from .callers import Caller

pytestmark = pytest.mark.slow

QUESTION = "科技成果转化项目最多能拿多少支持？"
PLAN = "《关于推进全省高新技术产业开发区高质量发展的实施方案》"  # the 1000万元 clause's document
AMENDED = "enterprise-income-tax-law-implementing-regulations-2024#第九十五条"
PROFILE = {"revenue_wan": 5000, "zone": {"name": "贵阳国家高新区", "level": "national"}, "is_hightech": True}
EARLIER, FOLLOW_UP = "我们有个重大科技成果想在高新区落地转化，省里最多能支持多少？", "这个是哪个部门管的？"  # eval q170
KEYS = ("sk-policybot-first-key", "sk-policybot-second-key")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def open_app(corpus_index_dir, tmp_path_factory):
    """No API keys (/v1 open), no API rate limit."""
    log = tmp_path_factory.mktemp("rest-open") / "app.log"
    with web_app(corpus_index_dir, log, POLICYBOT_RATE_LIMIT_API="0") as url:
        yield url, log


@pytest.fixture(scope="module")
def keyed_app(corpus_index_dir, tmp_path_factory):
    """Two API keys; 3 API calls at once per key or address, then one a minute; 2 UI events at once per session."""
    log = tmp_path_factory.mktemp("rest-keyed") / "app.log"
    with web_app(corpus_index_dir, log, POLICYBOT_API_KEYS=",".join(KEYS), POLICYBOT_RATE_LIMIT_API="1",
                 POLICYBOT_RATE_LIMIT_API_BURST="3", POLICYBOT_RATE_LIMIT="1", POLICYBOT_RATE_LIMIT_BURST="2") as url:
        yield url, log


def post(url: str, route: str, body, **kwargs) -> httpx.Response:
    return httpx.post(f"{url}v1/{route}", json=body, timeout=60, trust_env=False, **kwargs)


def assert_refusal(response: httpx.Response, status: int) -> str:
    """A JSON {"error": one Chinese line} with `status`; its message."""
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert isinstance(message, str) and CHINESE.search(message) and "\n" not in message
    assert "Traceback" not in response.text and "/tmp" not in message
    return message


# ---- REST: each route gives the CLI's --json object ----

def test_ask_returns_the_ask_json_object_with_its_citation(open_app, corpus_bot):
    url, _ = open_app
    got = post(url, "ask", {"question": QUESTION})
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/json")
    answer = got.json()
    expected = answer_json(corpus_bot, QUESTION, False)
    assert answer.keys() == expected.keys()
    assert answer["answer"] == expected["answer"] and "1000万元" in answer["lead"]
    assert answer["citations"][0]["citation"].startswith(PLAN)


def test_ask_reads_a_follow_up_against_its_history(open_app):
    url, _ = open_app
    alone = post(url, "ask", {"question": FOLLOW_UP}).json()
    followed = post(url, "ask", {"question": FOLLOW_UP, "history": [EARLIER]}).json()
    as_messages = post(url, "ask", {"question": FOLLOW_UP,
                                    "history": [{"role": "user", "content": EARLIER}, {"role": "assistant", "content": "…"}]}).json()
    assert alone["abstained"] and not followed["abstained"]
    assert "省科技厅" in followed["answer"] and followed["citations"][0]["citation"].startswith(PLAN)
    assert as_messages["answer"] == followed["answer"]


def test_search_match_and_clause_give_the_cli_objects(open_app, corpus_bot):
    url, _ = open_app
    found = post(url, "search", {"query": "研发费用加计扣除", "k": 2}).json()
    expected = search_json(corpus_bot, "研发费用加计扣除", 2)
    assert [h["clause_id"] for h in found["hits"]] == [h["clause_id"] for h in expected["hits"]]
    assert found.keys() == expected.keys() and len(found["hits"]) == 2
    matched = post(url, "match", PROFILE).json()
    expected = json.loads(json.dumps(match_json(corpus_bot.cite, corpus_bot.match(parse_profile(PROFILE)), PROFILE), default=str))
    assert matched == expected and matched["verdicts"]
    clause = httpx.get(f"{url}v1/clauses/{quote(AMENDED, safe='')}", timeout=30, trust_env=False).json()
    assert clause == clause_json(corpus_bot.view(AMENDED))
    assert "第九十五条" in clause["text"] and clause["status"] and "100%" in clause["editor_note"]


@pytest.mark.parametrize("method, route, body, status, says", [
    ("POST", "search", {"query": "研发费用", "k": "abc"}, 422, "参数 k 应为 1 到 50 之间的整数"),
    ("POST", "search", {"query": "研发费用", "k": 999}, 422, "参数 k 应为 1 到 50 之间的整数"),
    ("POST", "search", {"query": "研发费用", "mode": "fuzzy"}, 422, "参数 mode 应为"),
    ("POST", "search", {"query": "   "}, 422, "请输入要检索的关键词"),
    ("POST", "ask", {}, 422, "缺少参数 question"),
    ("POST", "ask", {"question": 5}, 422, "参数 question 应为文本"),
    ("POST", "ask", {"questoin": QUESTION}, 422, "未知的参数 questoin"),
    ("POST", "ask", {"question": "hello"}, 422, "请用中文提问"),
    ("POST", "ask", ["研发费用"], 422, "请求体应为 JSON 对象"),
    ("POST", "ask", "{not json", 422, "请求体不是有效的 JSON"),
    ("POST", "ask", "[" * 100_000, 400, "请求体无法解析"),
    ("POST", "match", {"revenue_wan": -5}, 422, "revenue_wan"),
    ("GET", "clauses/no-such-clause", None, 404, "找不到条款"),
    ("GET", "no-such-route", None, 404, "没有这个接口"),
    ("GET", "ask", None, 405, "不接受这种请求方法"),
    ("POST", "ask", {"question": "长" * 2_000_000}, 413, "请求内容过大"),
])
def test_every_error_is_one_chinese_json_line_with_a_4xx_status(open_app, method, route, body, status, says):
    url, log = open_app
    content = body if isinstance(body, str) else None if body is None else json.dumps(body, ensure_ascii=False)
    got = httpx.request(method, f"{url}v1/{route}", content=content, headers={"content-type": "application/json"},
                        timeout=60, trust_env=False)
    assert says in assert_refusal(got, status)
    assert "Traceback" not in log.read_text(encoding="utf-8")


def test_docs_list_the_rest_routes_only(open_app):
    url, _ = open_app
    schema = httpx.get(f"{url}openapi.json", timeout=30, trust_env=False).json()
    assert {"/v1/ask", "/v1/search", "/v1/match", "/v1/clauses/{clause_id}", "/v1/models",
            "/v1/chat/completions"} <= set(schema["paths"])
    assert all(path.startswith("/v1/") for path in schema["paths"])  # no Gradio internals
    page = httpx.get(f"{url}docs", timeout=30, trust_env=False)
    assert page.status_code == 200 and "swagger" in page.text.lower()


def test_the_docs_page_renders_offline_in_a_browser(open_app):
    """The page's Swagger UI comes from the app itself: with every non-loopback request refused (as on an
    intranet machine), Chromium still draws the route list."""
    from playwright.sync_api import sync_playwright

    from .test_browser import CHROMIUM, CHROMIUM_ARGS

    url, _ = open_app
    outside: list[str] = []

    def only_loopback(route):
        if route.request.url.startswith(url):
            return route.continue_()
        outside.append(route.request.url)
        return route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", only_loopback)
            page.goto(f"{url}docs", wait_until="load")
            page.wait_for_selector(".opblock-summary-path", timeout=60_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
        finally:
            browser.close()
    assert {"/v1/ask", "/v1/chat/completions"} <= {p.strip().replace("\u200b", "") for p in paths}
    assert outside == []


# ---- OpenAI-compatible, with the official client ----

def openai_client(url: str, key: str = "unused"):
    from openai import OpenAI

    return OpenAI(base_url=f"{url}v1", api_key=key, max_retries=0, timeout=60)


def test_the_openai_client_gets_the_cited_answer_streamed_and_not(open_app):
    url, _ = open_app
    client = openai_client(url)
    assert [m.id for m in client.models.list()] == ["policybot"]
    messages = [{"role": "user", "content": QUESTION}]
    whole = client.chat.completions.create(model="policybot", messages=messages)
    content = whole.choices[0].message.content
    assert "1000万元" in content and f"[1] {PLAN}" in content and whole.choices[0].finish_reason == "stop"
    stream = client.chat.completions.create(model="policybot", messages=messages, stream=True)
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks) and chunks[-1].choices[0].finish_reason == "stop"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == content and len(chunks) > 3


def test_the_openai_client_carries_a_conversation_in_its_messages(open_app):
    url, _ = open_app
    messages = [{"role": "system", "content": "你是政策助手"},
                {"role": "user", "content": EARLIER},
                {"role": "assistant", "content": "依据[1]，……不超过1000万元……"},
                {"role": "user", "content": [{"type": "text", "text": FOLLOW_UP}]}]
    content = openai_client(url).chat.completions.create(model="policybot", messages=messages).choices[0].message.content
    assert "省科技厅" in content and f"[1] {PLAN}" in content


def test_an_unknown_model_is_a_clear_openai_error(open_app):
    import openai

    url, _ = open_app
    with pytest.raises(openai.NotFoundError) as raised:
        openai_client(url).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    error = raised.value.body
    assert error["code"] == "model_not_found" and "policybot" in error["message"] and CHINESE.search(error["message"])


# ---- API key and rate limits ----

def test_with_api_keys_set_v1_needs_one_and_each_key_has_its_own_budget(keyed_app):
    import openai

    url, _ = keyed_app
    assert "缺少 API 密钥" in assert_refusal(post(url, "search", {"query": "研发费用"}), 401)
    assert "不正确" in assert_refusal(post(url, "search", {"query": "研发费用"},
                                           headers={"Authorization": "Bearer sk-guessed-key-000"}), 401)
    with pytest.raises(openai.AuthenticationError):
        openai_client(url, "sk-guessed-key-000").models.list()
    first = [post(url, "search", {"query": "研发费用", "k": 1}, headers={"Authorization": f"Bearer {KEYS[0]}"})
             for _ in range(4)]
    assert [r.status_code for r in first] == [200, 200, 200, 429]
    assert "请求过于频繁" in assert_refusal(first[-1], 429) and int(first[-1].headers["retry-after"]) >= 1
    with pytest.raises(openai.RateLimitError):
        openai_client(url, KEYS[0]).models.list()
    assert [m.id for m in openai_client(url, KEYS[1]).models.list()] == ["policybot"]  # another key: its own budget


def test_without_a_key_calls_are_counted_per_address(keyed_app):
    url, _ = keyed_app
    prober = Caller(url, "127.0.0.21").http
    statuses = [prober.post(f"{url}v1/ask", json={"question": QUESTION}).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]  # guessing keys is limited too
    assert Caller(url, "127.0.0.22").http.post(f"{url}v1/ask", json={"question": QUESTION}).status_code == 401


def test_people_in_one_office_each_get_their_own_ui_budget(keyed_app):
    """Two clerks behind one address: one clerk's quick lookups do not lock out the other."""
    url, _ = keyed_app
    first, second = Caller(url, "127.0.0.23").ui(), Caller(url, "127.0.0.23").ui()
    asked = [first.click("pb-ask", QUESTION, [], None) for _ in range(3)]
    # the third is refused: one line under the question box (the last output), no error toast
    refused = ["请求过于频繁" in json.dumps(o.output, ensure_ascii=False) for o in asked]
    assert all(o.success for o in asked) and refused == [False, False, True]
    assert second.click("pb-ask", QUESTION, [], None).success
