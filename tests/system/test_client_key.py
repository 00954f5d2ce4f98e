"""Which client a request is counted under, and the settings and helpers behind it (no app process)."""

from __future__ import annotations

import ipaddress

import pytest

from bot.errors import ConfigError
from bot.logs import clip
from bot.settings import Settings
from bot.web.guard import REWRITTEN_PEER, client_address, shown

PROXIES = (ipaddress.ip_network("10.0.0.2"), ipaddress.ip_network("10.1.0.0/16"), ipaddress.ip_network("::1"))


@pytest.mark.parametrize("peer, forwarded, expected", [
    ("203.0.113.7", [], "203.0.113.7"),
    ("203.0.113.7", ["198.51.100.1"], "203.0.113.7"),  # nobody trusts a header a client wrote
    ("10.0.0.2", ["198.51.100.1"], "198.51.100.1"),  # a trusted proxy's peer
    ("10.0.0.2", ["6.6.6.6", "198.51.100.1"], "198.51.100.1"),  # what the client wrote itself is left of it
    ("10.0.0.2", ["198.51.100.1", "10.1.4.4"], "198.51.100.1"),  # through two trusted proxies
    ("10.0.0.2", ["10.1.4.4"], "10.1.4.4"),  # only proxies: the first of them
    ("::ffff:10.0.0.2", ["198.51.100.1:4431"], "198.51.100.1"),  # mapped IPv4 peer, a port in the header
    ("::1", ["[2001:db8::5]:80"], "2001:db8::5"),
    ("10.0.0.2", ["garbage"], "garbage"),
    ("198.51.100.1", ["198.51.100.1"], REWRITTEN_PEER),  # the server in front put a header's address in place of the peer
    ("10.1.4.4", ["6.6.6.6", "10.1.4.4"], REWRITTEN_PEER),
])
def test_the_client_is_the_peer_unless_a_trusted_proxy_forwarded_it(peer, forwarded, expected):
    assert client_address(peer, forwarded, PROXIES) == expected


def test_trusted_proxies_are_read_from_the_environment_and_checked():
    settings = Settings.from_env({"POLICYBOT_TRUSTED_PROXIES": " 10.0.0.2, 10.1.0.0/16 ,"})
    assert settings.trusted_proxies == ("10.0.0.2", "10.1.0.0/16") and Settings.from_env({}).trusted_proxies == ()
    with pytest.raises(ConfigError, match="可信代理地址无效：'proxy.local'"):
        Settings.from_env({"POLICYBOT_TRUSTED_PROXIES": "10.0.0.2,proxy.local"})
    with pytest.raises(ConfigError, match="POLICYBOT_RATE_LIMIT_SESSIONS_PER_HOST"):
        Settings.from_env({"POLICYBOT_RATE_LIMIT_SESSIONS_PER_HOST": "0"})


@pytest.mark.parametrize("value, expected", [
    ("短", "短"),
    ("a\nb\x1b[0m\ud800", "a\\nb\\x1b[0m\\ud800"),
    ("长" * 100, "长" * 59 + "…"),
    (["x"] * 100, repr(["x"] * 100)[:59] + "…"),
])
def test_clip_gives_one_short_printable_line(value, expected):
    assert clip(value) == expected


@pytest.mark.parametrize("message, expected", [
    ("索引不存在：/srv/policybot/index。请先运行 policybot ingest", "索引不存在：index。请先运行 policybot ingest"),
    ("无法打开 C:\\data\\feedback.sqlite3：x", "无法打开 feedback.sqlite3：x"),
    ("地址 http://127.0.0.1:8000/v1 和比例 30/60、元/年", "地址 http://127.0.0.1:8000/v1 和比例 30/60、元/年"),
    ("第一行\n第二行", "第一行 第二行"),
])
def test_messages_shown_to_callers_hold_no_path_and_one_line(message, expected):
    assert shown(message) == expected
