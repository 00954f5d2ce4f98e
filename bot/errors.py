"""Errors meant for the user: each message names the file, field or value and says why.

The CLI prints them as one line; the web UI shows them as a warning. Anything else is a bug and
surfaces as a traceback.
"""

from __future__ import annotations


class PolicyBotError(Exception):
    """Base class for every error whose message is written for the user (in Chinese)."""


class DocumentError(PolicyBotError):
    """A source file cannot be loaded: unreadable, empty, encrypted, scanned, garbled, too large."""

    def __init__(self, path: object, reason: str):
        # A file name may hold a newline or a terminal escape: shown escaped, the message stays one line.
        self.path = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(path))
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class IndexUnavailable(PolicyBotError):
    """The index is missing, stale, built with another embedder, or cannot be reached."""


class ConfigError(PolicyBotError):
    """A setting (environment variable or flag) has a value we cannot use."""


class QuestionSetError(PolicyBotError):
    """A question-set file has a malformed line."""


class ClauseNotFound(PolicyBotError):
    """A clause id that the index does not hold."""


class QuestionError(PolicyBotError):
    """A question we cannot work with: empty, too long, nothing but punctuation."""


class LLMUnavailable(PolicyBotError):
    """The OpenAI-compatible endpoint cannot be reached, timed out, or refused the request."""


class ProfileError(PolicyBotError):
    """An enterprise profile has a field of the wrong type, a negative or implausible value, a
    percentage written as a fraction (0.06 for 6%), an unknown zone level, or cannot be read."""

    def __init__(self, reason: str, field: str = "", path: object = None):
        self.reason = reason
        self.field = field
        self.path = str(path) if path else ""
        super().__init__(f"{self.path}: {reason}" if self.path else reason)


class RateLimited(PolicyBotError):
    """A web client sent more requests than the per-client rate limit allows."""


class UploadError(PolicyBotError):
    """An uploaded file refused before it reaches the corpus: bad name, wrong type, too large."""
