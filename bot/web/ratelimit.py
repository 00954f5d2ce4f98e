"""Per-client rate limiting for the public web endpoints: a token bucket per client key.

A client may spend `burst` requests at once, then `per_minute` a minute. Buckets live in memory
only and are keyed by a salted hash of the client key (host or session), so the process never
holds a client address in the clear, and nothing is written anywhere. A full bucket is the same
as no bucket, so idle clients are forgotten and the table stays small.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from typing import Callable

from bot.errors import RateLimited

MESSAGE = "请求过于频繁，请稍后再试（每个客户端每分钟最多 {per_minute} 次，连续最多 {burst} 次）"


class RateLimiter:
    """Token buckets per client; `per_minute=0` turns limiting off. Thread-safe; `clock` is injectable
    (seconds, monotonic) so tests need no sleeps."""

    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 0 or burst < 1:
            raise ValueError(f"per_minute must be >= 0 and burst >= 1, got {per_minute} and {burst}")
        self.per_minute = per_minute
        self.burst = burst
        self._clock = clock
        self._rate = per_minute / 60.0  # tokens per second
        self._buckets: dict[bytes, tuple[float, float]] = {}  # key hash -> (tokens, at)
        self._lock = threading.Lock()
        self._salt = os.urandom(16)
        self._last_sweep = clock()

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def allow(self, client: str) -> bool:
        """Take one token from `client`'s bucket; False when it is empty."""
        return self.wait(client) == 0.0

    def wait(self, client: str) -> float:
        """Take one token from `client`'s bucket: 0.0 if there was one, else the seconds until there is
        (what an API's Retry-After says)."""
        if not self.enabled:
            return 0.0
        key = hashlib.blake2b(client.encode("utf-8", "replace"), key=self._salt, digest_size=16).digest()
        with self._lock:
            held = self._buckets.get(key)
            now = self._clock()  # read between taking and putting back the bucket: tests hand over here
            tokens, at = held if held else (float(self.burst), now)
            tokens = min(float(self.burst), tokens + (now - at) * self._rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
            self._sweep(now)
            return 0.0 if allowed else (1.0 - tokens) / self._rate

    def check(self, client: str) -> None:
        """Raise RateLimited (a user-facing message, its `retry_after` in seconds) when `client` is over its limit."""
        wait = self.wait(client)
        if wait:
            error = RateLimited(MESSAGE.format(per_minute=self.per_minute, burst=self.burst))
            error.retry_after = wait
            raise error

    def __len__(self) -> int:
        """How many clients currently have a (not yet refilled) bucket."""
        return len(self._buckets)

    def _sweep(self, now: float) -> None:
        """Drop buckets that have refilled completely (at most once per refill period)."""
        full_after = self.burst / self._rate
        if now - self._last_sweep < full_after:
            return
        self._last_sweep = now
        for key, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * self._rate >= self.burst:
                del self._buckets[key]
