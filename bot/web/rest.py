"""The REST API for integrators (DESIGN.md "Web interfaces"): /v1 routes on the web app's own FastAPI server.

`install(server, bot)` adds them, the OpenAI-compatible routes (bot/web/openai_api.py) and the OpenAPI
page at /docs, before the Gradio mounts take every other path. Each answer is the object the CLI
prints with --json (bot/commands.py builds both). Handlers are plain functions, so FastAPI runs the
bot's sync work in its threadpool: no Gradio queue, session or event stream on this path; `Calls`
lets POLICYBOT_WEB_CONCURRENCY of them work at once.

Every /v1 request passes `ApiAccess` first: the API key when POLICYBOT_API_KEYS is set, then a token
from the bucket of that key (of the client's address without keys), POLICYBOT_RATE_LIMIT_API a minute.
Every refusal is JSON {"error": "<one Chinese line>"} with a 4xx status (a 429 says Retry-After), and
a failure of ours one line too, its traceback in the log only.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import threading
import time
from typing import Any, Callable, Literal

from fastapi import APIRouter, Body, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from bot.errors import ClauseNotFound, IndexUnavailable, PolicyBotError, QuestionError
from bot.logs import clip
from bot.records import MAX_K
from bot.service import PolicyBot
from bot.web.guard import INTERNAL_ERROR, JSON_TYPES, RequestGuard, shown, text_argument
from bot.web.ratelimit import RateLimiter

log = logging.getLogger(__name__)
MAX_TURNS = 10  # earlier questions replayed into a conversation; older ones are left out
OPENAI_PATHS = ("/v1/chat/", "/v1/models")  # their errors take OpenAI's shape (bot/web/openai_api.py)
STATUS_MESSAGES = {
    400: "请求体无法解析：应为 UTF-8 编码的 JSON 对象",
    404: "没有这个接口：可用的接口见 /docs",
    405: "此接口不接受这种请求方法：请查看 /docs 中的说明",
    413: "请求内容过大",
}


class ApiError(Exception):
    """A refusal with its HTTP status, one Chinese line, and OpenAI's error code for those routes."""

    def __init__(self, status: int, message: str, code: str = "invalid_request", headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


# ---- request bodies (their schemas are the /docs page's) ----

class Message(BaseModel):
    """One turn of a chat as OpenAI's API writes it: content a string or a list of text parts."""

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class AskBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(description="问题", examples=["科技成果转化项目最多能拿多少支持？"])
    history: list[str | Message] = Field(
        [], description="同一对话中先前的提问，从早到晚（文字，或 OpenAI 格式的消息：只读用户的）", examples=[["高新技术企业认定需要满足哪些条件？"]])


class SearchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(description="检索内容：关键词、问题或条款号", examples=["研发费用加计扣除"])
    k: int = Field(5, ge=1, le=MAX_K, description="返回条数")
    mode: Literal["hybrid", "dense", "bm25"] = Field("hybrid", description="检索方式：混合、语义或关键词")


# ---- access: key and rate limit ----

class ApiAccess:
    """The FastAPI dependency every /v1 route has: the API key, then the key's (or address's) rate limit."""

    def __init__(self, bot: PolicyBot) -> None:
        settings = bot.settings
        self.keys = tuple(k.encode() for k in settings.api_keys)
        self.limiter = RateLimiter(settings.rate_limit_api_per_minute, settings.rate_limit_api_burst)
        self.guard = RequestGuard.from_settings(settings)  # who the client is behind trusted proxies

    async def __call__(self, request: Request) -> None:
        sent = request.headers.get("authorization", "")
        token = sent[7:].strip().encode() if sent[:7].lower() == "bearer " else b""
        valid = any(hmac.compare_digest(token, key) for key in self.keys)
        # A wrong key is counted under the address: guessing keys is limited like anything else.
        wait = self.limiter.wait(f"key {token.decode()}" if valid else self.guard.host(request))
        if wait:
            per_minute = self.limiter.per_minute
            raise ApiError(429, f"请求过于频繁，请 {math.ceil(wait)} 秒后再试（每个密钥或地址每分钟最多 {per_minute} 次，"
                                f"连续最多 {self.limiter.burst} 次）", "rate_limit_exceeded",
                           {"Retry-After": str(math.ceil(wait))})
        if self.keys and not valid:
            message = "API 密钥不正确" if token else "缺少 API 密钥"
            raise ApiError(401, f"{message}：请在请求头中加上 Authorization: Bearer <密钥>", "invalid_api_key",
                           {"WWW-Authenticate": "Bearer"})


# ---- the routes ----

def rest_router(bot: PolicyBot, answered: Calls) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["PolicyBot"])

    @router.post("/ask", summary="回答一个问题（带引用）", description="与 `policybot ask --json` 相同的对象。")
    def ask(body: AskBody) -> Response:
        def work() -> dict:
            from bot.commands import answer_json

            conversation = conversation_of(bot, body.history)
            question = text_argument("question", body.question)
            return answer_json(bot, question, bot.settings.llm_configured, conversation=conversation)

        return answered("ask", work)

    @router.post("/search", summary="检索条款", description="与 `policybot search --json` 相同的对象。")
    def search(body: SearchBody) -> Response:
        def work() -> dict:
            from bot.answering.pipeline import check_query
            from bot.commands import search_json

            query = check_query(text_argument("query", body.query))
            if not query:
                raise QuestionError("请输入要检索的关键词或条款号，例如：研发费用加计扣除、第九十五条")
            return search_json(bot, query, body.k, body.mode)

        return answered("search", work)

    @router.post("/match", summary="政策匹配", description="请求体为企业画像（字段见 README）；与 `policybot match --json` 相同的对象。")
    def match(profile: dict[str, Any] = Body(examples=[{"revenue_wan": 5000, "zone": {"name": "贵阳国家高新区", "level": "national"}, "is_hightech": True}])) -> Response:
        def work() -> dict:
            from bot.commands import match_json
            from bot.matching.profile import parse_profile

            return match_json(bot.cite, bot.match(parse_profile(profile)), profile)

        return answered("match", work)

    @router.get("/clauses/{clause_id:path}", summary="条款全文",
                description="条款原文、状态（现行、已修改或废止）和编者注；与 `policybot show --json` 相同的对象。")
    def clause(clause_id: str) -> Response:
        from bot.commands import clause_json

        return answered("clause", lambda: clause_json(bot.view(clause_id)))

    return router


