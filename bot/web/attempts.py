"""Per-client counts for the web actions that are guessable or costly: wrong admin tokens (a lockout
that grows) and 评测 runs (so many an hour).

Like bot/web/ratelimit.py, clients are kept under a salted hash of their key (never an address in the
clear), in memory only; entries that no longer limit anyone are dropped. Thread-safe; `clock`
(seconds, monotonic) is injectable.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import time
from typing import Callable

SWEEP_AT = 1024  # entries before stale ones are dropped


class _PerClient:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._salt = os.urandom(16)

    def _key(self, client: str) -> bytes:
        return hashlib.blake2b(client.encode("utf-8", "replace"), key=self._salt, digest_size=16).digest()


class Lockout(_PerClient):
    """After `free` failures in a row a client must wait `first_wait` seconds before its next try, and
    twice as long after each further failure (at most `max_wait`); a success forgets its failures.
    Tries while waiting are refused without counting."""

    def __init__(self, free: int = 5, first_wait: float = 30.0, max_wait: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock)
        self.free, self.first_wait, self.max_wait = free, first_wait, max_wait
        self._failures: dict[bytes, tuple[int, float]] = {}  # key -> (failures, may try again at)

    def wait(self, client: str) -> float:
        """Seconds `client` must still wait before it may try (0 when it may)."""
        with self._lock:
            _, until = self._failures.get(self._key(client), (0, 0.0))
            return max(0.0, until - self._clock())

    def fail(self, client: str) -> None:
        key = self._key(client)
        with self._lock:
            now = self._clock()
            count = self._failures.get(key, (0, 0.0))[0] + 1
            over = count - self.free + 1  # the free-th failure already makes the next try wait
            wait = min(self.max_wait, self.first_wait * 2 ** (over - 1)) if over > 0 else 0.0
            self._failures[key] = (count, now + wait)
            if len(self._failures) > SWEEP_AT:  # forget clients whose last failure is long past
                self._failures = {k: v for k, v in self._failures.items() if v[1] + self.max_wait > now}

    def succeed(self, client: str) -> None:
        with self._lock:
            self._failures.pop(self._key(client), None)


class PerHour(_PerClient):
    """At most `limit` events per client in any hour."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock)
        self.limit = limit
        self._times: dict[bytes, list[float]] = {}

    def take(self, client: str) -> int:
        """Count one event for `client`: 0 when allowed, else the minutes until it would be."""
        key = self._key(client)
        with self._lock:
            now = self._clock()
            recent = [t for t in self._times.get(key, []) if t > now - 3600.0]
            if len(recent) >= self.limit:
                self._times[key] = recent
                return max(1, math.ceil((recent[0] + 3600.0 - now) / 60))
            self._times[key] = recent + [now]
            if len(self._times) > SWEEP_AT:
                self._times = {k: v for k, v in self._times.items() if v and v[-1] > now - 3600.0}
            return 0
