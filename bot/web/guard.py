"""What every public web handler goes through: the per-client rate limit, argument checks and one log line.

`@guarded("ask")` on a WebApp handler gives it a `gr.Request` (Gradio fills it in), takes a token
from the client's bucket (a clear Chinese gr.Error when there is none), and logs the endpoint,
outcome and duration. The log never holds a client address, and holds question text only when
`log_questions` is on. Called in-process without a request (tests), a handler is not limited.

A client is the address that connected, unless that is one of `Settings.trusted_proxies`: then the
right-most X-Forwarded-For address that is not a trusted proxy. Anyone can write the header, so it
counts only when a proxy we trust wrote it. A person's UI events count per session (Gradio's session
hash), and so do the named endpoints with the session key; a session is counted within its host's
allowance (rate_limit_sessions_per_host), so new session hashes from one host get no fresh budget.

Errors a caller causes (a limit, a bad argument, the app's own PolicyBotError) reach Gradio as a
gr.Error that prints no traceback: the log gets one line per call, however many calls are refused.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import ipaddress
import logging
import math
import re
import time
from dataclasses import dataclass
from typing import Callable, Iterable

import gradio as gr

from bot.errors import PolicyBotError, RateLimited
from bot.logs import clip, question_for_log
from bot.web.ratelimit import RateLimiter
from bot.web.toasts import ERROR_TITLE, refusal
from bot.settings import Settings

log = logging.getLogger(__name__)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# The key of requests whose socket peer the server in front already replaced with an address from
# X-Forwarded-For (uvicorn's proxy_headers, which trusts loopback by default): the real peer is unknown,
# and a header's address is nobody's identity, so all of them share one bucket.
REWRITTEN_PEER = "rewritten-by-server"
INTERNAL_ERROR = "服务内部出错，已记录日志，请稍后再试或联系管理员"
# An absolute filesystem path (POSIX, ~/, C:\): shown to a caller as its last name only.
_PATH = re.compile(r"""(?<![\w:/.\\~])(?:~|[A-Za-z]:)?[/\\][^\s/\\<>"'|：，。；、（）()“”]+(?:[/\\][^\s/\\<>"'|：，。；、（）()“”]*)+""")
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # lone surrogates, as a JSON "\ud800" escape sends
JSON_TYPES = {bool: "布尔值", int: "数字", float: "数字", list: "列表", dict: "对象", type(None): "空值 null"}


class ArgumentError(PolicyBotError):
    """An endpoint argument of the wrong type or out of range (a program calling the API)."""


@dataclass
class RequestGuard:
    """The web process's limiter and logging choices, built once from settings."""

    limiter: RateLimiter
    key: str = "host"  # host | session
    log_questions: bool = False
    trusted_proxies: tuple[Network, ...] = ()
    hosts: RateLimiter | None = None  # each host's sessions together (people's UI events; programs' with the session key)

    @classmethod
    def from_settings(cls, settings: Settings) -> "RequestGuard":
        per_minute, burst = settings.rate_limit_per_minute, settings.rate_limit_burst
        n = settings.rate_limit_sessions_per_host
        hosts = RateLimiter(per_minute * n, burst * n)
        proxies = tuple(ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies)
        return cls(RateLimiter(per_minute, burst), settings.rate_limit_key, settings.log_questions, proxies, hosts)

    def host(self, request: gr.Request) -> str:
        """The client address a request is counted under (hashed by the limiter, never logged)."""
        peer = getattr(getattr(request, "client", None), "host", None) or ""
        return client_address(peer, forwarded_for(getattr(request, "headers", None)), self.trusted_proxies)

    def client(self, request: gr.Request, person: bool = False) -> str:
        """The key of the bucket a request takes its token from: its host's, or its session's within its
        host. A person's UI events always count per session (a service hall's clerks share one address)."""
        host = self.host(request)
        return f"{host} {request.session_hash or '-'}" if person or self.key == "session" else host

    def admit(self, request: gr.Request, person: bool = False) -> None:
        """Take a token for this request (a person's UI event, or a program's call), or raise RateLimited."""
        if self.hosts is not None and (person or self.key == "session"):
            self.hosts.check(self.host(request))
        self.limiter.check(self.client(request, person))


def client_address(peer: str, forwarded: list[str], trusted: Iterable[Network]) -> str:
    """The socket peer, unless it is a trusted proxy: then the right-most forwarded address that is
    not one (what the nearest trusted proxy saw). A peer that appears in the header itself was put
    there by the server in front (see REWRITTEN_PEER); a proxy never lists itself."""
    peer, forwarded, trusted = _address(peer), [_address(hop) for hop in forwarded], tuple(trusted)
    if peer and peer in forwarded:
        return REWRITTEN_PEER
    if _trusted(peer, trusted) and forwarded:
        untrusted = [hop for hop in forwarded if not _trusted(hop, trusted)]
        return untrusted[-1] if untrusted else forwarded[0]  # only proxies: the first of them sent it
    return peer or "-"


def forwarded_for(headers) -> list[str]:
    """The X-Forwarded-For addresses, left (the first client) to right (the last proxy's peer)."""
    if headers is None:
        return []
    values = headers.getlist("x-forwarded-for") if hasattr(headers, "getlist") else [headers.get("x-forwarded-for") or ""]
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _address(text: str) -> str:
    """An address as one canonical string: without port or brackets, IPv4-mapped IPv6 as IPv4;
    anything that is no address is kept (clipped) as it was written."""
    text = text.strip()
    host = text[1:text.find("]")] if text.startswith("[") and "]" in text else text
    if host.count(":") == 1:  # IPv4 with a port
        host = host.split(":")[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return clip(text.lower(), 100)
    mapped = getattr(ip, "ipv4_mapped", None)
    return str(mapped or ip)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)  # False across IPv4 and IPv6


def shown(error: BaseException | str) -> str:
    """A message as a web caller sees it: one line, absolute paths cut to their last name."""
    text = " ".join(str(error).split())
    return _PATH.sub(lambda m: re.split(r"[/\\]", m.group(0).rstrip("/\\"))[-1], text)


def user_error(error: BaseException | str) -> gr.Error:
    """The gr.Error a caller gets for their own mistake: shown to them, no traceback in the log."""
    return refusal(shown(error))


def text_argument(name: str, value: object) -> str:
    """A text argument as the app reads it: a string (None is empty) without lone surrogates, which
    no UTF-8 encoder takes. Control characters are the question checks' to refuse or drop."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ArgumentError(f"参数 {name} 应为文本（字符串），收到{_echo(value)}")
    return _SURROGATE.sub("", value)


def whole_number(name: str, value: object, low: int, high: int) -> int:
    """An integer argument in [low, high]; JSON numbers such as 5.0 count, strings and booleans do not."""
    ok = isinstance(value, int) or (isinstance(value, float) and math.isfinite(value) and value.is_integer())
    if isinstance(value, bool) or not ok or not low <= value <= high:
        raise ArgumentError(f"参数 {name} 应为 {low} 到 {high} 之间的整数，收到{_echo(value)}")
    return int(value)


def _echo(value: object) -> str:
    """What a caller sent, named by its JSON type and shown clipped: 文本“abc”, 列表 ['a']."""
    if isinstance(value, str):
        return f"文本“{clip(value, 30)}”"
    return f"{JSON_TYPES.get(type(value), type(value).__name__)} {clip(value, 30)}"


def refuse_missing_arguments(blocks: gr.Blocks) -> None:
    """Make an event sent fewer values than it takes (a hand-written API call, `"data": []`) get one
    Chinese line naming what it needs, like the other argument errors. Gradio checks the count
    before any handler runs and answers with an English error (hidden from callers: show_error is
    off) and a traceback in the log."""
    check = blocks.validate_inputs

    def validate_inputs(block_fn, inputs: list) -> None:
        needed = len(block_fn.inputs)
        if len(inputs) < needed:
            name = block_fn.api_name or block_fn.name or "?"
            log.info("%s user-error missing-arguments", name)
            names = _parameter_names(block_fn.fn, needed)
            raise user_error(ArgumentError(
                f"调用 {name} 的参数不足：需要 {needed} 个{f'（{names}）' if names else ''}，收到 {len(inputs)} 个"))
        check(block_fn, inputs)

    blocks.validate_inputs = validate_inputs


def _parameter_names(fn: Callable | None, count: int) -> str:
    """The names of a handler's `count` input parameters (not those Gradio fills in: the request, a
    progress bar), joined for a message; "" when its signature does not tell them."""
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.annotation not in (gr.Request, "gr.Request") and not isinstance(p.default, gr.Progress)]
    except (TypeError, ValueError):  # no function, or a builtin without a signature
        return ""
    return "、".join(p.name for p in params) if len(params) == count else ""


def guarded(endpoint: str, text: bool = False, api: bool = False) -> Callable[[Callable], Callable]:
    """Decorate a WebApp method: rate-limit it per client and log each call. `text=True` marks the
    first argument as the user's question: checked to be text (text_argument), and logged
    only when log_questions is on. `api=True` (a named endpoint) turns the app's own errors into
    gr.Error, the one line an API caller gets; UI handlers catch them to show a warning beside the
    form instead. Called by Gradio (with a request), any other failure is logged with its traceback
    once and the caller gets a one-line Chinese message."""

    def decorate(method: Callable) -> Callable:
        signature = inspect.signature(method)
        params = list(signature.parameters.values())
        text_name = params[1].name if text and len(params) > 1 else ""

        @contextlib.contextmanager
        def admitted(self, args: tuple):
            """Check the limit and the text, then log the call's outcome and time however it ends."""
            request = None
            if args and isinstance(args[0], gr.Request):
                request, args = args[0], args[1:]
            guard: RequestGuard = self.guard
            started = time.perf_counter()
            outcome, failure = "ok", None
            try:
                if request is not None:
                    guard.admit(request, person=not api)
                if text_name and args:
                    args = (text_argument(text_name, args[0]), *args[1:])
                yield args
            except RateLimited as exc:
                outcome = "limited"
                raise user_error(exc) from None
            except PolicyBotError as exc:
                outcome = "user-error"
                if api or request is not None:
                    raise user_error(exc) from None
                raise
            except gr.Error as exc:
                outcome = "user-error"
                exc.print_exception = False
                exc.title = ERROR_TITLE if exc.title == "Error" else exc.title  # Gradio's English default
                raise
            except Exception as exc:
                outcome, failure = "failed", exc
                if request is not None:
                    raise refusal(INTERNAL_ERROR) from None
                raise
            finally:
                ms = (time.perf_counter() - started) * 1000
                said = f" question={question_for_log(guard.log_questions, args[0])}" if text and args else ""
                log.log(logging.ERROR if failure else logging.INFO, "%s %s %.0f ms%s", endpoint, outcome, ms, said,
                        exc_info=failure)

        if inspect.isgeneratorfunction(method):  # Gradio streams only from a generator function

            @functools.wraps(method)
            def wrapper(self, *args, **kwargs):
                with admitted(self, args) as rest:
                    yield from method(self, *rest, **kwargs)
        else:

            @functools.wraps(method)
            def wrapper(self, *args, **kwargs):
                with admitted(self, args) as rest:
                    return method(self, *rest, **kwargs)

        # Gradio injects a gr.Request into a positional parameter annotated with it: put one first.
        request_param = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=gr.Request)
        wrapper.__signature__ = signature.replace(parameters=[params[0], request_param, *params[1:]])
        wrapper.__annotations__ = {**getattr(method, "__annotations__", {}), "request": gr.Request}
        return wrapper

    return decorate
