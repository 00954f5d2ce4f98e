"""Environment values as the app reads them, and bad ones refused in one Chinese line naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.index.embedders import HashEmbeddings, make_embedder
from bot.settings import Settings

PARSED = [  # (variable, value, field, parsed)
    ("POLICYBOT_LLM_TIMEOUT", "2.5", "llm_timeout", 2.5),
    ("POLICYBOT_LLM_TIMEOUT", "30", "llm_timeout", 30.0),
    ("POLICYBOT_MAX_FILE_MB", "3", "max_file_bytes", 3 * 1024 * 1024),
    ("POLICYBOT_MAX_BODY_MB", "2", "max_body_bytes", 2 * 1024 * 1024),
    ("POLICYBOT_UPLOAD_QUOTA_MB", "500", "upload_quota_bytes", 500 * 1024 * 1024),
    ("POLICYBOT_TRUSTED_PROXIES", " 10.0.0.2, 10.1.0.0/16 ,", "trusted_proxies", ("10.0.0.2", "10.1.0.0/16")),
    ("POLICYBOT_RATE_LIMIT", "0", "rate_limit_per_minute", 0),
    ("POLICYBOT_RATE_LIMIT_KEY", "session", "rate_limit_key", "session"),
    ("POLICYBOT_LOG_QUESTIONS", "yes", "log_questions", True),
    ("POLICYBOT_LOG_QUESTIONS", "0", "log_questions", False),
    ("POLICYBOT_INDEX_RETRIES", "0", "index_retries", 0),
    ("POLICYBOT_INDEX_RETRY_DELAY", "0.5", "index_retry_delay", 0.5),
    ("POLICYBOT_CHUNK_CHARS", "80", "chunk_chars", 80),
    ("POLICYBOT_EMBEDDER", "hash", "embedder", "hash"),
    ("POLICYBOT_EMBEDDER", "st:/models/bge", "embedder", "st:/models/bge"),
    ("POLICYBOT_CHROMA_URL", "http://127.0.0.1:8000", "chroma_url", "http://127.0.0.1:8000"),
    ("POLICYBOT_INDEX_DIR", "~/policy-index", "index_dir", Path("~/policy-index").expanduser()),
    ("POLICYBOT_WEB_CONCURRENCY", "", "web_concurrency", 4),  # empty = unset: the default
    ("POLICYBOT_WEB_SESSIONS", "50", "web_sessions", 50),
    ("POLICYBOT_WEB_SESSIONS", "", "web_sessions", 200),
]


@pytest.mark.parametrize("var,raw,name,parsed", PARSED, ids=[f"{v}={r}" for v, r, _, _ in PARSED])
def test_an_environment_value_is_read_into_its_setting(var, raw, name, parsed):
    assert getattr(Settings.from_env({var: raw}), name) == parsed


REFUSED = [  # (variable, value, what the one-line message must also say)
    ("POLICYBOT_LLM_TIMEOUT", "0", "正的秒数"),
    ("POLICYBOT_LLM_TIMEOUT", "soon", "正的秒数"),
    ("POLICYBOT_LLM_TIMEOUT", "nan", "正的秒数"),
    ("POLICYBOT_MAX_FILE_MB", "1.5", "正整数"),
    ("POLICYBOT_MAX_BODY_MB", "0", "正整数"),
    ("POLICYBOT_UPLOAD_QUOTA_MB", "5", "小于单个文件上限"),  # below the 20 MB a single file may have
    ("POLICYBOT_TRUSTED_PROXIES", "10.0.0.2,proxy.local", "'proxy.local'"),
    ("POLICYBOT_RATE_LIMIT", "-1", "非负整数"),
    ("POLICYBOT_RATE_LIMIT_BURST", "0", "正整数"),
    ("POLICYBOT_RATE_LIMIT_KEY", "ip", "host 或 session"),
    ("POLICYBOT_LOG_QUESTIONS", "maybe", "1 或 0"),
    ("POLICYBOT_INDEX_RETRIES", "11", "0 到 10"),
    ("POLICYBOT_INDEX_RETRY_DELAY", "-0.1", "0 到 10"),
    ("POLICYBOT_CHUNK_CHARS", "10", "至少 50"),
    ("POLICYBOT_EMBEDDER", "bge-m3", "嵌入模型设置无效"),
    ("POLICYBOT_CHROMA_URL", "localhost:8000", "Chroma 服务地址无效"),
    ("POLICYBOT_LLM_URL", "127.0.0.1:8001/v1", "大模型服务地址无效"),
    ("POLICYBOT_EVAL_RUNS_PER_HOUR", "many", "'many'"),
]


@pytest.mark.parametrize("var,raw,says", REFUSED, ids=[f"{v}={r}" for v, r, _ in REFUSED])
def test_a_bad_environment_value_is_one_chinese_line_naming_the_variable(var, raw, says):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({var: raw})
    message = str(refused.value)
    assert var in message and says in message and "\n" not in message
    assert "Traceback" not in message and "pydantic" not in message.lower()


def test_flags_override_the_environment_and_none_means_not_given(tmp_path):
    settings = Settings.from_env({"POLICYBOT_INDEX_DIR": "/from/env", "POLICYBOT_EMBEDDER": "hash"},
                                 index_dir=tmp_path, embedder=None)
    assert (settings.index_dir, settings.embedder) == (tmp_path, "hash")


def test_with_changes_a_copy_and_checks_it_like_the_environment():
    base = Settings.from_env({"POLICYBOT_TRUSTED_PROXIES": "10.0.0.2"})
    changed = base.with_(index_retries=2, llm_url="http://127.0.0.1:8001/v1")
    assert (changed.index_retries, changed.trusted_proxies, base.index_retries) == (2, ("10.0.0.2",), 3)
    with pytest.raises(ConfigError, match="POLICYBOT_INDEX_RETRIES"):
        base.with_(index_retries=-1)
    with pytest.raises(Exception):
        base.index_retries = 5  # frozen: one object is shared by every request


def test_secrets_stay_out_of_the_settings_repr():
    settings = Settings.from_env({"POLICYBOT_LLM_API_KEY": "sk-secret-1", "POLICYBOT_ADMIN_TOKEN": "tok-secret-2"})
    assert settings.llm_api_key == "sk-secret-1" and "secret" not in repr(settings)


def test_the_hash_embedder_is_a_deterministic_unit_vector_backend():
    embedder = make_embedder(Settings.from_env({"POLICYBOT_EMBEDDER": "hash"}).embedder)
    assert isinstance(embedder, HashEmbeddings)
    one, again = embedder.embed_query("研发补助"), HashEmbeddings().embed_documents(["研发补助", ""])
    assert one == again[0] and len(one) == 384
    assert all(abs(sum(v * v for v in vec) - 1) < 1e-9 for vec in again)  # the empty text too
