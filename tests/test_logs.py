"""Logs never hold the LLM API key, and hold an asker's question only when the operator opted in."""

from __future__ import annotations

import logging

import pytest

from bot.logs import question_for_log
from bot.service import PolicyBot
from bot.settings import Settings

from .openai_stub import OpenAIStub

KEY = "sk-policybot-SECRET-7f3a9c"
QUESTION = "知识产权质押融资贴息比例是多少？我们公司叫黔南某某科技"


def _ask(small_corpus, tmp_path, embedder, caplog, **settings) -> list[logging.LogRecord]:
    with OpenAIStub(rule=lambda m: "贴息比例不超过50%[1]。") as stub:
        config = Settings.from_env({}, index_dir=tmp_path / "index", llm_url=stub.url, llm_model=stub.model,
                                   llm_api_key=KEY, **settings)
        bot = PolicyBot(config, embedder)
        bot.ingest([small_corpus])
        with caplog.at_level(logging.DEBUG):
            answer = bot.ask(QUESTION, use_llm=True)
            logging.getLogger("httpx").debug("request headers: Authorization: Bearer %s", KEY)  # as a library might
    assert answer.answerer == "llm" and stub.requests
    return caplog.records


@pytest.mark.slow
def test_the_api_key_is_masked_in_every_record_and_the_question_stays_out_of_bot_logs(
    small_corpus, tmp_path, embedder, caplog
):
    records = _ask(small_corpus, tmp_path, embedder, caplog)
    assert KEY not in caplog.text
    assert "Bearer ***" in caplog.text
    ours = [r.getMessage() for r in records if r.name.startswith("bot")]
    assert any("问题已隐去" in m for m in ours)  # the question was logged, as length and digest only
    assert not [m for m in ours if "黔南" in m or "贴息比例是多少" in m]


@pytest.mark.slow
def test_with_log_questions_on_the_question_is_logged(small_corpus, tmp_path, embedder, caplog):
    records = _ask(small_corpus, tmp_path, embedder, caplog, log_questions=True)
    assert any("黔南某某科技" in r.getMessage() for r in records if r.name.startswith("bot"))
    assert KEY not in caplog.text


@pytest.mark.parametrize("raw,expected", [("1", True), ("true", True), ("0", False), ("off", False)])
def test_log_questions_is_read_from_the_environment(raw, expected):
    settings = Settings.from_env({"POLICYBOT_LOG_QUESTIONS": raw})
    assert settings.log_questions is expected
    assert ("甲公司" in question_for_log(settings.log_questions, "甲公司能拿多少补贴？")) is expected


def test_the_web_log_receives_lines_from_every_stage_not_only_the_web():
    """One logger namespace: an index retry or an LLM fallback logged deep in bot/ reaches the web log."""
    import io

    from bot.logs import configure_logging

    stream = io.StringIO()
    logger = logging.getLogger("bot")
    saved = list(logger.handlers)
    logger.handlers.clear()
    try:
        configure_logging(stream)
        for name in ("bot.answering.pipeline", "bot.index.store", "bot.web.guard"):
            logging.getLogger(name).warning("line from %s", name)
    finally:
        logger.handlers[:] = saved
    for name in ("bot.answering.pipeline", "bot.index.store", "bot.web.guard"):
        assert f"line from {name}" in stream.getvalue()
