"""The web app under concurrent callers: one real `python app.py`, many gradio_client sessions.

Content, not timing, is asserted here; latency figures come from eval/bench_web.py and eval/soak.py.
The app counts the rate limit per session (POLICYBOT_RATE_LIMIT_KEY=session): all callers here
share 127.0.0.1, where real users would each have their own address.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ..webapp import ROOT, client, web_app

USERS = 20
pytestmark = [pytest.mark.load, pytest.mark.slow]


def varied_questions(n: int) -> list[str]:
    rows = [json.loads(line) for line in (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return [row["question"] for row in rows[:: max(1, len(rows) // n)][:n]]


def cited(result: dict) -> tuple:
    return (result["answer"], result["abstained"],
            tuple((c["clause_id"], c["clause_path"], c["quote"]) for c in result["citations"]))


@pytest.fixture(scope="module")
def app_url(corpus_index_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("load") / "app.log"
    with web_app(corpus_index_dir, log, POLICYBOT_RATE_LIMIT_KEY="session") as url:
        yield url


def test_twenty_concurrent_asks_each_get_the_answer_and_citations_they_get_alone(app_url, corpus_bot):
    questions = ["科技成果转化项目最多能拿多少支持？", *varied_questions(USERS - 1)]
    alone = {q: client(app_url).predict(q, api_name="/ask") for q in questions}  # a session each: burst is 10
    first = alone[questions[0]]
    assert "1000万元" in first["answer"] and "四.(八)" in {c["clause_path"] for c in first["citations"]}

    clients = [client(app_url) for _ in questions]
    barrier = threading.Barrier(len(questions))
    results: dict[int, dict | BaseException] = {}

    def user(n: int) -> None:
        barrier.wait()
        try:
            results[n] = clients[n].predict(questions[n], api_name="/ask")
        except BaseException as exc:  # reported below with the question that failed
            results[n] = exc

    threads = [threading.Thread(target=user, args=(n,)) for n in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    failed = {questions[n]: r for n, r in results.items() if isinstance(r, BaseException)}
    assert not failed
    clauses = corpus_bot.index.store.clauses
    for n, question in enumerate(questions):
        result = results[n]
        assert result["question"] == question
        assert cited(result) == cited(alone[question])
        for c in result["citations"]:
            assert c["quote"] in clauses[c["clause_id"]].text
            assert c["clause_id"] == f"{clauses[c['clause_id']].doc_slug}#{c['clause_path']}"
    answered = [r for r in results.values() if not r["abstained"]]
    assert len(answered) >= len(questions) // 2 and all(r["citations"] for r in answered)


def test_a_short_soak_of_all_three_endpoints_has_no_errors_and_bounded_memory(corpus_index_dir, tmp_path):
    out = tmp_path / "soak.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "eval" / "soak.py"), "--minutes", "0.6", "--index-dir", str(corpus_index_dir),
         "--quiet", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["errors"] == 0 and figures["wrong"] == 0
    assert all(e["calls"] > 0 for e in figures["endpoints"].values())
    assert figures["client_races"] <= figures["calls"] // 200  # gradio_client's rare own race (see eval/soak.py)
    assert figures["app_alive_at_end"]
    assert figures["rss_growth_mb"] < 200, Path(out).read_text(encoding="utf-8")
