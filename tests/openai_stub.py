"""A small OpenAI-compatible HTTP server for tests: the process boundary of an LLM, faked.

Serves POST /v1/chat/completions (JSON, or SSE when the request says "stream": true) and
GET /v1/models on 127.0.0.1 and a free port. Each completion's text comes from `rule(messages)`
when it returns a string, else from the queue of canned replies; a `StubError` in the queue is
sent as that HTTP error. Every request body is recorded in `requests`.

    with OpenAIStub(replies=["…[1]"]) as stub:
        settings = Settings.from_env({}, llm_url=stub.url, llm_model=stub.model)
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

Rule = Callable[[list[dict[str, Any]]], "str | None"]


@dataclass(frozen=True)
class StubError:
    """A canned failure: the stub answers with this HTTP status and an OpenAI-style error body."""

    status: int
    message: str


class OpenAIStub:
    def __init__(
        self,
        replies: Iterable[str | StubError] = (),
        rule: Rule | None = None,
        model: str = "stub-model",
        chunk_chars: int = 3,
        delay: float = 0.0,
    ) -> None:
        self.replies: deque[str | StubError] = deque(replies)
        self.rule = rule
        self.model = model
        self.chunk_chars = chunk_chars  # characters per streamed delta
        self.delay = delay  # seconds before each response (to provoke timeouts)
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ control

    @property
    def url(self) -> str:
        """The base URL a client is configured with (…/v1)."""
        assert self._server is not None, "stub not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def queue(self, *replies: str | StubError) -> None:
        with self._lock:
            self.replies.extend(replies)

    @property
    def last_messages(self) -> list[dict[str, Any]]:
        return self.requests[-1]["messages"]

    def last_prompt(self) -> str:
        """All message contents of the last chat request, joined."""
        return "\n".join(_content_text(m.get("content")) for m in self.last_messages)

    def start(self) -> OpenAIStub:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False  # a delayed reply must not hold up stop()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="openai-stub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> OpenAIStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ replies

    def _reply_for(self, body: dict[str, Any]) -> str | StubError:
        with self._lock:
            self.requests.append(body)
            if self.rule is not None:
                text = self.rule(body.get("messages", []))
                if text is not None:
                    return text
            if self.replies:
                return self.replies.popleft()
        return StubError(500, "openai stub: no reply queued and no rule matched")


def _content_text(content: Any) -> str:
    if isinstance(content, list):  # content blocks
        return "".join(b.get("text", "") for b in content if isinstance(b, dict))
    return str(content or "")


def _pieces(text: str, size: int) -> Iterator[str]:
    for i in range(0, len(text), max(1, size)):
        yield text[i : i + size]


def _handler_for(stub: OpenAIStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            if self.path.rstrip("/") != "/v1/models":
                return self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            self._json(200, {"object": "list", "data": [{"id": stub.model, "object": "model", "created": 0, "owned_by": "stub"}]})

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except json.JSONDecodeError:
                return self._json(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
            reply = stub._reply_for(body)
            if stub.delay:
                time.sleep(stub.delay)
            if isinstance(reply, StubError):
                return self._json(reply.status, {"error": {"message": reply.message, "type": "stub_error", "code": reply.status}})
            if body.get("stream"):
                return self._stream(reply, body)
            self._json(
                200,
                {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", stub.model),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": len(reply), "total_tokens": 1 + len(reply)},
                },
            )

        def _stream(self, text: str, body: dict[str, Any]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            base = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": int(time.time()), "model": body.get("model", stub.model)}
            deltas = [{"role": "assistant", "content": ""}, *({"content": p} for p in _pieces(text, stub.chunk_chars))]
            for delta in deltas:
                self._event({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
            self._event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

        def _event(self, payload: dict[str, Any]) -> None:
            self.wfile.write(b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n")
            self.wfile.flush()

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture(name="openai_stub")
def openai_stub_fixture() -> Iterator[OpenAIStub]:
    """A running stub with an empty queue; queue replies with `openai_stub.queue(...)`."""
    with OpenAIStub() as stub:
        yield stub
