"""Feedback records in SQLite: what is stored, what is not, and that a killed writer loses nothing committed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.errors import PolicyBotError
from bot.feedback import FeedbackStore

ROOT = Path(__file__).resolve().parent.parent
CITATIONS = [{"n": 1, "clause_id": "guizhou-hitech-zones-plan-2021#四.(八)", "quote": "给予不超过1000万元支持"}]


def test_feedback_keeps_question_answer_citations_rating_comment_and_time(tmp_path):
    store = FeedbackStore.in_dir(tmp_path / "data")
    first = store.add("科技成果转化最多支持多少？", "答：不超过1000万元[1]", CITATIONS, "up", " 很清楚 ")
    second = store.add("商标怎么注册？", "语料库中没有找到依据。", [], "down")
    records = store.all()
    assert [r.id for r in records] == [first, second]
    assert records[0].citations == CITATIONS and records[0].comment == "很清楚" and records[0].rating == "up"
    assert records[1].rating == "down" and records[1].comment == "" and records[1].created.endswith("Z")


def test_feedback_table_has_no_column_for_addresses_or_identity(tmp_path):
    store = FeedbackStore.in_dir(tmp_path)
    store.add("问", "答", [], "up")
    with sqlite3.connect(store.path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(feedback)")}
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert columns == {"id", "question", "answer", "citations", "rating", "comment", "created"}
    assert mode == "wal"


@pytest.mark.parametrize("rating, comment, message", [
    ("meh", "", "up 或 down"),
    ("up", "长" * 1001, "过长"),
])
def test_feedback_rejects_bad_records_with_a_message(tmp_path, rating, comment, message):
    with pytest.raises(PolicyBotError, match=message):
        FeedbackStore.in_dir(tmp_path).add("问", "答", [], rating, comment)


WRITER = textwrap.dedent("""
    import sys
    from bot.feedback import FeedbackStore
    store = FeedbackStore.in_dir(sys.argv[1])
    n = 0
    while True:
        n += 1
        rid = store.add(f"问题{n}", "答" * 2000, [{"n": 1, "clause_id": f"c#{n}"}], "up" if n % 2 else "down", f"意见{n}")
        print(rid, flush=True)
""")


@pytest.mark.slow
def test_records_committed_before_a_sigkill_survive_and_the_database_opens(tmp_path):
    data = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(data)], stdout=subprocess.PIPE, env=env, text=True)
    committed = []
    try:
        while len(committed) < 40:
            line = proc.stdout.readline()
            assert line, "the writer exited early"
            committed.append(int(line))
    finally:
        proc.send_signal(signal.SIGKILL)  # mid-stream: it is writing the next record
        proc.wait()
    store = FeedbackStore.in_dir(data)
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ids = {r.id for r in store.all()}
    assert set(committed) <= ids
    by_id = {r.id: r for r in store.all()}
    assert by_id[committed[-1]].comment == f"意见{len(committed)}"
    assert store.add("之后", "仍可写入", [], "up") > max(committed)
