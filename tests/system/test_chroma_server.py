"""Chroma in client/server mode: a real `chroma run` on 127.0.0.1 holds the vectors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from bot.errors import IndexUnavailable, PolicyBotError
from bot.index.shared import FILES_SUFFIX, META
from bot.index.store import collection_name, read_current
from bot.service import PolicyBot
from bot.settings import Settings

from ..conftest import CountingEmbeddings
from ..processes import free_port, running_chroma

pytestmark = pytest.mark.server

QUERY, CLAUSE = "知识产权质押融资贴息", "plan-a#二.(三)"


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory) -> Iterator[str]:
    with running_chroma(tmp_path_factory.mktemp("chroma-server") / "data") as url:
        yield url


def _server_collections(url: str) -> dict[str, int]:
    """Vector collection name -> vector count, read straight from the server (not the shared index's
    records: bot/index/shared.py)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    port = int(url.rsplit(":", 1)[1])
    client = chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False))
    return {c.name: c.count() for c in client.list_collections() if c.name != META and not c.name.endswith(FILES_SUFFIX)}


def _settings(index_dir: Path, url: str = "") -> Settings:
    return Settings.from_env({}, index_dir=index_dir, chroma_url=url)


def _assert_one_line_naming(message: str, url: str) -> None:
    assert url in message
    assert "\n" not in message and re.search(r"[\u4e00-\u9fff]", message), message


def test_ingest_into_a_server_keeps_the_vectors_there_and_search_finds_the_clause(
    chroma_url, small_corpus, tmp_path, embedder
):
    settings = _settings(tmp_path / "index", chroma_url)
    bot = PolicyBot(settings, embedder)
    report = bot.ingest([small_corpus])

    assert bot.search(QUERY, k=3)[0].clause.id == CLAUSE
    assert bot.search(QUERY, k=3, mode="dense")[0].clause.id == CLAUSE  # the vectors answer from the server
    gen_dir = settings.index_dir / report.generation
    assert not (gen_dir / "chroma").exists()
    assert bot.index.manifest.chroma_url == chroma_url
    assert _server_collections(chroma_url)[collection_name(report.generation)] == report.chunks


def test_a_filtered_search_on_a_server_ranks_only_the_chosen_clauses(chroma_url, small_corpus, tmp_path, embedder):
    bot = PolicyBot(_settings(tmp_path / "index", chroma_url), embedder)
    bot.ingest([small_corpus])
    others = {c for c in bot.index.store.clauses if not c.startswith("plan-a#")}
    hits = bot.search(QUERY, k=3, mode="dense", among=others)  # Chroma's id filter, on the server
    assert hits and {h.clause.id for h in hits} <= others


def test_a_second_bot_over_the_same_settings_serves_the_same_index_and_follows_its_swaps(
    chroma_url, small_corpus, tmp_path, embedder
):
    settings = _settings(tmp_path / "index", chroma_url)
    first = PolicyBot(settings, embedder)
    first.ingest([small_corpus])
    second = PolicyBot(settings, embedder)  # as another app process would

    assert second.index.generation == first.index.generation
    assert [h.clause.id for h in second.search(QUERY, k=3)] == [h.clause.id for h in first.search(QUERY, k=3)]

    swapped = first.ingest([small_corpus]).generation
    assert second.index.generation == swapped
    assert second.search("技术合同成交额奖励", k=1)[0].clause.id == "rules-b#第二条"


def test_reingesting_an_unchanged_corpus_on_a_server_embeds_nothing_and_keeps_two_generations(
    chroma_url, small_corpus, tmp_path
):
    counting = CountingEmbeddings()
    settings = _settings(tmp_path / "index", chroma_url)
    bot = PolicyBot(settings, counting)
    before = set(_server_collections(chroma_url))

    first = bot.ingest([small_corpus])  # the server's current generation (an earlier test's) lends vectors
    embedded_once = counting.passages
    second = bot.ingest([small_corpus])
    third = bot.ingest([small_corpus])

    assert embedded_once == first.embedded and counting.passages == embedded_once
    assert (second.embedded, second.reused) == (third.embedded, third.reused) == (0, first.chunks)
    kept = {collection_name(second.generation), collection_name(third.generation)}
    collections = _server_collections(chroma_url)
    assert set(collections) - before == kept
    assert all(collections[name] == first.chunks for name in kept)
    assert {p.name for p in settings.index_dir.glob("g-*")} == {second.generation, third.generation}
    assert bot.search(QUERY, k=1)[0].clause.id == CLAUSE


def test_opening_a_server_built_index_without_the_server_url_asks_to_reingest(
    chroma_url, small_corpus, tmp_path, embedder
):
    PolicyBot(_settings(tmp_path / "index", chroma_url), embedder).ingest([small_corpus])
    embedded = PolicyBot(_settings(tmp_path / "index"), embedder)

    with pytest.raises(IndexUnavailable, match="重新运行 policybot ingest") as err:
        embedded.search(QUERY, k=1)
    assert chroma_url in str(err.value)
    assert not (tmp_path / "index" / read_current(tmp_path / "index") / "chroma").exists()


def test_ingesting_into_an_unreachable_server_fails_with_one_line_naming_the_url(small_corpus, tmp_path, embedder):
    dead = f"http://127.0.0.1:{free_port()}"
    settings = _settings(tmp_path / "index", dead)

    with pytest.raises(IndexUnavailable) as err:
        PolicyBot(settings, embedder).ingest([small_corpus])
    _assert_one_line_naming(str(err.value), dead)
    assert read_current(settings.index_dir) is None and not list(settings.index_dir.glob("g-*"))


def test_a_server_that_went_away_after_ingest_fails_searches_with_one_line_naming_the_url(
    small_corpus, tmp_path, embedder
):
    settings = None
    with running_chroma(tmp_path / "short-lived") as url:
        settings = _settings(tmp_path / "index", url)
        already_open = PolicyBot(settings, embedder)
        already_open.ingest([small_corpus])
        assert already_open.search(QUERY, k=1)[0].clause.id == CLAUSE

    for bot in (already_open, PolicyBot(settings, embedder)):  # a running app, and one started now
        with pytest.raises(IndexUnavailable) as err:
            bot.search(QUERY, k=1)
        _assert_one_line_naming(str(err.value), url)


def test_the_cli_reports_an_unreachable_server_as_one_line_not_a_traceback(small_corpus, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ingest", str(small_corpus), "--quiet",
         "--index-dir", str(tmp_path / "index"), "--chroma-url", dead],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误："), run.stderr
    _assert_one_line_naming(lines[0], dead)
    assert issubclass(IndexUnavailable, PolicyBotError)  # what the CLI turns into that line
