"""`python app.py` as a real process for web tests: started on a free loopback port over an index,
with extra POLICYBOT_* settings in its environment, its combined output captured in a log file."""

from __future__ import annotations

import os
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from .processes import free_port, running

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 90.0


def answers_http(url: str) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    return ready


@contextmanager
def web_app(index_dir: Path, log: Path, **settings: str) -> Iterator[str]:
    """The app's URL while it runs. It keeps its feedback beside its log and has no admin token unless
    `settings` give them: never the caller's data folder or token."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ}
    env.pop("POLICYBOT_CHROMA_URL", None)  # unless `settings` name one
    env.update({"POLICYBOT_INDEX_DIR": str(index_dir), "POLICYBOT_DATA_DIR": str(log.parent / f"data-{port}"), **settings})
    env.pop("GRADIO_ANALYTICS_ENABLED", None)  # the app turns Gradio's analytics off itself, as users run it
    if "POLICYBOT_ADMIN_TOKEN" not in settings:
        env.pop("POLICYBOT_ADMIN_TOKEN", None)
    with running([sys.executable, "app.py", "--port", str(port)], answers_http(url), log, START_TIMEOUT, cwd=ROOT, env=env):
        yield url


def client(url: str):
    from gradio_client import Client

    # download_files=False: no endpoint returns a file (tests/web/test_api.py checks a default Client too).
    return Client(url, verbose=False, download_files=False)


def wait_for_line(log: Path, needle: str, timeout: float = 5.0) -> str:
    """The log's text once it holds `needle` (or after `timeout`): log lines land just after a reply."""
    deadline = time.monotonic() + timeout
    text = log.read_text(encoding="utf-8", errors="replace")
    while needle not in text and time.monotonic() < deadline:
        time.sleep(0.1)
        text = log.read_text(encoding="utf-8", errors="replace")
    return text
