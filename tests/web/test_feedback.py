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
from bot.web.feedback import FeedbackStore

ROOT = Path(__file__).resolve().parents[2]
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
    # answer_id is a random id of the answer (one record per answer), not of the person
    assert columns == {"id", "question", "answer", "citations", "rating", "comment", "created", "answer_id"}
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
    from bot.web.feedback import FeedbackStore
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


def test_one_answer_keeps_one_record_with_its_latest_rating_and_comment(tmp_path):
    store = FeedbackStore.in_dir(tmp_path)
    first = store.add("问", "答", CITATIONS, "up", "有用", answer_id="a1")
    assert store.add("问", "答", CITATIONS, "up", answer_id="a1") == first  # a repeated click
    assert store.add("问", "答", CITATIONS, "down", answer_id="a1") == first  # a changed mind
    other = store.add("问", "答", CITATIONS, "up", answer_id="a2")  # the same text, another answer
    records = store.all()
    assert [(r.id, r.rating, r.comment) for r in records] == [(first, "down", "有用"), (other, "up", "")]


def test_a_database_from_before_answer_ids_keeps_its_records_and_gets_the_column(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, question TEXT NOT NULL, "
                     "answer TEXT NOT NULL, citations TEXT NOT NULL, rating TEXT NOT NULL, "
                     "comment TEXT NOT NULL DEFAULT '', created TEXT NOT NULL)")
        conn.execute("INSERT INTO feedback (question, answer, citations, rating, created) "
                     "VALUES ('旧问题', '旧回答', '[]', 'up', '2025-01-01T00:00:00Z')")
    store = FeedbackStore(path)
    again = store.add("新问题", "新回答", [], "down", answer_id="b1")
    assert store.add("新问题", "新回答", [], "up", answer_id="b1") == again
    assert [(r.question, r.rating) for r in store.all()] == [("旧问题", "up"), ("新问题", "up")]


def test_an_unopenable_database_is_named_without_its_path(tmp_path):
    (tmp_path / "blocker").write_text("")
    with pytest.raises(PolicyBotError) as caught:
        FeedbackStore.in_dir(tmp_path / "blocker" / "data").add("问", "答", [], "up")
    assert "feedback.sqlite3" in str(caught.value) and str(tmp_path) not in str(caught.value)
