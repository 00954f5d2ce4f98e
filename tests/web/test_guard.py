"""The web app's rate limit and log hygiene, against real `python app.py` processes."""

from __future__ import annotations

import pytest
from starlette.requests import Request as StarletteRequest

from bot.web.ratelimit import RateLimiter
from bot.web.guard import RequestGuard

from ..webapp import client, wait_for_line, web_app

SECRET = "sk-test-4f1d9c0e7b2a-never-in-logs"


def gradio_request(host: str, session: str):
    import gradio as gr

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b"",
             "client": (host, 40123), "server": ("127.0.0.1", 7860)}
    return gr.Request(request=StarletteRequest(scope), session_hash=session)


@pytest.mark.parametrize("key, first, second, same", [
    ("host", ("10.0.0.5", "tab-1"), ("10.0.0.5", "tab-2"), True),
    ("host", ("10.0.0.5", "tab-1"), ("10.0.0.6", "tab-1"), False),
    ("session", ("10.0.0.5", "tab-1"), ("10.0.0.5", "tab-2"), False),
])
def test_requests_count_against_the_client_or_the_session(key, first, second, same):
    guard = RequestGuard(RateLimiter(per_minute=10, burst=1), key)
    assert (guard.client(gradio_request(*first)) == guard.client(gradio_request(*second))) is same


@pytest.fixture(scope="module")
def limited_app(corpus_index_dir, tmp_path_factory):
    """Three requests at once, then one a minute, per session; question text logged."""
    log = tmp_path_factory.mktemp("limited") / "app.log"
    with web_app(corpus_index_dir, log, POLICYBOT_RATE_LIMIT="1", POLICYBOT_RATE_LIMIT_BURST="3",
                 POLICYBOT_RATE_LIMIT_KEY="session", POLICYBOT_LOG_QUESTIONS="1",
                 POLICYBOT_LLM_API_KEY=SECRET) as url:
        yield url, log


@pytest.fixture(scope="module")
def default_app(corpus_index_dir, tmp_path_factory):
    """Default logging (no question text), an LLM key in the environment."""
    log = tmp_path_factory.mktemp("default") / "app.log"
    with web_app(corpus_index_dir, log, POLICYBOT_LLM_API_KEY=SECRET) as url:
        yield url, log


@pytest.mark.slow
def test_a_client_over_its_limit_is_told_to_slow_down_in_chinese(limited_app):
    from gradio_client.exceptions import AppError

    url, _ = limited_app
    user = client(url)
    for _ in range(3):
        assert user.predict("研发费用加计扣除比例是多少？", api_name="/ask")["citations"]
    with pytest.raises(AppError, match="请求过于频繁，请稍后再试"):
        user.predict("研发费用加计扣除比例是多少？", api_name="/ask")
    with pytest.raises(AppError, match="请求过于频繁"):  # one budget for all endpoints
        user.predict("（八）", 3, api_name="/search")
    other = client(url)
    assert other.predict("（八）", 3, api_name="/search")["hits"]


@pytest.mark.slow
def test_question_text_is_logged_only_when_log_questions_is_on(limited_app, default_app):
    for (url, log), logged in ((limited_app, True), (default_app, False)):
        question = f"高新区人才用房政策由哪个部门负责？编号{'甲' if logged else '乙'}"
        client(url).predict(question, api_name="/ask")
        text = wait_for_line(log, "ask ok")
        assert "ask ok" in text  # the request log line is there either way
        assert (question in text) is logged
        assert SECRET not in text


@pytest.mark.slow
def test_searches_and_profiles_stay_out_of_the_default_log(default_app):
    url, log = default_app
    user = client(url)
    user.predict("知识产权质押融资贴息", 3, api_name="/search")
    user.predict('{"revenue_wan": 7777, "zone": {"name": "遵义高新区", "level": "national"}}', api_name="/match")
    text = wait_for_line(log, "match ok")
    assert "search ok" in text and "match ok" in text
    for private in ("知识产权质押融资贴息", "7777", "遵义高新区", SECRET):
        assert private not in text
    assert "127.0.0.1" not in text.replace("http://127.0.0.1:", "")  # no client addresses beyond the banner
