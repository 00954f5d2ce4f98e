"""Answer feedback (👍/👎 and an optional comment) in SQLite under `settings.data_dir`.

Each record is one short transaction on a fresh connection in WAL mode with synchronous=FULL, so a
crash or kill loses at most the record being written and the file always opens. No IP address or
other identity is stored: only the question, the answer, its citations, the rating and the comment,
and for the web app's answers a random id of the answer, so one answer keeps one record: rating it
again changes that record's rating instead of adding one.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from bot.errors import PolicyBotError

MAX_COMMENT_CHARS = 1000
SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,  -- JSON list of the answer's citations
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,  -- UTC, ISO 8601 (of the latest rating)
    answer_id TEXT  -- the web app's random id of the rated answer (NULL elsewhere)
)
"""
# Records of an answer_id: at most one. Databases made before the column get it added on opening.
ANSWER_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS feedback_answer ON feedback (answer_id)"
UPSERT = """
INSERT INTO feedback (question, answer, citations, rating, comment, created, answer_id) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (answer_id) DO UPDATE SET rating = excluded.rating, created = excluded.created,
    comment = CASE WHEN excluded.comment <> '' THEN excluded.comment ELSE feedback.comment END
RETURNING id
"""


@dataclass(frozen=True)
class Feedback:
    question: str
    answer: str
    citations: list
    rating: str
    comment: str = ""
    created: str = ""
    id: int = 0


class FeedbackStore:
    """The feedback table of `<data_dir>/feedback.sqlite3`; safe to use from several threads and processes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def in_dir(cls, data_dir: Path) -> "FeedbackStore":
        return cls(Path(data_dir) / "feedback.sqlite3")

    def _connect(self) -> sqlite3.Connection:
        conn = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10)  # opens lazily: a bad path fails on the first statement
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute(SCHEMA)
            if "answer_id" not in {row[1] for row in conn.execute("PRAGMA table_info(feedback)")}:
                with contextlib.suppress(sqlite3.OperationalError):  # another process added it meanwhile
                    conn.execute("ALTER TABLE feedback ADD COLUMN answer_id TEXT")
            conn.execute(ANSWER_INDEX)
            return conn
        except (OSError, sqlite3.Error) as exc:
            if conn is not None:
                conn.close()
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc  # an OSError's text holds the path
            raise PolicyBotError(f"无法打开反馈数据库 {self.path.name}：{why}") from None

    def add(self, question: str, answer: str, citations: Sequence[dict], rating: str, comment: str = "",
            answer_id: str | None = None) -> int:
        """Store one record in its own transaction; returns its id once it is committed. A record for
        the same `answer_id` gets the new rating (and the new comment, if there is one) instead."""
        if rating not in ("up", "down"):
            raise PolicyBotError(f"反馈评价应为 up 或 down，收到 {rating!r}")
        comment = (comment or "").strip()
        if len(comment) > MAX_COMMENT_CHARS:
            raise PolicyBotError(f"反馈意见过长（{len(comment)} 字，上限 {MAX_COMMENT_CHARS} 字）")
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        conn = self._connect()
        try:
            with conn:  # one transaction, committed on leaving the block
                row = conn.execute(UPSERT, (question, answer, json.dumps(list(citations), ensure_ascii=False),
                                            rating, comment, created, answer_id)).fetchone()
            return int(row[0])
        finally:
            conn.close()

    def all(self) -> list[Feedback]:
        if not self.path.exists():
            return []
        conn = self._connect()
        try:
            rows = conn.execute(
                "SELECT id, question, answer, citations, rating, comment, created FROM feedback ORDER BY id"
            ).fetchall()
        finally:
            conn.close()
        return [Feedback(question=q, answer=a, citations=json.loads(c), rating=r, comment=m, created=t, id=i)
                for i, q, a, c, r, m, t in rows]
