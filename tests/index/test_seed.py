"""The shipped corpus's vectors travel with the package (bot/data/seed-vectors.npz): a fresh install
builds its index without embedding the corpus, and the file is checked against corpus/ and the model."""

from __future__ import annotations

import math

from bot.index.seed import corpus_texts, shipped_vectors
from bot.service import PolicyBot
from bot.settings import Settings

from ..conftest import CORPUS, CountingEmbeddings

REGENERATE = "stale bot/data/seed-vectors.npz: run `python -m bot.index.seed` and commit the file"


def test_every_chunk_of_the_shipped_corpus_has_a_shipped_vector():
    texts = corpus_texts(CORPUS, Settings.from_env({}).chunk_chars)
    missing = [t[:40] for t in texts if t not in shipped_vectors("e5-small", texts)]
    assert not missing, f"{REGENERATE}; {len(missing)} chunks without a vector, e.g. {missing[:3]}"


def test_shipped_vectors_are_what_the_installed_model_makes(embedder):
    texts = corpus_texts(CORPUS, Settings.from_env({}).chunk_chars)
    sample = [texts[0], texts[len(texts) // 2], texts[-1]]
    shipped = shipped_vectors("e5-small", sample)
    for text, fresh in zip(sample, embedder.embed_documents(sample)):
        cosine = sum(a * b for a, b in zip(shipped[text], fresh)) / math.hypot(*fresh) / math.hypot(*shipped[text])
        assert cosine > 0.9999, f"{REGENERATE}; {text[:30]!r} has cosine {cosine:.5f} to a fresh vector"


def test_another_embedder_gets_no_shipped_vectors():
    texts = corpus_texts(CORPUS, Settings.from_env({}).chunk_chars)[:5]
    assert shipped_vectors("hash", texts) == {}


def test_ingesting_the_shipped_corpus_on_a_fresh_install_embeds_no_passage(tmp_path):
    counting = CountingEmbeddings()
    bot = PolicyBot(Settings.from_env({}, index_dir=tmp_path / "index", corpus_dir=CORPUS), counting)

    report = bot.ingest()

    assert counting.passages == 0 and report.embedded == 0 and report.reused == report.chunks > 500
    hits = bot.search("技术转让所得免征企业所得税", k=3, mode="dense")  # the shipped vectors answer
    assert any("技术转让" in h.clause.text for h in hits)


def test_with_shipped_vectors_off_ingest_embeds_every_passage(tmp_path, small_corpus):
    (small_corpus / "plan-copy.txt").write_text((CORPUS / "guizhou-hitech-zones-plan-2021.txt").read_text(encoding="utf-8")[:600],
                                                encoding="utf-8")
    counting = CountingEmbeddings()
    settings = Settings.from_env({"POLICYBOT_SHIPPED_VECTORS": "0"}, index_dir=tmp_path / "index")
    report = PolicyBot(settings, counting).ingest([small_corpus])
    assert report.embedded == report.chunks == counting.passages
