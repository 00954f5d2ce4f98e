"""Faults against real processes on 127.0.0.1: an ingest killed with SIGKILL, a Chroma server that
crashes mid-session and comes back. Nothing served is lost, users get one clear line, and the
system heals without a restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.errors import IndexUnavailable
from bot.index.store import read_current
from bot.ingest.build import LOCK_FILE
from bot.service import PolicyBot
from bot.settings import Settings

from ..conftest import CORPUS, ROOT
from ..processes import free_port, running
from ..processes import chroma_answers, chroma_executable

pytestmark = pytest.mark.slow

QUERY, CLAUSE = "知识产权质押融资贴息", "plan-a#二.(三)"
QUESTION = "知识产权质押融资贴息比例是多少？"


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def _ranking(bot: PolicyBot) -> list[tuple[str, float]]:
    return [(h.clause.id, round(h.score, 6)) for h in bot.search(QUERY, k=3)]


# --- an ingest killed mid-way ------------------------------------------------------------------------

def test_an_ingest_killed_mid_way_leaves_the_previous_index_serving_and_the_next_one_takes_over(
    small_corpus, tmp_path, embedder
):
    index_dir = tmp_path / "index"
    settings = Settings.from_env({}, index_dir=index_dir)
    bot = PolicyBot(settings, embedder)
    bot.ingest([small_corpus])
    serving = read_current(index_dir)
    ranking, answer = _ranking(bot), bot.ask(QUESTION).text

    # Another process re-indexes the whole shipped corpus (minutes of embedding) and is killed -9.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(tmp_path / "ingest.log", "wb") as log:
        ingest = subprocess.Popen([sys.executable, "-m", "bot.cli", "ingest", str(CORPUS), "--quiet",
                                   "--index-dir", str(index_dir)], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 240
    while not [p for p in index_dir.glob("g-*") if p.name != serving]:  # its generation is being built
        assert ingest.poll() is None and time.monotonic() < deadline, (tmp_path / "ingest.log").read_text()
        time.sleep(0.1)
    time.sleep(1.0)
    ingest.send_signal(signal.SIGKILL)
    assert ingest.wait(timeout=30) == -signal.SIGKILL
    assert (index_dir / LOCK_FILE).read_text().strip() == str(ingest.pid)  # it died holding the lock

    assert read_current(index_dir) == serving
    assert _ranking(bot) == ranking and bot.ask(QUESTION).text == answer  # the running app
    assert _ranking(PolicyBot(settings, embedder)) == ranking  # an app started now
    run = _cli("search", QUERY, "-k", "3", "--json", "--index-dir", str(index_dir))  # another process
    assert run.returncode == 0, run.stderr
    assert [h["clause_id"] for h in json.loads(run.stdout)["hits"]] == [cid for cid, _ in ranking]

    report = bot.ingest([small_corpus])
    assert report.summary().splitlines()[1] == f"注意：上次导入（进程 {ingest.pid}）未正常结束，已接管导入锁并清理其未完成的索引"
    assert {p.name for p in index_dir.glob("g-*")} == {serving, report.generation}  # the half-built one is gone
    assert (index_dir / LOCK_FILE).read_text() == ""
    assert bot.search(QUERY, k=1)[0].clause.id == CLAUSE


def test_an_ingest_that_finished_cleanly_leaves_no_takeover_message(small_corpus, fake_bot):
    fake_bot.ingest([small_corpus])
    again = fake_bot.ingest([small_corpus])
    assert not [w for w in again.warnings if "接管" in w]


# --- a Chroma server that crashes and comes back -----------------------------------------------------

def _chroma(data_dir: Path, port: int) -> list[str]:
    return [chroma_executable(), "run", "--path", str(data_dir), "--host", "127.0.0.1", "--port", str(port)]


@pytest.mark.server
def test_a_chroma_server_that_crashes_gives_one_clear_line_and_is_used_again_once_back(
    small_corpus, tmp_path, embedder
):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = tmp_path / "chroma-data"
    index_dir = tmp_path / "index"
    settings = Settings.from_env({}, index_dir=index_dir, chroma_url=url).with_(index_retries=2, index_retry_delay=0.1)
    bot = PolicyBot(settings, embedder)

    with running(_chroma(data, port), lambda: chroma_answers(url), tmp_path / "chroma-1.log", 90) as server:
        bot.ingest([small_corpus])
        ranking, answer = _ranking(bot), bot.ask(QUESTION).text
        server.send_signal(signal.SIGKILL)  # a crash, not a clean shutdown
        server.wait(timeout=30)

        started = time.monotonic()
        with pytest.raises(IndexUnavailable) as err:
            bot.ask(QUESTION)
        waited = time.monotonic() - started
        message = str(err.value)
        assert message.startswith("索引暂不可用（") and url in message and "已重试 2 次" in message
        assert "\n" not in message
        assert 0.3 <= waited < 30  # it retried (0.1 s + 0.2 s of back-off), and it gave up

        run = _cli("ask", QUESTION, "--index-dir", str(index_dir), "--chroma-url", url)
        assert run.returncode == 2 and "Traceback" not in run.stderr
        assert run.stderr.strip().startswith("错误：索引暂不可用") and len(run.stderr.strip().splitlines()) == 1

    # Back on the same port with the same data: the same bot answers as before, no restart needed.
    with running(_chroma(data, port), lambda: chroma_answers(url), tmp_path / "chroma-2.log", 90):
        assert _ranking(bot) == ranking and bot.ask(QUESTION).text == answer
        assert _ranking(PolicyBot(settings, embedder)) == ranking


@pytest.mark.server
def test_a_request_made_while_the_server_restarts_waits_for_it_through_the_retries(small_corpus, tmp_path, embedder):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = tmp_path / "chroma-data"
    settings = Settings.from_env({}, index_dir=tmp_path / "index", chroma_url=url)
    with running(_chroma(data, port), lambda: chroma_answers(url), tmp_path / "chroma-1.log", 90) as server:
        PolicyBot(settings, embedder).ingest([small_corpus])
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)

    patient = PolicyBot(settings.with_(index_retries=7, index_retry_delay=0.25), embedder)  # waits up to ~30 s
    with open(tmp_path / "chroma-2.log", "wb") as log:
        restarted = subprocess.Popen(_chroma(data, port), stdout=log, stderr=subprocess.STDOUT)
    try:
        assert not chroma_answers(url)  # the request below starts before the server is up
        assert patient.search(QUERY, k=1)[0].clause.id == CLAUSE
    finally:
        restarted.terminate()
        restarted.wait(timeout=30)
