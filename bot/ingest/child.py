"""An ingest run in a child process, so a long-lived process (the web app) never does the work itself.

An ingest inside the web app left its memory there: reading and parsing, embedding, Chroma's writer
threads and BM25 ran beside the serving threads, in glibc arenas that keep freed pages (an upload of
150 new clauses grew the app by 14 to 17 MB for good). Run here, that memory goes back to the system
when the child exits; the app only opens the finished generation, as after an external
`policybot ingest`.

The parent sends the settings (without secrets) and the paths as one JSON line on the child's stdin
and keeps stdin open; the child answers with JSON lines on stdout: progress, then the report or the
Chinese message of a PolicyBotError. Everything else the child prints goes to stderr, which it shares
with the parent (the app's log). When the parent dies, even by kill -9, stdin reaches end of file and
the child exits at once: like an ingest killed in the app, it leaves the serving generation as it
was, and the next ingest takes over the lock and removes what it half built.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Iterable

from bot.errors import PolicyBotError
from bot.ingest.build import IngestReport
from bot.settings import Settings

SECRETS = {"llm_api_key", "admin_token"}  # an ingest needs neither: they never leave the parent
ORPHANED = 3  # the child's exit status when its parent went away


def ingest_in_child(paths: Iterable[Path], settings: Settings,
                    progress: Callable[[str, int, int], None] | None = None) -> IngestReport:
    """bot.ingest.build.ingest(paths, settings, …) in a fresh `python -m bot.ingest.child`, with an
    embedder made from settings.embedder; its report, or its PolicyBotError raised here."""
    request = {"settings": settings.model_dump(mode="json", exclude=SECRETS), "paths": [str(p) for p in paths]}
    source = str(Path(__file__).resolve().parents[2])  # this checkout's bot/, not another one installed
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))}
    child = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             env=env, text=True, encoding="utf-8")
    outcome: dict = {}
    try:
        try:
            child.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
            child.stdin.flush()  # stdin stays open: its end of file tells the child that we are gone
        except OSError:  # the child died before reading: its exit status says so below
            pass
        for line in child.stdout:
            message = json.loads(line)
            if "progress" in message:
                if progress:
                    progress(*message["progress"])
            else:
                outcome = message
        status = child.wait()
    finally:
        if child.poll() is None:  # we were interrupted: never leave an ingest running unwatched
            child.kill()
            child.wait()
        for pipe in (child.stdin, child.stdout):
            try:
                pipe.close()
            except OSError:
                pass
    if "report" in outcome:
        report = IngestReport(**outcome["report"])
        report.skipped = [tuple(item) for item in report.skipped]
        return report
    if "error" in outcome:
        raise PolicyBotError(outcome["error"])
    raise PolicyBotError(f"导入进程意外退出（退出码 {status}），索引未改变，详情见服务器日志")


def main() -> int:
    """The child's side: one request from stdin, JSON lines to stdout."""
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # a library printing to stdout must not break the protocol: it goes to the log
    request = json.loads(sys.stdin.readline() or "null")
    if request is None:
        return ORPHANED
    threading.Thread(target=_exit_when_orphaned, name="parent-watch", daemon=True).start()

    from bot.index.embedders import make_embedder
    from bot.ingest.build import ingest
    from bot.logs import configure_logging

    configure_logging()

    def send(message: dict) -> None:
        channel.write(json.dumps(message, ensure_ascii=False, default=str) + "\n")
        channel.flush()

    try:
        settings = Settings(**request["settings"])
        report = ingest([Path(p) for p in request["paths"]], settings, make_embedder(settings.embedder),
                        lambda stage, done, total: send({"progress": [stage, done, total]}))
    except PolicyBotError as exc:
        send({"error": str(exc)})
        return 2
    send({"report": asdict(report)})
    return 0


def _exit_when_orphaned() -> None:
    """Block until the parent closes our stdin or dies, then end the process wherever it is. Reads the
    file descriptor itself: a thread blocked in sys.stdin would hold its lock at interpreter exit."""
    while os.read(0, 4096):
        pass
    os._exit(ORPHANED)


if __name__ == "__main__":
    sys.exit(main())
