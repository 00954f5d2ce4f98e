"""The per-client token bucket, on a hand-driven clock (no waiting), and its settings."""

from __future__ import annotations

import threading
import time

import pytest

from bot.errors import ConfigError, RateLimited
from bot.web.ratelimit import RateLimiter
from bot.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_client_gets_its_burst_then_is_refused(clock):
    limiter = RateLimiter(per_minute=30, burst=5, clock=clock)
    assert [limiter.allow("a") for _ in range(6)] == [True] * 5 + [False]


def test_tokens_come_back_at_the_per_minute_rate(clock):
    limiter = RateLimiter(per_minute=30, burst=2, clock=clock)  # one token every 2 s
    assert limiter.allow("a") and limiter.allow("a") and not limiter.allow("a")
    clock.now += 1.9
    assert not limiter.allow("a")
    clock.now += 0.2
    assert limiter.allow("a")
    assert not limiter.allow("a")


def test_an_idle_client_refills_only_up_to_its_burst(clock):
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)
    limiter.allow("a")
    clock.now += 3600
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]


def test_clients_have_separate_buckets(clock):
    limiter = RateLimiter(per_minute=10, burst=1, clock=clock)
    assert limiter.allow("10.0.0.1")
    assert not limiter.allow("10.0.0.1")
    assert limiter.allow("10.0.0.2")


def test_zero_per_minute_turns_limiting_off(clock):
    limiter = RateLimiter(per_minute=0, burst=1, clock=clock)
    assert not limiter.enabled
    assert all(limiter.allow("a") for _ in range(1000))
    assert len(limiter) == 0


def test_check_raises_a_chinese_message_naming_the_limit(clock):
    limiter = RateLimiter(per_minute=12, burst=1, clock=clock)
    limiter.check("a")
    with pytest.raises(RateLimited, match="请求过于频繁，请稍后再试") as caught:
        limiter.check("a")
    assert "12" in str(caught.value)


def test_client_addresses_are_not_kept_in_the_clear(clock):
    limiter = RateLimiter(per_minute=10, burst=1, clock=clock)
    limiter.allow("192.168.7.77")
    assert len(limiter) == 1
    held = repr(limiter.__dict__)
    assert "192.168.7.77" not in held and b"192.168.7.77" not in held.encode()


def test_refilled_buckets_are_forgotten(clock):
    limiter = RateLimiter(per_minute=60, burst=2, clock=clock)
    for n in range(500):
        limiter.allow(f"client-{n}")
    assert len(limiter) == 500
    clock.now += 10  # everyone refilled (2 tokens at 1 a second)
    limiter.allow("latecomer")
    assert len(limiter) == 1


def test_concurrent_callers_never_get_more_than_the_burst(clock):
    def yielding_clock() -> float:
        time.sleep(0)  # hands the GIL to another caller midway through taking a token
        return clock()

    limiter = RateLimiter(per_minute=1, burst=25, clock=yielding_clock)
    granted = []
    lock = threading.Lock()

    def spend():
        for _ in range(10):
            if limiter.allow("shared"):
                with lock:
                    granted.append(1)

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 25


def test_settings_read_the_rate_limit_from_the_environment():
    s = Settings.from_env({"POLICYBOT_RATE_LIMIT": "0", "POLICYBOT_RATE_LIMIT_BURST": "40",
                           "POLICYBOT_RATE_LIMIT_KEY": "session", "POLICYBOT_LOG_QUESTIONS": "1"})
    assert (s.rate_limit_per_minute, s.rate_limit_burst, s.rate_limit_key, s.log_questions) == (0, 40, "session", True)
    default = Settings.from_env({})
    assert default.rate_limit_per_minute > 0 and default.rate_limit_burst >= 1 and not default.log_questions


@pytest.mark.parametrize("env, names", [
    ({"POLICYBOT_RATE_LIMIT": "-1"}, "POLICYBOT_RATE_LIMIT"),
    ({"POLICYBOT_RATE_LIMIT": "fast"}, "POLICYBOT_RATE_LIMIT"),
    ({"POLICYBOT_RATE_LIMIT_BURST": "0"}, "POLICYBOT_RATE_LIMIT_BURST"),
    ({"POLICYBOT_RATE_LIMIT_KEY": "ip"}, "'ip'"),
    ({"POLICYBOT_LOG_QUESTIONS": "maybe"}, "POLICYBOT_LOG_QUESTIONS"),
])
def test_bad_rate_limit_settings_name_the_value(env, names):
    with pytest.raises(ConfigError, match=names):
        Settings.from_env(env)


def test_the_llm_key_stays_out_of_the_settings_repr():
    s = Settings.from_env({"POLICYBOT_LLM_API_KEY": "sk-very-secret-123"})
    assert "sk-very-secret-123" not in repr(s)
