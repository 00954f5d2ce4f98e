"""How the REST API serves calls that come together: POLICYBOT_WEB_CONCURRENCY of them work at once,
the others wait their turn and are answered, none refused (bot/web/rest.py Calls)."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.errors import QuestionError
from bot.web.rest import ApiError, Calls


def test_calls_work_n_at_once_and_the_others_wait_their_turn():
    calls = Calls(2)
    lock = threading.Lock()
    running, most = 0, 0

    def work(n: int) -> dict:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.2)
        with lock:
            running -= 1
        return {"n": n, "答": "依据[1]"}

    with ThreadPoolExecutor(6) as pool:
        replies = list(pool.map(lambda n: calls("ask", lambda: work(n)), range(6)))
    assert most == 2
    assert [r.status_code for r in replies] == [200] * 6
    assert [json.loads(r.body) for r in replies] == [{"n": n, "答": "依据[1]"} for n in range(6)]


def test_a_refused_call_gives_its_turn_back():
    calls = Calls(1)

    def refused() -> dict:
        raise QuestionError("请输入问题")

    with pytest.raises(ApiError) as refusal:
        calls("ask", refused)
    assert refusal.value.status == 422 and refusal.value.message == "请输入问题"
    with ThreadPoolExecutor(1) as pool:  # another thread: the slot is free, not held by the refusal
        reply = pool.submit(calls, "ask", lambda: {"ok": True}).result(timeout=5)
    assert json.loads(reply.body) == {"ok": True}
