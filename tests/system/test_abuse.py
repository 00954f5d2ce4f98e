"""Abuse of a running `python app.py` from outside: rate-limit bypasses (a forged X-Forwarded-For, a
new session per call), feedback floods, log floods, and endpoint arguments of the wrong JSON type.

Each test repeats a probe made against the app with raw HTTP, from its own loopback source address
(127.0.0.N is another client to the app), and checks what the prober saw.
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from ..webapp import wait_for_line, web_app
from .callers import Caller

pytestmark = pytest.mark.slow

LIMITED = "请求过于频繁"
PROXY = "127.0.0.3"  # the only address whose X-Forwarded-For the proxied app believes


@pytest.fixture(scope="module")
def proxied(corpus_index_dir, tmp_path_factory):
    """(url, log, data dir): 3 requests at once per client address, then one a minute; one trusted proxy."""
    log = tmp_path_factory.mktemp("proxied") / "app.log"
    with web_app(corpus_index_dir, log, POLICYBOT_RATE_LIMIT="1", POLICYBOT_RATE_LIMIT_BURST="3",
                 POLICYBOT_TRUSTED_PROXIES=PROXY) as url:
        yield url, log, log.parent / f"data-{url.rsplit(':', 1)[1].strip('/')}"


@pytest.fixture(scope="module")
def sessions(corpus_index_dir, tmp_path_factory):
    """(url, log): counted per session, 10 at once, each host's sessions 20 together; the feedback
    database cannot be opened (a folder stands where its file goes)."""
    work = tmp_path_factory.mktemp("sessions")
    (work / "data" / "feedback.sqlite3").mkdir(parents=True)
    log = work / "app.log"
    with web_app(corpus_index_dir, log, POLICYBOT_RATE_LIMIT="1", POLICYBOT_RATE_LIMIT_BURST="10",
                 POLICYBOT_RATE_LIMIT_KEY="session", POLICYBOT_RATE_LIMIT_SESSIONS_PER_HOST="2",
                 POLICYBOT_DATA_DIR=str(work / "data")) as url:
        yield url, log


def outcomes(results: list[tuple[str, object]]) -> tuple[int, list[str]]:
    """(how many calls were answered, the refusals' messages)."""
    return sum(event == "complete" for event, _ in results), [str(v) for event, v in results if event != "complete"]


# ---- 5. rate-limit bypasses ----

@pytest.mark.parametrize("source", ["127.0.0.1", "127.0.0.2"])
def test_a_new_x_forwarded_for_per_call_gets_no_new_budget(proxied, source):
    """From loopback, which uvicorn trusts by default, and from another address: a forged header is no new client."""
    url, _, _ = proxied
    caller = Caller(url, source)
    results = [caller.call("search", "（八）", 1, headers={"X-Forwarded-For": f"10.66.{n}.1"}) for n in range(12)]
    answered, refused = outcomes(results)
    assert answered <= 3 and len(refused) >= 9
    assert all(LIMITED in message for message in refused)


def test_a_trusted_proxy_gives_each_forwarded_client_its_own_budget(proxied):
    url, _, _ = proxied
    proxy = Caller(url, PROXY)
    first = [proxy.call("search", "（八）", 1, headers={"X-Forwarded-For": "10.0.0.1"}) for _ in range(4)]
    assert [event for event, _ in first] == ["complete"] * 3 + ["error"]
    # The client writes a header of its own; the proxy appends the address it saw: still the same client.
    event, message = proxy.call("search", "（八）", 1, headers={"X-Forwarded-For": "6.6.6.6, 10.0.0.1"})
    assert event == "error" and LIMITED in message
    assert proxy.call("search", "（八）", 1, headers={"X-Forwarded-For": "10.0.0.2"})[0] == "complete"


def test_a_new_session_per_call_gets_no_new_budget(sessions):
    url, _ = sessions
    caller = Caller(url, "127.0.0.4")
    answered, refused = outcomes([caller.call("search", "（八）", 1) for _ in range(26)])  # a new session hash each
    assert answered <= 20 and refused and all(LIMITED in m for m in refused)
    assert Caller(url, "127.0.0.9").call("search", "（八）", 1)[0] == "complete"  # another host is not affected


# ---- 7. feedback ----

def test_feedback_on_one_answer_is_one_record_its_latest_rating_and_is_rate_limited(proxied):
    url, _, data = proxied
    page = Caller(url, "127.0.0.5").ui()
    asked = page.click("pb-ask", "研发费用加计扣除比例是多少？", [], None)
    assert asked.success
    assert page.click("pb-up", "", None).success
    changed = page.click("pb-down", "说明不够清楚", None)
    assert changed.success and "已记录反馈" in str(changed.output)
    flood = [page.click("pb-up", "", None) for _ in range(5)]  # the client's 3 requests are spent
    assert not any(o.success for o in flood) and all(LIMITED in o.error for o in flood)
    with sqlite3.connect(data / "feedback.sqlite3") as conn:
        rows = conn.execute("SELECT question, rating, comment FROM feedback").fetchall()
    assert rows == [("研发费用加计扣除比例是多少？", "down", "说明不够清楚")]


# ---- 11. endpoint argument types, text that cannot be echoed, paths ----

@pytest.mark.parametrize("endpoint, args, argument", [
    ("ask", (123,), "question"),
    ("ask", (["研发费用"],), "question"),
    ("search", (42, 3), "query"),
    ("search", ("研发费用", "abc"), "k"),
    ("search", ("研发费用", 1e9), "k"),
    ("search", ("研发费用", 2.5), "k"),
    ("search", ("研发费用", float("inf")), "k"),
    ("match", (5,), "profile_json"),
    ("match", ({"revenue_wan": 5000},), "profile_json"),
])
def test_an_argument_of_the_wrong_type_gets_a_chinese_line_naming_it(sessions, endpoint, args, argument):
    url, _ = sessions
    event, message = Caller(url, "127.0.0.2").call(endpoint, *args)
    assert event == "error"
    assert f"参数 {argument} 应为" in message and re.search(r"[\u4e00-\u9fff]", message)
    assert "\n" not in message and "upstream" not in message


def test_lone_surrogates_and_control_characters_are_not_echoed(sessions):
    url, _ = sessions
    caller = Caller(url, "127.0.0.6")
    event, found = caller.call("search", "\ud800研发费用\x1b[2J加计扣除\x00", 2)
    assert event == "complete" and found["query"] == "研发费用[2J加计扣除" and found["hits"]
    event, answered = caller.call("ask", "研发费用加计扣除\udfff比例是多少？\x07", mount="")
    assert event == "complete" and answered["question"] == "研发费用加计扣除比例是多少？"


def test_a_feedback_database_error_names_no_path(sessions):
    url, _ = sessions
    page = Caller(url, "127.0.0.8").ui()
    assert page.click("pb-ask", "研发费用加计扣除比例是多少？", [], None).success
    rated = page.click("pb-up", "", None)
    assert rated.success and rated.warnings
    assert all("feedback.sqlite3" in w and "/" not in w for w in rated.warnings)


# ---- 8. the log ----

def test_user_errors_and_refusals_are_one_log_line_each(sessions):
    url, log = sessions
    caller = Caller(url, "127.0.0.7")
    session = "one-tab"
    for _ in range(12):  # the session's 10 and then refusals
        caller.call("ask", "   ", session=session)
    for bad in ("abc", 1e9):
        caller.call("search", "研发费用", bad)
    caller.call("match", "{not json")
    text = wait_for_line(log, "match user-error")
    assert "Traceback" not in text and "gradio.exceptions.Error" not in text
    lines = text.splitlines()
    assert sum(" ask user-error " in line for line in lines) >= 10 and any(" ask limited " in line for line in lines)
    assert all(line.startswith("20") or line.startswith("PolicyBot") for line in lines)  # nothing but our own lines
