"""What may reach a log: never a secret, and an asker's question only when the operator opted in.

Questions can name an enterprise, its figures or a person, so bot/ modules log them through
`question_for_log`, which hides the text unless `Settings.log_questions` (POLICYBOT_LOG_QUESTIONS=1)
is on. Secrets (the LLM API key, an admin token) are masked in every log record of the process,
whoever logs it (our modules, openai, httpx), by `mask_secrets`, which the composition root calls.
A value a caller sent, echoed in a message or a log line, goes through `clip`: one short line.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import threading

from bot.settings import Settings

MASK = "***"
_lock = threading.Lock()
_masked: set[str] = set()


QUESTION_LOG_CHARS = 200
CLIP_CHARS = 60


def clip(value: object, n: int = CLIP_CHARS) -> str:
    """`value` (a string as is, anything else as its repr) as one printable line of at most `n`
    characters, "…" marking a cut: a caller's value echoed in a message or log line can neither
    flood it nor bring a newline, terminal escape or lone surrogate (which no UTF-8 encoder takes)."""
    text = value if isinstance(value, str) else repr(value)
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text[: n + 1])
    return text if len(text) <= n else text[: n - 1] + "…"


def question_for_log(allowed: bool, question: object) -> str:
    """The question itself (clipped) if the operator allows it (`Settings.log_questions`), else its
    length and a short digest, to tell repeats apart in a log without storing what was asked."""
    text = str(question or "")
    if allowed:
        flat = text.replace("\n", " ")
        return repr(flat if len(flat) <= QUESTION_LOG_CHARS else flat[:QUESTION_LOG_CHARS] + "…")
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"<问题已隐去：{len(text)} 字，摘要 {digest}>"


def secrets_of(settings: Settings) -> list[str]:
    values = (settings.llm_api_key, settings.admin_token, *settings.api_keys)
    return [v for v in values if isinstance(v, str) and len(v) >= 4]


def mask_secrets(settings: Settings) -> None:
    """Mask this settings' secrets in every log record created from now on, in any logger.

    A record factory rather than a handler filter: it covers records that reach no handler of ours
    (logging's last-resort handler, handlers a library or the web server adds later).
    """
    new = [s for s in secrets_of(settings) if s not in _masked]
    if not new:
        return
    with _lock:
        _masked.update(new)
        if getattr(logging.getLogRecordFactory(), "_policybot_masking", False):
            return
        base = logging.getLogRecordFactory()

        def factory(*args, **kwargs) -> logging.LogRecord:
            record = base(*args, **kwargs)
            secrets = [s for s in _masked if s]
            try:
                text = record.getMessage()
            except Exception:  # a malformed record: leave it for logging's own error report
                return record
            if any(s in text for s in secrets):
                for s in secrets:
                    text = text.replace(s, MASK)
                record.msg, record.args = text, None
            return record

        factory._policybot_masking = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(factory)


def configure_logging(stream=None) -> None:
    """Send every bot.* log line (the web guard's request lines, ingest, index retries, LLM fallbacks)
    to stderr, once; other libraries keep their own handlers. Modules log as logging.getLogger(__name__)."""
    logger = logging.getLogger("bot")
    if not logger.handlers:
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
