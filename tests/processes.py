"""Real processes for tests: a free loopback port, a server started, awaited and stopped, and a
real `chroma run` on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running(cmd: list[str], ready: Callable[[], bool], log: Path, timeout: float, **popen) -> Iterator[subprocess.Popen]:
    """Start `cmd` with output to `log`, wait until `ready()` (failing with the log if it exits or
    stays silent past `timeout`), and terminate it afterwards."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **popen)
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if proc.poll() is not None or time.monotonic() > deadline:
                state = f"exited with {proc.returncode}" if proc.poll() is not None else f"silent after {timeout:.0f} s"
                pytest.fail(f"{' '.join(cmd[:3])} {state}; its log:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def chroma_executable() -> str:
    beside = Path(sys.executable).parent / "chroma"
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if not found:
        pytest.fail("the `chroma` executable is not installed next to this Python (pip install chromadb)")
    return found


def chroma_answers(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/api/v2/heartbeat", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def running_chroma(data_dir: Path, timeout: float = 30.0) -> Iterator[str]:
    """`chroma run` on a free port; yields its URL once the heartbeat answers, terminates it after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [chroma_executable(), "run", "--path", str(data_dir), "--host", "127.0.0.1", "--port", str(port)]
    with running(cmd, lambda: chroma_answers(url), data_dir.with_name(data_dir.name + ".log"), timeout):
        yield url
