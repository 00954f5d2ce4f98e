"""What every HTTP request to the web app goes through before Gradio sees it (an ASGI middleware).

- Every response says it may not be framed by another site and its type may not be sniffed.
- A state-changing request (POST, …) whose Origin, or else Referer, names another site is refused:
  a page elsewhere cannot make a visitor's browser upload or ask. Programs send neither and pass.
- Bodies are limited as they arrive (Content-Length first, then counting): an upload to the upload
  size, anything else to max_body_bytes. Neither is ever held whole beyond that.
- Files are taken only at the UI's upload route: the /api/ mount and Gradio's other file routes
  refuse them. There each client may upload so many a minute, within a quota for all uploads kept
  at once, and every file stored is recorded; an event may name only recorded files (bot/web/files.py).

Refusals are JSON, {"error": "<one Chinese line>"}, with the status saying which kind.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers

from bot.web.ratelimit import RateLimiter
from bot.web.files import EXPIRED, UploadArea

UPLOAD_ROUTE = "/gradio_api/upload"  # the UI mount's; the only one that takes files
FILE_ROUTES = ("upload", "process_recording")  # last path segments of routes that store files
UPLOAD_OVERHEAD = 1024 * 1024  # multipart framing around the file itself
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
]
_REPLACED = {b"x-frame-options", b"x-content-type-options"}


def _mb(size: int) -> str:
    return f"{size / 2**20:.0f} MB" if size >= 2**20 else f"{size / 1024:.0f} KB"


class Protect:
    """The ASGI app that wraps the FastAPI server (see the module docstring)."""

    def __init__(self, app, area: UploadArea, settings) -> None:
        self.app = app
        self.area = area
        self.max_body = settings.max_body_bytes
        self.max_upload = settings.max_file_bytes + UPLOAD_OVERHEAD
        self.max_file = settings.max_file_bytes
        self.quota = settings.upload_quota_bytes
        per_minute = settings.upload_rate_limit
        self.uploads = RateLimiter(per_minute, max(1, per_minute))
        self.reserved = 0  # bytes of uploads being received

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _secured(send)
        headers = Headers(scope=scope)
        method = scope["method"]
        route = _route(scope["path"])
        if method not in SAFE_METHODS and _cross_site(headers):
            await _refuse(send, 403, "拒绝来自其他网站的请求：请直接在本站页面上操作")
            return
        limit = self.max_upload if route == "upload" else self.max_body
        length = headers.get("content-length")
        if length is not None and not length.isdigit():
            await _refuse(send, 400, "请求头 Content-Length 无效")
            return
        if length is not None and int(length) > limit:
            await _refuse(send, 413, self._too_large(route))
            return
        if route == "refused":
            await _refuse(send, 404, "此地址不接受文件上传（程序接口 /api/ 只收文字；文件请在网页的文档管理或评测页上传）")
            return
        if route == "upload":
            await self._upload(scope, receive, send, None if length is None else int(length))
            return
        content_type = headers.get("content-type", "")
        if method in SAFE_METHODS or content_type.startswith("multipart/"):
            await _counted(self.app, scope, receive, send, limit, self._too_large(route))
            return
        body = await _read(receive, limit)
        if body is None:
            await _refuse(send, 413, self._too_large(route))
            return
        if self.area.unknown(_named_files(body)):
            await _refuse(send, 403, EXPIRED)
            return
        await self.app(scope, _replay(body, receive), send)

    def _too_large(self, route: str) -> str:
        if route == "upload":
            return f"上传文件过大：每个文件不超过 {_mb(self.max_file)}，一次上传合计不超过 {_mb(self.max_file)}（请分批上传）"
        return f"请求内容过大：上限 {_mb(self.max_body)}"

    async def _upload(self, scope, receive, send, length: int | None) -> None:
        """Rate, quota and record an upload to the UI's upload route."""
        if length is None:
            await _refuse(send, 411, "上传请求缺少 Content-Length，请用浏览器或常见 HTTP 客户端上传")
            return
        client = (scope.get("client") or ("-",))[0]
        if not self.uploads.allow(client):
            await _refuse(send, 429, f"上传过于频繁：每个客户端每分钟最多 {self.uploads.per_minute} 次，请稍后再试")
            return
        if self.area.sweep() + self.reserved + length > self.quota:
            await _refuse(send, 507, f"服务器的上传空间已满（上限 {_mb(self.quota)}），请稍后再试")
            return
        self.reserved += length
        status, body = [0], []

        async def recording(message) -> None:
            """Keep a stored upload's answer (the list of its paths); hold back a 413 (Gradio's is in English)."""
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif status[0] == 200:
                body.append(message.get("body", b""))
            if status[0] != 413:
                await send(message)

        try:
            await _counted(self.app, scope, receive, recording, self.max_upload, self._too_large("upload"))
        finally:
            self.reserved -= length
        if status[0] == 413:
            await _refuse(send, 413, self._too_large("upload"))
        elif status[0] == 200:
            try:
                stored = json.loads(b"".join(body))
            except ValueError:
                stored = []
            if isinstance(stored, list):
                self.area.issue(p for p in stored if isinstance(p, str))


def _route(path: str) -> str:
    """upload (the UI's upload route), refused (any other route that stores files), or other."""
    clean = "/" + "/".join(part for part in path.split("/") if part)
    if clean == UPLOAD_ROUTE:
        return "upload"
    return "refused" if clean.rsplit("/", 1)[-1] in FILE_ROUTES else "other"


def _cross_site(headers: Headers) -> bool:
    """Whether the request's Origin (or, without one, its Referer) is not this site."""
    source = headers.get("origin") or headers.get("referer")
    if not source:
        return False  # a program, or a browser that says nothing: same-origin pages always send Origin on POST
    if source == "null":
        return True  # a sandboxed frame or a local file
    return urlsplit(source).netloc.lower() != headers.get("host", "").lower()


def _named_files(body: bytes) -> list[Any]:
    """The paths of the files (Gradio FileData objects) a JSON body names."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return []
    found, stack = [], [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            meta = item.get("meta")
            if isinstance(meta, dict) and meta.get("_type") == "gradio.FileData":
                found.append(item.get("path"))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


async def _read(receive, limit: int) -> bytes | None:
    """The whole body, or None once it exceeds `limit` (the rest is not read)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive):
    sent = False

    async def replay():
        nonlocal sent
        if sent:
            return await receive()  # waits for the client to go away, as the server's would
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _counted(app, scope, receive, send, limit: int, message: str) -> None:
    """Run `app` on a body counted as it streams: past `limit` the app is told the client left, and
    whatever it answers is replaced by a 413."""
    state = {"read": 0, "over": False, "started": False}

    async def counting():
        got = await receive()
        if got["type"] == "http.request":
            state["read"] += len(got.get("body", b""))
            if state["read"] > limit:
                state["over"] = True
                return {"type": "http.disconnect"}
        return got

    async def answering(msg) -> None:
        if state["over"] and not state["started"]:
            return
        state["started"] = True
        await send(msg)

    try:
        await app(scope, counting, answering)
    except Exception:
        if not state["over"]:
            raise
    if state["over"] and not state["started"]:
        await _refuse(send, 413, message)


def _secured(send):
    async def secured(message) -> None:
        if message["type"] == "http.response.start":
            kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _REPLACED]
            message = {**message, "headers": kept + SECURITY_HEADERS}
        await send(message)

    return secured


async def _refuse(send, status: int, error: str) -> None:
    body = json.dumps({"error": error}, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
