"""What every public web handler goes through: the per-client rate limit and one log line.

`@guarded("ask")` on a WebApp handler gives it a `gr.Request` (Gradio fills it in), takes a token
from the client's bucket (a clear Chinese gr.Error when there is none), and logs the endpoint,
outcome and duration. The log never holds a client address, and holds question text only when
`log_questions` is on. Called in-process without a request (tests), a handler is not limited.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import sys
import time
from dataclasses import dataclass
from typing import Callable

import gradio as gr

from .errors import PolicyBotError, RateLimited
from .logsafe import question_for_log
from .ratelimit import RateLimiter
from .settings import Settings

log = logging.getLogger("policybot.web")


@dataclass
class Guard:
    """The web process's limiter and logging choices, built once from settings."""

    limiter: RateLimiter
    key: str = "host"  # host | session
    log_questions: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> "Guard":
        return cls(RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst),
                   settings.rate_limit_key, settings.log_questions)

    def client(self, request: gr.Request) -> str:
        """The key a client's requests are counted under (hashed by the limiter, never logged)."""
        if self.key == "session":
            return request.session_hash or "-"
        client = getattr(request, "client", None)
        return getattr(client, "host", None) or request.session_hash or "-"


def guarded(endpoint: str, text: bool = False, api: bool = False) -> Callable[[Callable], Callable]:
    """Decorate a WebApp method: rate-limit it per client and log each call. `text=True` marks the
    first argument as the user's question (logged only when log_questions is on). `api=True` (a named
    endpoint) turns the app's own errors into gr.Error, the one line an API caller gets; UI handlers
    catch them to show a warning beside the form instead."""

    def decorate(method: Callable) -> Callable:
        @contextlib.contextmanager
        def admitted(self, args: tuple):
            """Check the limit, then log the call's outcome and time however it ends."""
            request = None
            if args and isinstance(args[0], gr.Request):
                request, args = args[0], args[1:]
            guard: Guard = self.guard
            started = time.perf_counter()
            outcome = "ok"
            try:
                if request is not None:
                    guard.limiter.check(guard.client(request))
                yield args
            except RateLimited as exc:
                outcome = "limited"
                raise gr.Error(str(exc), print_exception=False) from None
            except PolicyBotError as exc:
                outcome = "user-error"
                if api:
                    raise gr.Error(str(exc)) from None
                raise
            except gr.Error:
                outcome = "user-error"
                raise
            except Exception:
                outcome = "failed"
                raise
            finally:
                ms = (time.perf_counter() - started) * 1000
                said = f" question={question_for_log(guard.log_questions, args[0])}" if text and args else ""
                log.info("%s %s %.0f ms%s", endpoint, outcome, ms, said)

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
        signature = inspect.signature(method)
        params = list(signature.parameters.values())
        request_param = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=gr.Request)
        wrapper.__signature__ = signature.replace(parameters=[params[0], request_param, *params[1:]])
        wrapper.__annotations__ = {**getattr(method, "__annotations__", {}), "request": gr.Request}
        return wrapper

    return decorate


def configure_logging() -> None:
    """Send the web process's own log lines (policybot.*) to stderr; other libraries keep theirs."""
    logger = logging.getLogger("policybot")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
