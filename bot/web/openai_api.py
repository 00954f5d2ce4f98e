"""An OpenAI-compatible chat endpoint, so chat front-ends and enterprise bots (Open WebUI, Dify's
OpenAI-compatible provider, WeCom/DingTalk gateways) use PolicyBot as a model named `policybot`.

`GET /v1/models` lists it; `POST /v1/chat/completions` answers the last user message read against the
earlier user turns (bot/web/rest.py conversation_of: as the web chat reads follow-ups), with the
answer's citations as numbered footnotes in the content. With `stream: true` the same answer comes as
server-sent `chat.completion.chunk` events, a line at a time, then `data: [DONE]`: the answer is
complete and verified before its first line is sent, so a refusal is still a plain HTTP error.
Key, rate limit and errors are the REST API's (bot/web/rest.py), errors in OpenAI's shape.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Iterator

from fastapi import APIRouter
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from bot.records import Answer
from bot.service import PolicyBot
from bot.web.guard import text_argument
from bot.web.rest import ApiError, Calls, Message, conversation_of, json_response

MODEL = "policybot"
CREATED = 1767225600  # 2026-01-01: the model's "created" date in /v1/models


class ChatBody(BaseModel):
    """OpenAI's chat request; the sampling parameters it may carry (temperature, …) are accepted and unused."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(examples=[MODEL])
    messages: list[Message] = Field(min_length=1, examples=[[{"role": "user", "content": "科技成果转化项目最多能拿多少支持？"}]])
    stream: bool = False


def openai_router(bot: PolicyBot, answered: Calls) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["OpenAI 兼容接口"])

    @router.get("/models", summary="可用的模型（OpenAI 兼容）")
    def models() -> Response:
        return json_response({"object": "list", "data": [model_card()]})

    @router.get("/models/{model}", summary="一个模型（OpenAI 兼容）")
    def model(model: str) -> Response:
        known(model)
        return json_response(model_card())

    @router.post("/chat/completions", summary="对话补全（OpenAI 兼容，可流式）",
                 description="回答最后一条用户消息；先前的用户消息构成对话上下文。引用以编号脚注写在内容中。")
    def chat(body: ChatBody) -> Response:
        known(body.model)
        *earlier, last = body.messages
        if last.role != "user":
            raise ApiError(422, "最后一条消息应为用户的提问（role 为 user）", "invalid_request")

        def work() -> Answer:
            conversation = conversation_of(bot, earlier)
            return bot.ask(text_argument("content", last.text), conversation, use_llm=bot.settings.llm_configured)

        reply = "chatcmpl-" + uuid.uuid4().hex
        if body.stream:
            return answered("chat-stream", work, lambda answer: StreamingResponse(
                chunks(reply, content_of(answer)), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}))
        return answered("chat", work, lambda answer: json_response(completion(reply, content_of(answer))))

    return router


def known(model: str) -> None:
    if model != MODEL:
        raise ApiError(404, f"没有模型 {model!r}：可用的模型只有 {MODEL}", "model_not_found")


def model_card() -> dict:
    return {"id": MODEL, "object": "model", "created": CREATED, "owned_by": "policybot"}


def content_of(answer: Answer) -> str:
    """The answer's text, its citations as numbered footnotes ([n] 《…》…) at the end: the text already
    lists them under 出处; any it lacks (an LLM's wording) are added."""
    missing = [f"[{c.n}] {c.citation}" for c in answer.citations if f"[{c.n}] {c.citation}" not in answer.text]
    heading = [] if "出处：" in answer.text or not missing else ["出处："]
    return "\n".join([answer.text.rstrip(), *heading, *missing])


def completion(reply: str, content: str) -> dict:
    return {"id": reply, "object": "chat.completion", "created": int(time.time()), "model": MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}


def chunks(reply: str, content: str) -> Iterator[str]:
    """Server-sent events: the role, the content a line at a time, the finish reason, then [DONE]."""
    created = int(time.time())

    def event(delta: dict, finish: str | None = None) -> str:
        data = {"id": reply, "object": "chat.completion.chunk", "created": created, "model": MODEL,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    for line in content.splitlines(keepends=True):
        yield event({"content": line})
    yield event({}, "stop")
    yield "data: [DONE]\n\n"
