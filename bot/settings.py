"""One settings object, read once at the entry point from flags and environment, then passed down."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from bot.errors import ConfigError

MODES: tuple[str, ...] = ("hybrid", "dense", "bm25")
RATE_LIMIT_KEYS: tuple[str, ...] = ("host", "session")


def _repo_root() -> Path:
    """The source checkout when running from one (it ships corpus/), else the working directory."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "corpus").is_dir() else Path.cwd()


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Field comments name the environment variable that sets it."""

    index_dir: Path = field(default_factory=lambda: _repo_root() / "index")  # POLICYBOT_INDEX_DIR
    corpus_dir: Path = field(default_factory=lambda: _repo_root() / "corpus")  # POLICYBOT_CORPUS_DIR
    embedder: str = "e5-small"  # POLICYBOT_EMBEDDER: e5-small | st:<name-or-path>
    chroma_url: str = ""  # POLICYBOT_CHROMA_URL, e.g. http://127.0.0.1:8000; empty = embedded
    chunk_chars: int = 150  # POLICYBOT_CHUNK_CHARS: longer clauses are split at sentence ends
    max_file_bytes: int = 20 * 1024 * 1024  # POLICYBOT_MAX_FILE_MB
    max_pdf_pages: int = 1000  # POLICYBOT_MAX_PDF_PAGES: longer PDFs are refused, not read for minutes
    candidates: int = 100  # how many hits each retriever hands to the fusion
    rrf_k: int = 5  # reciprocal rank fusion constant
    dense_weight: float = 1.0  # weight of the dense ranking in the fusion (BM25's is 1)
    llm_url: str = ""  # POLICYBOT_LLM_URL: an OpenAI-compatible endpoint, e.g. http://127.0.0.1:8001/v1
    llm_model: str = ""  # POLICYBOT_LLM_MODEL, e.g. qwen2.5-7b-instruct
    llm_api_key: str = field(default="", repr=False)  # POLICYBOT_LLM_API_KEY (never logged)
    llm_timeout: float = 60.0  # POLICYBOT_LLM_TIMEOUT, seconds
    # Web app: requests per minute per client on /ask /search /match and the UI events that call them.
    rate_limit_per_minute: int = 30  # POLICYBOT_RATE_LIMIT; 0 turns limiting off
    rate_limit_burst: int = 10  # POLICYBOT_RATE_LIMIT_BURST: requests a client may send at once
    # POLICYBOT_RATE_LIMIT_KEY: host (client address) | session (per browser tab / API client, within
    # its host's allowance: see rate_limit_sessions_per_host). Behind a reverse proxy, name it in trusted_proxies.
    rate_limit_key: str = "host"
    log_questions: bool = False  # POLICYBOT_LOG_QUESTIONS=1: the web process logs question text
    # POLICYBOT_WEB_CONCURRENCY: events of one kind served at once by the UI, and as many again by /api/
    # (each has its own queue; Gradio's default is 1, which queues 20 simultaneous questions behind each
    # other; embedding, search and answer are thread-safe)
    web_concurrency: int = 4
    data_dir: Path = field(default_factory=lambda: _repo_root() / "data")  # POLICYBOT_DATA_DIR: feedback database
    admin_token: str = field(default="", repr=False)  # POLICYBOT_ADMIN_TOKEN: enables document upload in the web app; empty = disabled
    # A Chroma server that stops answering is retried this many times, waiting retry_delay, then
    # twice that, … (bounded: the default gives up after ~1.5 s) before IndexUnavailable.
    index_retries: int = 3  # POLICYBOT_INDEX_RETRIES (0 = no retry)
    index_retry_delay: float = 0.2  # POLICYBOT_INDEX_RETRY_DELAY, seconds before the first retry
    # Web app protections (bot/web/protect.py, bot/web/files.py): request bodies other than uploads,
    # uploads per client, the uploads kept at once, and 评测 runs per client.
    max_body_bytes: int = 1024 * 1024  # POLICYBOT_MAX_BODY_MB
    upload_rate_limit: int = 10  # POLICYBOT_UPLOAD_RATE_LIMIT: uploads per minute per client; 0 = no limit
    upload_quota_bytes: int = 200 * 1024 * 1024  # POLICYBOT_UPLOAD_QUOTA_MB: all uploaded files kept at once
    eval_runs_per_hour: int = 6  # POLICYBOT_EVAL_RUNS_PER_HOUR: 评测 runs a client may start an hour
    # POLICYBOT_TRUSTED_PROXIES: comma-separated addresses or networks (10.0.0.2, 10.1.0.0/16) of reverse
    # proxies whose X-Forwarded-For the rate limit believes; empty = none: a client is the address that connected.
    trusted_proxies: tuple[str, ...] = ()
    # POLICYBOT_RATE_LIMIT_SESSIONS_PER_HOST: with the session key, all sessions of one address together get
    # this many times one session's allowance, so new sessions from one host get no fresh budget.
    rate_limit_sessions_per_host: int = 5

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> "Settings":
        """Build from the environment, then apply non-None overrides (CLI flags)."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        if env.get("POLICYBOT_INDEX_DIR"):
            values["index_dir"] = Path(env["POLICYBOT_INDEX_DIR"])
        if env.get("POLICYBOT_CORPUS_DIR"):
            values["corpus_dir"] = Path(env["POLICYBOT_CORPUS_DIR"])
        if env.get("POLICYBOT_EMBEDDER"):
            values["embedder"] = env["POLICYBOT_EMBEDDER"]
        if env.get("POLICYBOT_DATA_DIR"):
            values["data_dir"] = Path(env["POLICYBOT_DATA_DIR"])
        if env.get("POLICYBOT_ADMIN_TOKEN"):
            values["admin_token"] = env["POLICYBOT_ADMIN_TOKEN"]
        if env.get("POLICYBOT_CHROMA_URL"):
            values["chroma_url"] = env["POLICYBOT_CHROMA_URL"]
        for name, var in (("chunk_chars", "POLICYBOT_CHUNK_CHARS"),):
            if env.get(var):
                values[name] = _positive_int(var, env[var])
        for name, var in (("llm_url", "POLICYBOT_LLM_URL"), ("llm_model", "POLICYBOT_LLM_MODEL"), ("llm_api_key", "POLICYBOT_LLM_API_KEY")):
            if env.get(var):
                values[name] = env[var]
        if env.get("POLICYBOT_LLM_TIMEOUT"):
            values["llm_timeout"] = float(_positive_int("POLICYBOT_LLM_TIMEOUT", env["POLICYBOT_LLM_TIMEOUT"]))
        if env.get("POLICYBOT_RATE_LIMIT"):
            values["rate_limit_per_minute"] = _non_negative_int("POLICYBOT_RATE_LIMIT", env["POLICYBOT_RATE_LIMIT"])
        if env.get("POLICYBOT_RATE_LIMIT_BURST"):
            values["rate_limit_burst"] = _positive_int("POLICYBOT_RATE_LIMIT_BURST", env["POLICYBOT_RATE_LIMIT_BURST"])
        if env.get("POLICYBOT_RATE_LIMIT_KEY"):
            values["rate_limit_key"] = env["POLICYBOT_RATE_LIMIT_KEY"]
        if env.get("POLICYBOT_LOG_QUESTIONS"):
            values["log_questions"] = _flag("POLICYBOT_LOG_QUESTIONS", env["POLICYBOT_LOG_QUESTIONS"])
        if env.get("POLICYBOT_WEB_CONCURRENCY"):
            values["web_concurrency"] = _positive_int("POLICYBOT_WEB_CONCURRENCY", env["POLICYBOT_WEB_CONCURRENCY"])
        if env.get("POLICYBOT_MAX_PDF_PAGES"):
            values["max_pdf_pages"] = _positive_int("POLICYBOT_MAX_PDF_PAGES", env["POLICYBOT_MAX_PDF_PAGES"])
        if env.get("POLICYBOT_INDEX_RETRIES"):
            values["index_retries"] = _non_negative_int("POLICYBOT_INDEX_RETRIES", env["POLICYBOT_INDEX_RETRIES"])
        if env.get("POLICYBOT_INDEX_RETRY_DELAY"):
            values["index_retry_delay"] = _seconds("POLICYBOT_INDEX_RETRY_DELAY", env["POLICYBOT_INDEX_RETRY_DELAY"])
        if env.get("POLICYBOT_MAX_FILE_MB"):
            values["max_file_bytes"] = _positive_int("POLICYBOT_MAX_FILE_MB", env["POLICYBOT_MAX_FILE_MB"]) * 1024 * 1024
        for name, var in (("max_body_bytes", "POLICYBOT_MAX_BODY_MB"), ("upload_quota_bytes", "POLICYBOT_UPLOAD_QUOTA_MB")):
            if env.get(var):
                values[name] = _positive_int(var, env[var]) * 1024 * 1024
        if env.get("POLICYBOT_UPLOAD_RATE_LIMIT"):
            values["upload_rate_limit"] = _non_negative_int("POLICYBOT_UPLOAD_RATE_LIMIT", env["POLICYBOT_UPLOAD_RATE_LIMIT"])
        if env.get("POLICYBOT_EVAL_RUNS_PER_HOUR"):
            values["eval_runs_per_hour"] = _positive_int("POLICYBOT_EVAL_RUNS_PER_HOUR", env["POLICYBOT_EVAL_RUNS_PER_HOUR"])
        if env.get("POLICYBOT_TRUSTED_PROXIES"):
            values["trusted_proxies"] = tuple(p.strip() for p in env["POLICYBOT_TRUSTED_PROXIES"].split(",") if p.strip())
        if env.get("POLICYBOT_RATE_LIMIT_SESSIONS_PER_HOST"):
            values["rate_limit_sessions_per_host"] = _positive_int("POLICYBOT_RATE_LIMIT_SESSIONS_PER_HOST",
                                                                   env["POLICYBOT_RATE_LIMIT_SESSIONS_PER_HOST"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("index_dir", "corpus_dir", "data_dir"):
            if key in values:
                values[key] = Path(values[key]).expanduser()
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        if not (self.embedder == "e5-small" or (self.embedder.startswith("st:") and len(self.embedder) > 3)):
            raise ConfigError(f"嵌入模型设置无效：{self.embedder!r}（可用 e5-small 或 st:<模型名或路径>）")
        if self.chroma_url and not self.chroma_url.startswith(("http://", "https://")):
            raise ConfigError(f"Chroma 服务地址无效：{self.chroma_url!r}（应形如 http://127.0.0.1:8000）")
        if self.llm_url and not self.llm_url.startswith(("http://", "https://")):
            raise ConfigError(f"大模型服务地址无效：{self.llm_url!r}（应形如 http://127.0.0.1:8001/v1）")
        if self.rate_limit_per_minute < 0 or self.rate_limit_burst < 1:
            raise ConfigError(f"限流设置无效：每分钟 {self.rate_limit_per_minute} 次、连续 {self.rate_limit_burst} 次"
                              "（每分钟次数应 ≥ 0，0 表示不限流；连续次数应 ≥ 1）")
        if self.rate_limit_key not in RATE_LIMIT_KEYS:
            raise ConfigError(f"限流依据设置无效：{self.rate_limit_key!r}（可用 host 或 session）")
        if not 0 <= self.index_retries <= 10 or not 0 <= self.index_retry_delay <= 10:
            raise ConfigError(f"索引重试设置无效：{self.index_retries} 次、{self.index_retry_delay} 秒（应为 0–10 次、0–10 秒）")
        if self.upload_quota_bytes < self.max_file_bytes:
            raise ConfigError(f"上传空间上限（{self.upload_quota_bytes // 2**20} MB）小于单个文件上限（{self.max_file_bytes // 2**20} MB）："
                              "请调大 POLICYBOT_UPLOAD_QUOTA_MB 或调小 POLICYBOT_MAX_FILE_MB")
        if self.chunk_chars < 50:
            raise ConfigError(f"分块长度过小：{self.chunk_chars}（至少 50 个字符）")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ConfigError(f"可信代理地址无效：{proxy!r}（POLICYBOT_TRUSTED_PROXIES 应为逗号分隔的 IP 地址或网段，"
                                  "如 10.0.0.2,10.1.0.0/16）") from None

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_url and self.llm_model)

    def with_(self, **changes: object) -> "Settings":
        return replace(self, **changes)  # type: ignore[arg-type]


def _positive_int(var: str, raw: str) -> int:
    return _int_at_least(var, raw, 1, "正整数")


def _non_negative_int(var: str, raw: str) -> int:
    return _int_at_least(var, raw, 0, "非负整数（0 表示关闭）")


def _int_at_least(var: str, raw: str, low: int, kind: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if value < low:
        raise ConfigError(f"环境变量 {var} 应为{kind}，实际为 {raw!r}")
    return value


def _seconds(var: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"环境变量 {var} 应为秒数（如 0.2），实际为 {raw!r}") from None
    if not 0 <= value <= 10:
        raise ConfigError(f"环境变量 {var} 应在 0 到 10 秒之间，实际为 {raw!r}")
    return value


def _flag(var: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"环境变量 {var} 应为 1 或 0，实际为 {raw!r}")
