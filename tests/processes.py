"""Real processes for tests: a free loopback port, and a server started, awaited and stopped."""

from __future__ import annotations

import socket
import subprocess
import time
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

