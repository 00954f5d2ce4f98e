"""One settings object, read once at the entry point from flags and environment, then passed down.

Each setting is declared once below: its type, default, limits, description, and the Chinese name and
expectation its error message shows. Its environment variable is POLICYBOT_<FIELD NAME> unless an
alias names another; MB-valued ones are declared in MB and read in bytes through a property.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping

from pydantic import AfterValidator, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

from bot.errors import ConfigError

MODES: tuple[str, ...] = ("hybrid", "dense", "bm25")
RATE_LIMIT_KEYS: tuple[str, ...] = ("host", "session")
EMBEDDERS = "e5-small、hash 或 st:<模型名或路径>"  # the specs make_embedder accepts, for messages
MB = 1024 * 1024


class Expect:
    """What a setting's value should be, in Chinese, for the one-line error that names it."""

    def __init__(self, text: str) -> None:
        self.text = text


def _repo_root() -> Path:
    """The source checkout when running from one (it ships corpus/), else the working directory."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "corpus").is_dir() else Path.cwd()


def _folder(name: str, title: str, description: str) -> Any:
    return Field(default_factory=lambda: _repo_root() / name, title=title, description=description)


Folder = Annotated[Path, AfterValidator(Path.expanduser), Expect("文件夹路径")]
PositiveInt = Annotated[int, Field(ge=1), Expect("正整数")]
OffOrInt = Annotated[int, Field(ge=0), Expect("非负整数（0 表示关闭）")]
Flag = Annotated[bool, Expect("1 或 0")]
Url = Annotated[str, Field(pattern=r"^(https?://\S+)?$")]


class Settings(BaseSettings):
    """Everything configurable; frozen, so one object can be shared by every request."""

    model_config = SettingsConfigDict(env_prefix="POLICYBOT_", env_ignore_empty=True, frozen=True, extra="forbid",
                                      validate_by_name=True, validate_default=False)

    index_dir: Folder = _folder("index", "索引文件夹", "The embedded Chroma store and the lexical index.")
    corpus_dir: Folder = _folder("corpus", "政策文件夹", "The policy files `ingest` reads by default.")
    data_dir: Folder = _folder("data", "数据文件夹", "Where the feedback database lives.")
    embedder: Annotated[str, Field(pattern=r"^(e5-small|hash|st:.+)$"), Expect(EMBEDDERS)] = Field(
        "e5-small", title="嵌入模型设置",
        description="e5-small (bundled), hash (a deterministic test double, no model), or st:<name-or-path>.")
    chroma_url: Annotated[Url, Expect("形如 http://127.0.0.1:8000 的地址")] = Field(
        "", title="Chroma 服务地址", description="A Chroma server; empty = the embedded store under index_dir.")
    chunk_chars: Annotated[int, Field(ge=50), Expect("至少 50 的整数（字符数）")] = Field(
        150, title="分块长度", description="Longer clauses are split at sentence ends.")
    max_file_mb: PositiveInt = Field(20, title="单个文件上限（MB）", description="Largest source file read or uploaded.")
    max_pdf_pages: PositiveInt = Field(1000, title="PDF 页数上限",
                                       description="Longer PDFs are refused rather than read for minutes.")
    candidates: PositiveInt = Field(100, title="候选条数", description="Hits each retriever hands to the fusion.")
    rrf_k: OffOrInt = Field(5, title="融合常数", description="The reciprocal rank fusion constant.")
    dense_weight: Annotated[float, Field(ge=0, allow_inf_nan=False), Expect("非负数")] = Field(
        1.0, title="语义检索权重", description="Weight of the dense ranking in the fusion (BM25's is 1).")
    llm_url: Annotated[Url, Expect("形如 http://127.0.0.1:8001/v1 的地址")] = Field(
        "", title="大模型服务地址", description="An OpenAI-compatible endpoint; empty = extractive answers only.")
    llm_model: str = Field("", title="大模型名称", description="e.g. qwen2.5-7b-instruct.")
    llm_api_key: str = Field("", repr=False, title="大模型密钥", description="Never logged or shown.")
    llm_timeout: Annotated[float, Field(gt=0, allow_inf_nan=False), Expect("正的秒数（如 2.5）")] = Field(
        60.0, title="大模型超时", description="Seconds before an LLM call gives up and the extractive answer stands.")
    rate_limit_per_minute: OffOrInt = Field(
        30, validation_alias="POLICYBOT_RATE_LIMIT", title="每分钟请求次数",
        description="Requests per minute per client on /ask /search /match, and per browser tab (session) on the "
                    "UI events that call them.")
    rate_limit_burst: PositiveInt = Field(10, title="连续请求次数", description="Requests a client may send at once.")
    rate_limit_key: Annotated[Literal["host", "session"], Expect("host 或 session")] = Field(
        "host", title="限流依据",
        description="How the named endpoints /ask /search /match count a client: host (client address) or session "
                    "(per API client, within its host's allowance: rate_limit_sessions_per_host). UI events always "
                    "count per session. Behind a reverse proxy, name it in trusted_proxies.")
    rate_limit_sessions_per_host: PositiveInt = Field(
        5, title="每个地址的会话倍数",
        description="With the session key, all sessions of one address together get this many times one "
                    "session's allowance, so new sessions from one host get no fresh budget.")
    rate_limit_api_per_minute: OffOrInt = Field(
        30, validation_alias="POLICYBOT_RATE_LIMIT_API", title="程序接口每分钟请求次数",
        description="Requests per minute per API key (per client address without one) on the /v1 REST and "
                    "OpenAI-compatible routes; 0 = off.")
    rate_limit_api_burst: PositiveInt = Field(10, title="程序接口连续请求次数",
                                              description="Requests to /v1 one key or address may send at once.")
    api_keys: Annotated[tuple[str, ...], NoDecode, Expect("逗号分隔的密钥，每个至少 8 个字符")] = Field(
        (), repr=False, title="程序接口密钥",
        description="Bearer keys /v1 requires (Authorization: Bearer <key>); empty = /v1 is open. Never logged.")
    query_cache: OffOrInt = Field(
        1024, title="查询向量缓存条数",
        description="Query embeddings kept for repeated questions (least recently used dropped first); 0 = off.")
    trusted_proxies: Annotated[tuple[str, ...], NoDecode, Expect("逗号分隔的 IP 地址或网段（如 10.0.0.2,10.1.0.0/16）")] = Field(
        (), title="可信代理",
        description="Reverse proxies whose X-Forwarded-For the rate limit believes; empty = none: a client is "
                    "the address that connected.")
    log_questions: Flag = Field(False, title="记录问题开关", description="1: the web process logs question text.")
    web_concurrency: PositiveInt = Field(
        4, title="并发数",
        description="Events of one kind served at once by the UI, as many again by /api/ (each has its own "
                    "queue; Gradio's default of 1 queues simultaneous questions behind each other), and as many "
                    "REST /v1 calls (the others wait their turn).")
    web_sessions: PositiveInt = Field(
        200, title="网页会话数",
        description="Visitor sessions whose page state (the chat's conversation, the last answer) is kept in "
                    "memory; the least recently used is dropped first. Bounds the web process's memory.")
    admin_token: str = Field("", repr=False, title="管理口令",
                             description="Enables document upload in the web app; empty = disabled.")
    index_retries: Annotated[int, Field(ge=0, le=10), Expect("0 到 10 之间的整数（0 表示不重试）")] = Field(
        3, title="索引重试次数",
        description="A Chroma server that stops answering is retried this many times, waiting index_retry_delay, "
                    "then twice that, … before IndexUnavailable (the defaults give up after ~1.5 s).")
    index_retry_delay: Annotated[float, Field(ge=0, le=10), Expect("0 到 10 之间的秒数（如 0.2）")] = Field(
        0.2, title="索引重试间隔", description="Seconds before the first retry.")
    shipped_vectors: Flag = Field(
        True, title="预置向量开关",
        description="1: ingest takes the shipped corpus's vectors from bot/data/seed-vectors.npz instead of "
                    "embedding them (bot/index/seed.py); 0: embed everything (eval/bench.py times embedding).")
    max_body_mb: PositiveInt = Field(1, title="请求体上限（MB）", description="Request bodies other than uploads.")
    upload_rate_limit: OffOrInt = Field(10, title="每分钟上传次数", description="Uploads per minute per client.")
    upload_quota_mb: PositiveInt = Field(200, title="上传空间上限（MB）", description="All uploaded files kept at once.")
    eval_runs_per_hour: PositiveInt = Field(6, title="每小时评测次数", description="评测 runs a client may start an hour.")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise _config_error(exc) from None

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, **_other_sources):  # type: ignore[override]
        """Only what from_env hands over: the environment is read there, once, not on every construction."""
        return (init_settings,)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> "Settings":
        """Build from the environment (or `env`), then apply non-None overrides (CLI flags)."""
        values = _EnvSource(cls, os.environ if env is None else env)()
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_list(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(p.strip() for p in value.split(",") if p.strip())
        for proxy in value if isinstance(value, (tuple, list)) else ():
            try:
                ipaddress.ip_network(proxy, strict=False)
            except (TypeError, ValueError):
                raise ConfigError(f"可信代理地址无效：{proxy!r}（POLICYBOT_TRUSTED_PROXIES 应为逗号分隔的 IP 地址或网段，"
                                  "如 10.0.0.2,10.1.0.0/16）") from None
        return value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _key_list(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(k.strip() for k in value.split(",") if k.strip())
        if isinstance(value, (tuple, list)) and any(not isinstance(k, str) or len(k) < 8 for k in value):
            raise ConfigError("程序接口密钥过短：POLICYBOT_API_KEYS 中每个密钥至少 8 个字符（逗号分隔）")
        return value

    @model_validator(mode="after")
    def _quota_holds_a_file(self) -> "Settings":
        if self.upload_quota_mb < self.max_file_mb:
            raise ConfigError(f"上传空间上限（{self.upload_quota_mb} MB）小于单个文件上限（{self.max_file_mb} MB）："
                              "请调大 POLICYBOT_UPLOAD_QUOTA_MB 或调小 POLICYBOT_MAX_FILE_MB")
        return self

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * MB

    @property
    def max_body_bytes(self) -> int:
        return self.max_body_mb * MB

    @property
    def upload_quota_bytes(self) -> int:
        return self.upload_quota_mb * MB

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_url and self.llm_model)

    def with_(self, **changes: object) -> "Settings":
        """A copy with some fields changed, validated like the original."""
        return type(self)(**{**dict(self), **changes})


class _EnvSource(EnvSettingsSource):
    """pydantic-settings' environment reading (prefix, aliases, empty = unset) over a given mapping."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._env = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._env, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


def env_var(name: str) -> str:
    """The environment variable that sets field `name`."""
    alias = Settings.model_fields[name].validation_alias
    return alias if isinstance(alias, str) else f"POLICYBOT_{name.upper()}"


def _config_error(exc: ValidationError) -> ConfigError:
    """The first problem as one Chinese line naming the setting, its variable and what it should be."""
    error = exc.errors()[0]
    key = str(error["loc"][0]) if error["loc"] else ""
    name = next((n for n in Settings.model_fields if key in (n, env_var(n))), None)
    if name is None:
        return ConfigError(f"未知的设置：{key!r}")
    field = Settings.model_fields[name]
    expect = next((m.text for m in field.metadata if isinstance(m, Expect)), "有效的值")
    space = " " if expect[0].isascii() else ""
    return ConfigError(f"{field.title or name}无效：{env_var(name)} 应为{space}{expect}，实际为 {error['input']!r}")
