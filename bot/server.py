"""Serving the web app: one process, the UI at / and its named endpoints at / and again at /api/.

Gradio's own launch() serves one Blocks; two are mounted on one FastAPI app here and run by uvicorn,
so programs get endpoints without the UI's per-session cost (see web.build_api). Gradio is imported
only after the index, jieba and the model have started loading in a thread: the two overlap, and a
started app answers its first question at full speed.
"""

from __future__ import annotations

import os
import sys
import threading

from .errors import ConfigError


def serve(settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Build the index from corpus/ if there is none, then serve until interrupted."""
    from .service import build_bot

    check_port(host, port)  # first: a taken port fails before a minute of indexing
    bot = build_bot(settings)
    report = bot.ensure_index()
    if report is not None:
        print(report.summary(), file=sys.stderr)
    threading.Thread(target=bot.search, args=("研发费用加计扣除", 1), name="warm-up", daemon=True).start()

    # Gradio recomputes a pandas summary of up to 10,000 past events after every event, for a
    # monitoring page this app does not enable: 2 ms a call at first, 8 ms once 10,000 calls have been
    # made. Read when a Blocks is made; a deployment that enables monitoring sets its own value.
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(2**62))
    import gradio as gr
    import uvicorn
    from fastapi import FastAPI

    from .web import CSS, WebApp, build_api, build_app
    from .webguard import configure_logging

    configure_logging()
    app = WebApp(bot)
    server = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    # run_history=False: no record of questions kept in the browser (service-window PCs are shared).
    gr.mount_gradio_app(server, build_api(app), path="/api", footer_links=["api"], run_history=False)
    gr.mount_gradio_app(server, build_app(bot, app), path="/", css=CSS, footer_links=["api"], run_history=False,
                        max_file_size=settings.max_file_bytes, server_name=host, server_port=port)
    shown = f"[{host}]" if ":" in host else host
    print(f"PolicyBot 已启动：http://{shown}:{port}/ （程序接口：http://{shown}:{port}/api/）", file=sys.stderr, flush=True)
    uvicorn.run(server, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=2)


def check_port(host: str, port: int) -> None:
    """Fail with a one-line error naming the address and why when host:port cannot be listened on.

    The probe is closed again: a socket left listening while the app is built would make callers
    wait on a half-started app instead of being refused."""
    import errno
    import socket

    why = {errno.EADDRINUSE: "端口已被占用", errno.EADDRNOTAVAIL: "本机没有这个地址", errno.EACCES: "没有使用该端口的权限"}
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            sock.bind((host, port))
            sock.listen()
    except OSError as exc:
        reason = why.get(exc.errno, exc.strerror or str(exc))
        raise ConfigError(f"无法在 {host}:{port} 上启动网页服务：{reason}（可用 --host/--port 换一个）") from None