def conversation_of(bot: PolicyBot, history: list):
    """A conversation holding the earlier questions (the last MAX_TURNS), each read and answered as the
    web chat's follow-ups are, so the last question is read against them. An earlier question the app
    refuses (empty, not Chinese) is left out rather than failing the one asked now."""
    from bot.answering.pipeline import Conversation

    conversation = Conversation()
    questions = [text_argument("history", turn if isinstance(turn, str) else turn.text) for turn in history
                 if isinstance(turn, str) or turn.role == "user"]
    for question in questions[-MAX_TURNS:]:
        try:
            bot.ask(question, conversation)
        except QuestionError:
            continue
    return conversation


class Calls:
    """Runs each /v1 call's work and shapes its reply: at most `concurrency` calls' work at once
    (POLICYBOT_WEB_CONCURRENCY, as each Gradio queue), the others waiting their turn in the order they
    came. Twenty callers at once on 2 cores (eval/bench_rest.py): p50 250-310 ms and p95 414-445 with 3
    to 6 at a time, against 400-430 and 445-449 with every call's thread working at once (they all
    contend for the GIL and the cores, so all finish late); see docs/benchmarks.md."""

    def __init__(self, concurrency: int) -> None:
        self._slots = threading.BoundedSemaphore(concurrency)

    def __call__(self, endpoint: str, work: Callable[[], Any], shape: Callable[[Any], Response] | None = None) -> Response:
        """The call's JSON (or `shape` of it), or the ApiError a caller sees, and one log line."""
        started = time.perf_counter()
        outcome, failure = "ok", None
        try:
            with self._slots:
                result = work()
            return shape(result) if shape else json_response(result)
        except PolicyBotError as exc:
            outcome = "user-error"
            status = 404 if isinstance(exc, ClauseNotFound) else 503 if isinstance(exc, IndexUnavailable) else 422
            raise ApiError(status, shown(exc)) from None
        except Exception as exc:
            outcome, failure = "failed", exc
            raise ApiError(500, INTERNAL_ERROR, "internal_error") from None
        finally:
            ms = (time.perf_counter() - started) * 1000
            log.log(logging.ERROR if failure else logging.INFO, "v1-%s %s %.0f ms", endpoint, outcome, ms, exc_info=failure)


def json_response(data: Any, status: int = 200, headers: dict | None = None) -> Response:
    """UTF-8 JSON with Chinese as itself; values JSON lacks (dates) as text, as the CLI prints them."""
    body = json.dumps(data, ensure_ascii=False, default=str).encode("utf-8", "replace")  # a lone surrogate sent
    return Response(body, status, headers, media_type="application/json")


