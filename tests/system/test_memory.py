"""The web app's memory stays flat while its index is swapped again and again (issue 14, item 4).

Every swap used to leave the previous generation's Chroma store loaded in the app (its SQLite
connections, HNSW segments and Rust worker threads): about 8 MB and 5 threads more per admin upload
or external `policybot ingest`, 487 -> 972 MB over 60 uploads. The target: 50 swaps grow RSS by
less than 50 MB; here fewer swaps, in both ways, with the same bound per swap. An upload's ingest
runs in a child process of the app (issue 14's soak: each upload under load stepped RSS up for good).
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from bot.service import PolicyBot
from bot.settings import Settings

from ..webapp import ROOT, client, web_app
from .callers import Caller

pytestmark = pytest.mark.slow

TOKEN = "swap-令牌"
NAME = "swapped.txt"
WARMUP = 4  # swaps before the first reading: caches and allocator pools fill up
SWAPS = 16  # half admin uploads, half external ingests
MB_PER_SWAP = 1.0  # the 50 MB over 50 swaps


def policy(n: int) -> bytes:
    """Version `n` of the swapped file; its figure tells which version the app serves."""
    return (f"标题: 丁市算力券试行办法\n成文日期: 2025-03-01\n\n丁市算力券试行办法\n\n一、算力支持\n\n"
            f"(一)算力券。对租用算力的中小企业发放算力券,最高{100 + n}万元。(责任单位:市大数据局)\n").encode()


def proc_status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for pid {pid}")


def app_pid(url: str) -> int:
    """The pid of the `python app.py --port PORT` this test started."""
    port = url.rstrip("/").rsplit(":", 1)[1]
    for entry in Path("/proc").iterdir():
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"app.py" in args and port.encode() in args and proc_status(int(entry.name), "PPid") == os.getpid():
            return int(entry.name)
    raise AssertionError(f"no app process on port {port}")


def open_files(pid: int | str, under: Path) -> list[str]:
    """The files below `under` that process `pid` holds open (a deleted one ends in " (deleted)")."""
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith(str(under)):
            found.append(target)
    return found


def admin_upload(url: str, session: str, name: str, data: bytes) -> str:
    """What the 文档管理 page sends for 上传并重建索引 (no API exposes it); the summary it shows."""
    config = httpx.get(url + "config", timeout=10).json()
    api = url + config["api_prefix"].strip("/") + "/"
    button = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "pb-admin-upload")
    event = next(d["id"] for d in config["dependencies"] if [button, "click"] in d["targets"])
    stored = httpx.post(api + "upload", files=[("files", (name, data))], timeout=30).json()[0]
    file = {"path": stored, "orig_name": name, "meta": {"_type": "gradio.FileData"}}
    with httpx.Client(timeout=120) as http:
        joined = http.post(api + "queue/join", json={"data": [TOKEN, [file]], "fn_index": event, "trigger_id": button,
                                                     "session_hash": session, "event_data": None}).json()
        with http.stream("GET", api + "queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                message = json.loads(line[5:]) if line.startswith("data:") else {}
                if message.get("event_id") == joined["event_id"] and message.get("msg") == "process_completed":
                    assert message["success"], message
                    return message["output"]["data"][0]
    raise AssertionError("the upload's event stream ended without a result")


def many_clauses(n: int) -> bytes:
    """A new document of `n` clauses: as many passages for the upload's ingest to embed."""
    body = "\n\n".join(f"({i})第{i}类企业。对本市第{i}类企业给予{i}万元专项补助。(责任单位:市科技局)" for i in range(1, n + 1))
    return f"标题: 戊市专项补助办法\n成文日期: 2025-04-01\n\n戊市专项补助办法\n\n一、专项补助\n\n{body}\n".encode()


@pytest.fixture
def served_corpus(tmp_path, small_corpus, embedder) -> tuple[Path, Path]:
    """(corpus, index): the small corpus plus the swapped file, indexed."""
    (small_corpus / NAME).write_bytes(policy(0))
    index = tmp_path / "index"
    PolicyBot(Settings.from_env({}, index_dir=index, corpus_dir=small_corpus), embedder).ingest([small_corpus])
    return small_corpus, index


def test_swapping_the_index_by_upload_and_by_external_ingest_keeps_rss_and_threads_flat(served_corpus, tmp_path):
    corpus, index = served_corpus
    cli_env = {**os.environ, "POLICYBOT_INDEX_DIR": str(index), "PYTHONPATH": str(ROOT)}
    with web_app(index, tmp_path / "app.log", POLICYBOT_ADMIN_TOKEN=TOKEN, POLICYBOT_CORPUS_DIR=str(corpus),
                 POLICYBOT_RATE_LIMIT="100000", POLICYBOT_RATE_LIMIT_BURST="1000") as url:
        pid, api, page = app_pid(url), client(url), uuid.uuid4().hex

        def swap(n: int) -> None:
            if n % 2:
                assert f"✓ **{NAME}**：已导入" in admin_upload(url, page, NAME, policy(n))
            else:
                (corpus / NAME).write_bytes(policy(n))
                subprocess.run([sys.executable, "-m", "bot.cli", "ingest", "--quiet", str(corpus)], cwd=ROOT,
                               env=cli_env, check=True, capture_output=True, timeout=120)
            hits = api.predict("算力券 最高多少万元", 3, api_name="/search")["hits"]
            assert any(f"最高{100 + n}万元" in hit["text"] for hit in hits), f"swap {n} is not served"

        for n in range(1, WARMUP + 1):
            swap(n)
        rss, threads = proc_status(pid, "VmRSS") / 1024, proc_status(pid, "Threads")
        for n in range(WARMUP + 1, WARMUP + SWAPS + 1):
            swap(n)
        grown_mb = proc_status(pid, "VmRSS") / 1024 - rss
        more_threads = proc_status(pid, "Threads") - threads
        held = open_files(pid, index)
    assert grown_mb < MB_PER_SWAP * SWAPS, f"RSS grew {grown_mb:.1f} MB over {SWAPS} swaps"
    assert more_threads <= 4, f"{more_threads} threads more after {SWAPS} swaps"
    # The disk space of removed generations is freed: the app keeps none of their files open.
    assert not [f for f in held if f.endswith("(deleted)")], held


