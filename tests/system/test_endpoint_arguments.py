"""A call that sends an endpoint or a page event fewer arguments than it takes (a hand-written client,
`"data": []`) gets one Chinese line naming what it needs, as for an argument of the wrong type, and
the app logs one line for it, not Gradio's English error and traceback."""

from __future__ import annotations

import re

import pytest

from ..webapp import wait_for_line
from .callers import Caller
from .websec import Site

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(tmp_path_factory, fake_embedder):
    site = Site(tmp_path_factory.mktemp("arguments-app"), fake_embedder)
    with site.serving(POLICYBOT_EMBEDDER="hash") as (url, _):
        yield url, site.log


@pytest.mark.parametrize("mount, endpoint, args, wanted", [
    ("api/", "ask", (), "question"),
    ("api/", "search", ("研发费用",), "query、k"),
    ("api/", "match", (), "profile_json"),
    ("", "search", (), "query、k"),
])
def test_too_few_arguments_get_a_chinese_line_naming_the_parameters(app, mount, endpoint, args, wanted):
    url, _ = app
    event, message = Caller(url, "127.0.0.2").call(endpoint, *args, mount=mount)
    assert event == "error"
    assert f"参数不足：需要 {len(wanted.split('、'))} 个（{wanted}），收到 {len(args)} 个" in message, message
    assert "\n" not in message and not re.search(r"[A-Za-z]{4,}", message.replace(wanted, "").replace(endpoint, ""))


def test_a_page_event_sent_too_few_values_gets_the_same_line_and_the_log_one_line(app):
    url, log = app
    outcome = Caller(url, "127.0.0.3").ui().click("pb-up")
    assert not outcome.success and "参数不足：需要 2 个（comment、last），收到 0 个" in outcome.error
    text = wait_for_line(log, "user-error missing-arguments")
    assert "user-error missing-arguments" in text
    assert "Traceback" not in text and "didn't receive enough input values" not in text
