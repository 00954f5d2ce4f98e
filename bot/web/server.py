"""Serving the web app: one process, the UI at / and its named endpoints at / and again at /api/.

Gradio's own launch() serves one Blocks; two are mounted on one FastAPI app here and run by uvicorn,
so programs get endpoints without the UI's per-session cost (see bot/web/layout.py build_api). Gradio is imported
only after the index, jieba and the model have started loading in a thread: the two overlap, and a
started app answers its first question at full speed.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from bot.errors import ConfigError


def _warm_up(bot, built: threading.Event) -> None:
    """The index loaded and a first search run before the first user's; once the app is built too,
    start-up's objects are set aside from Python's collector (PolicyBot.settle)."""
    bot.search("研发费用加计扣除", 1)
    built.wait()
    bot.settle()


def serve(settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Build the index from corpus/ if there is none, then serve until interrupted."""
    from bot.service import build_bot

    sockets = bind(host, port)  # first: a taken port fails before a minute of indexing
    # Gradio recomputes a pandas summary of up to 10,000 past events after every event, for a
    # monitoring page this app does not enable: 2 ms a call at first, 8 ms once 10,000 calls have been
    # made. Read when a Blocks is made; a deployment that enables monitoring sets its own value.
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(2**62))
    from bot.web.files import UploadArea, upload_root

    # Uploads and 评测 reports live in the app's own folder, emptied at start (bot/web/files.py); Gradio
    # reads the variable when the app and each component are made, below.
    uploads = UploadArea(upload_root(settings))
    uploads.reset()
    os.environ["GRADIO_TEMP_DIR"] = str(uploads.root)
    bot = build_bot(settings)
    # A first start builds the index (seconds, with the shipped vectors) while Gradio imports: in a
    # child process, on the other core (Gradio's import and the ingest both hold a GIL for seconds).
    with ThreadPoolExecutor(1, thread_name_prefix="first-index") as pool:
        first_index = pool.submit(bot.ensure_index, in_child=True)
        import gradio as gr
        report = first_index.result()
    if report is not None:
        print(report.summary(), file=sys.stderr)
    bot.follow_server()  # with a Chroma server: ingests through other replicas serve here within seconds
    built = threading.Event()
    threading.Thread(target=_warm_up, args=(bot, built), name="warm-up", daemon=True).start()
    import uvicorn
    from fastapi import FastAPI

    from bot.web.app import WebApp
    from bot.web.guard import refuse_missing_arguments
    from bot.web.layout import CSS, build_api, build_app
    from bot.web.page_script import PAGE_JS
    from bot.logs import configure_logging
    from bot.web.protect import Protect
    from bot.web.queue import WakingQueue

    configure_logging()
    app = WebApp(bot)
    # /docs is served by bot/web/rest.py from the fastapi-offline package's files: FastAPI's default
    # page loads Swagger UI from a CDN, blank on a machine without internet.
    server = FastAPI(title="PolicyBot API", version="1", docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    from bot.web.rest import install

    install(server, bot)  # /v1 REST and OpenAI-compatible routes, /docs; first: "/" below takes every other path
    # As launch() would: errors other than the app's own Chinese messages are not shown to callers,
    # uploads (the 文档管理 and 评测 tabs'; /api/ takes none) are capped, nothing is monitored, and no record of
    # questions is kept in the browser (service-window PCs are shared).
    common = dict(server_name=host, server_port=port, show_error=False, enable_monitoring=False,
                  run_history=False, max_file_size=settings.max_file_bytes, footer_links=["api"])
    for path, blocks, extra in (("/api", build_api(app), {}), ("/", build_app(bot, app), {"css": CSS, "js": PAGE_JS})):
        # Gradio keeps each session's state until 10,000 sessions (about 0.1 MB each for the UI): a
        # busy app grew without a visible bound. Read when the Blocks is mounted.
        blocks.state_session_capacity = settings.web_sessions
        refuse_missing_arguments(blocks)  # a Chinese line, not Gradio's English error (bot/web/guard.py)
        gr.mount_gradio_app(server, blocks, path=path, **common, **extra)
        # As launch() marks it: only then does Gradio refuse an event's file outside its upload folder
        # (instead of copying it in). bot/web/protect.py and the handlers check that too.
        blocks.has_launched = True
        WakingQueue.adopt(blocks)  # no 1 ms polling (bot/web/queue.py)

    protected = Protect(server, uploads, settings)  # headers, origins, body sizes, uploads (bot/web/protect.py)
    # proxy_headers=False: uvicorn would otherwise take X-Forwarded-For from any loopback caller; the guard
    # (bot/web/guard.py) believes it only from POLICYBOT_TRUSTED_PROXIES.
    config = uvicorn.Config(protected, log_level="warning", access_log=False, timeout_graceful_shutdown=2,
                            proxy_headers=False)
    logging.getLogger("uvicorn.error").addFilter(_StreamsCancelled())  # after Config set up logging
    for sock in sockets:
        try:
            sock.listen(2048)
        except OSError as exc:  # another process bound the port meanwhile and listens on it
            raise ConfigError(_refusal(host, port, exc)) from None
    shown = f"[{host}]" if ":" in host else host
    print(f"PolicyBot 已启动：http://{shown}:{port}/ （程序接口：http://{shown}:{port}/api/ 和 REST http://{shown}:{port}/docs）",
          file=sys.stderr, flush=True)
    built.set()
    uvicorn.Server(config).run(sockets=sockets)


def bind(host: str, port: int) -> list[socket.socket]:
    """Sockets bound to every address `host` names (as asyncio would bind them), not yet listening:
    callers are refused, not kept waiting, while the app is built. A one-line error naming the address
    and why when one cannot be bound (a server already listening there, an address this machine lacks)."""
    name = host.strip("[]")
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        raise ConfigError(f"无法在 {host}:{port} 上启动网页服务：找不到这个主机名或地址（可用 --host/--port 换一个）") from None
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):  # each once, in order
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart need not wait out TIME_WAIT
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)  # as asyncio: IPv4 has its own socket
            sock.bind(address)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise ConfigError(_refusal(host, port, exc)) from None
    return sockets


def _refusal(host: str, port: int, exc: OSError) -> str:
    why = {errno.EADDRINUSE: "端口已被占用", errno.EADDRNOTAVAIL: "本机没有这个地址", errno.EACCES: "没有使用该端口的权限"}
    reason = why.get(exc.errno, exc.strerror or str(exc))
    return f"无法在 {host}:{port} 上启动网页服务：{reason}（可用 --host/--port 换一个）"


class _StreamsCancelled(logging.Filter):
    """Every open page and API client keeps an event stream (Gradio's heartbeat) open; stopping the
    server cancels them once the grace period is over. That is expected, not an error with a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, asyncio.CancelledError):
            return False
        return not record.getMessage().startswith("Cancel ")