# ---- errors ----

def error_response(request: Request, status: int, message: str, code: str = "invalid_request",
                   headers: dict | None = None) -> Response:
    """{"error": message}; on the OpenAI-compatible routes OpenAI's {"error": {"message", "type", "code"}}."""
    if request.url.path.startswith(OPENAI_PATHS):
        kind = "invalid_request_error" if status < 500 else "server_error"
        return json_response({"error": {"message": message, "type": kind, "param": None, "code": code}}, status, headers)
    return json_response({"error": message}, status, headers)


def validation_message(errors: list[dict]) -> str:
    """FastAPI's first validation error as one Chinese line naming the argument."""
    errors = sorted(errors, key=lambda e: e.get("type") != "extra_forbidden")  # a misspelt name first: it explains the missing one
    error = errors[0] if errors else {}
    kind = error.get("type", "")
    loc = [str(part) for part in error.get("loc", ()) if part != "body"]
    name = ".".join(loc)
    got = error.get("input")
    echo = f"文本“{clip(got, 30)}”" if isinstance(got, str) else f"{JSON_TYPES.get(type(got), '值')} {clip(got, 30)}"
    ctx = error.get("ctx") or {}
    if kind == "json_invalid":
        return f"请求体不是有效的 JSON：{clip(ctx.get('error', ''), 60)}"
    if not name or kind in ("model_attributes_type", "dict_type", "model_type"):
        return f"请求体应为 JSON 对象，收到{echo}" if not name else f"参数 {name} 应为 JSON 对象，收到{echo}"
    if kind == "missing":
        return f"缺少参数 {name}"
    if kind == "extra_forbidden":
        return f"未知的参数 {name}：可用的参数见 /docs"
    if kind.startswith("string"):
        return f"参数 {name} 应为文本（字符串），收到{echo}"
    if kind.startswith("int") or kind in ("greater_than_equal", "less_than_equal"):
        return f"参数 {name} 应为 1 到 {MAX_K} 之间的整数，收到{echo}" if name == "k" else f"参数 {name} 应为整数，收到{echo}"
    if kind == "literal_error":
        return f"参数 {name} 应为 {ctx.get('expected', '')} 之一，收到{echo}"
    if kind in ("list_type", "too_short"):
        return f"参数 {name} 应为非空的列表，收到{echo}"
    if kind == "bool_type":
        return f"参数 {name} 应为 true 或 false，收到{echo}"
    return f"参数 {name} 无效，收到{echo}"


def _docs_page(server: FastAPI) -> None:
    """The OpenAPI page at /docs, its Swagger UI (5.x: it reads FastAPI's OpenAPI 3.1) script and style
    served from the files the fastapi-offline package (MIT) ships, so it works without internet access."""
    from importlib import resources

    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    assets = resources.files("fastapi_offline") / "static"
    server.mount("/docs-assets", StaticFiles(directory=str(assets)), name="docs-assets")

    @server.get("/docs", include_in_schema=False)
    def docs() -> Response:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="PolicyBot 程序接口",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon.png")


def install(server: FastAPI, bot: PolicyBot) -> None:
    """Add the /v1 routes, their error handlers and /docs to `server` (before any Gradio mount)."""
    from bot.web.openai_api import openai_router

    access = [Depends(ApiAccess(bot))]
    calls = Calls(bot.settings.web_concurrency)
    routers = [rest_router(bot, calls), openai_router(bot, calls)]
    for router in routers:
        server.include_router(router, dependencies=access)
    paths = {route.path for router in routers for route in router.routes}

    _docs_page(server)

    @server.api_route("/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def unknown(request: Request, rest: str) -> Response:
        """Any other /v1 path: a JSON 404 (or 405 for a known route asked with another method), not Gradio's page."""
        raise HTTPException(405 if request.url.path in paths else 404)

    @server.exception_handler(ApiError)
    async def refused(request: Request, exc: ApiError) -> Response:
        if exc.code in ("invalid_api_key", "rate_limit_exceeded", "model_not_found"):  # refused before `answered` logs
            log.info("v1 refused %s %d", exc.code, exc.status)
        return error_response(request, exc.status, exc.message, exc.code, exc.headers)

    @server.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        log.info("v1 user-error invalid-request")
        return error_response(request, 422, validation_message(exc.errors()), "invalid_request")

    @server.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = STATUS_MESSAGES.get(exc.status_code, f"请求无法处理（HTTP {exc.status_code}）")
        return error_response(request, exc.status_code, message, "invalid_request", getattr(exc, "headers", None))