def test_a_request_holding_the_replaced_generation_keeps_it_until_done_then_it_is_closed(small_bot, small_corpus):
    small_bot.ingest([small_corpus])
    first = small_bot.settings.index_dir / small_bot.index.generation
    held = small_bot.searcher()  # a request that began before the swaps

    def swap(n: int) -> None:
        (small_corpus / NAME).write_bytes(policy(n))
        small_bot.ingest([small_corpus])
        assert any(f"最高{100 + n}万元" in hit.clause.text for hit in small_bot.search("算力券 最高多少万元", 3))

    swap(1)
    swap(2)  # the first generation is now removed from disk
    assert held.search("知识产权质押融资", 1, mode="dense")[0].clause.doc_slug == "plan-a"
    assert open_files("self", first)  # still open: a request uses it
    del held
    swap(3)
    assert not open_files("self", first)


def test_an_upload_is_ingested_by_a_child_of_the_app_and_the_app_keeps_none_of_its_memory(served_corpus, tmp_path):
    corpus, index = served_corpus
    lock = index / ".ingest.lock"
    with web_app(index, tmp_path / "app.log", POLICYBOT_ADMIN_TOKEN=TOKEN, POLICYBOT_CORPUS_DIR=str(corpus)) as url:
        pid, page = app_pid(url), uuid.uuid4().hex
        assert f"✓ **{NAME}**：已导入" in admin_upload(url, page, NAME, policy(1))  # code and buffers load once
        rss = proc_status(pid, "VmRSS") / 1024
        holders: dict[int, int] = {}  # pid holding the ingest lock -> its parent
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                holder = lock.read_text().strip() if lock.exists() else ""
                if holder.isdigit() and int(holder) not in holders:
                    try:
                        holders[int(holder)] = proc_status(int(holder), "PPid")
                    except (OSError, AssertionError):  # ended meanwhile
                        pass
                time.sleep(0.005)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            summary = admin_upload(url, page, "戊市专项补助.txt", many_clauses(150))
        finally:
            done.set()
            watcher.join()
        grown_mb = proc_status(pid, "VmRSS") / 1024 - rss
        hits = client(url).predict("第137类企业 专项补助", 3, api_name="/search")["hits"]
    assert "✓ **戊市专项补助.txt**：已导入，条款" in summary
    assert any("137万元" in hit["text"] for hit in hits)
    # The ingest ran in a child of the app, which is gone: the app only opened the new generation.
    assert holders and pid not in holders and set(holders.values()) == {pid}, (pid, holders)
    assert not [child for child in holders if Path(f"/proc/{child}").exists()]
    # Ingested in the app, this upload (150 passages embedded) left it 14 to 17 MB larger.
    assert grown_mb < 5, f"RSS grew {grown_mb:.1f} MB over one upload"


def test_page_state_is_kept_for_at_most_web_sessions_visitors_the_least_recent_dropped(tmp_path, small_corpus,
                                                                                      fake_embedder):
    index = tmp_path / "index"
    PolicyBot(Settings.from_env({}, index_dir=index, corpus_dir=small_corpus, embedder="hash"),
              fake_embedder).ingest([small_corpus])
    question = "研发补助最多多少万元？"
    with web_app(index, tmp_path / "app.log", POLICYBOT_EMBEDDER="hash", POLICYBOT_WEB_SESSIONS="5",
                 POLICYBOT_RATE_LIMIT="100000", POLICYBOT_RATE_LIMIT_BURST="1000") as url:
        caller = Caller(url)
        first = caller.ui()
        assert first.click("pb-ask", question, [], None).success
        later = [caller.ui() for _ in range(20)]
        for page in later:
            assert page.click("pb-ask", question, [], None).success
        # A rating needs the answer the session's page state holds: kept for the latest visitors...
        latest = later[-1].click("pb-up", "", None)
        # ...and dropped for the first, 20 visitors ago (Gradio's default keeps 10,000).
        forgotten = first.click("pb-up", "", None)
    assert latest.success and latest.output[0] == "" and "已记录反馈" in latest.output[1]
    assert forgotten.success and forgotten.warnings == ["请先提问，再对回答进行评价"], forgotten


def test_a_settled_bot_hands_start_up_objects_back_to_the_collector_when_it_swaps(served_corpus, embedder):
    """The web app sets start-up's objects aside from the cycle collector (PolicyBot.settle); the
    generation a swap replaces is among them and must become collectable again, or it stays loaded."""
    corpus, index = served_corpus
    bot = PolicyBot(Settings.from_env({}, index_dir=index, corpus_dir=corpus), embedder)
    try:
        assert any("最高100万元" in hit.clause.text for hit in bot.search("算力券 最高多少万元", 3))
        bot.settle()
        assert gc.get_freeze_count() > 0
        (corpus / NAME).write_bytes(policy(1))
        bot.ingest([corpus])
        assert any("最高101万元" in hit.clause.text for hit in bot.search("算力券 最高多少万元", 3))
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
