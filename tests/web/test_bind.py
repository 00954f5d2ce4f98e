"""bot/server.py's sockets: every address a host name has, bound before the app is built, refusing
callers until it serves, and one Chinese line when an address cannot be had."""

from __future__ import annotations

import socket

import pytest

from bot.errors import ConfigError
from bot.web.server import bind

from ..processes import free_port


def test_a_port_another_server_listens_on_is_refused_in_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"^无法在 127.0.0.1:{port} 上启动网页服务：端口已被占用"):
            bind("127.0.0.1", port)


def test_an_unknown_host_is_named_in_the_error():
    with pytest.raises(ConfigError, match="无法在 no-such-host.invalid:7860 上启动网页服务：找不到这个主机名或地址"):
        bind("no-such-host.invalid", 7860)


def test_bound_sockets_refuse_callers_until_the_app_listens():
    port = free_port()
    sockets = bind("localhost", port)
    try:
        assert {s.family for s in sockets} >= {socket.AF_INET}
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        for s in sockets:
            s.listen()
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        for s in sockets:
            s.close()


def test_a_bracketed_ipv6_address_is_accepted_when_the_machine_has_ipv6():
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        sockets = bind("[::1]", free_port())
    except ConfigError as exc:
        pytest.skip(f"::1 not configured here: {exc}")
    try:
        assert [s.family for s in sockets] == [socket.AF_INET6]
    finally:
        for s in sockets:
            s.close()
