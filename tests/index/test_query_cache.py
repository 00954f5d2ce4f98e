"""Repeated questions reuse their query embedding (issue 19 item 2): a bounded cache keyed by the
question with its whitespace collapsed, in front of whatever embedder the bot was built with."""

from __future__ import annotations

from bot.index.embedders import HashEmbeddings
from bot.service import PolicyBot
from bot.settings import Settings


class CountingEmbeddings(HashEmbeddings):
    """The hash embedder, counting the query texts it is asked to embed."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def embed_query(self, text: str) -> list[float]:
        self.queries.append(text)
        return super().embed_query(text)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [super(CountingEmbeddings, self).embed_query(text) for text in texts]  # not counted


def _bot(tmp_path, small_corpus, **settings) -> tuple[PolicyBot, CountingEmbeddings]:
    counting = CountingEmbeddings()
    bot = PolicyBot(Settings.from_env({}, index_dir=tmp_path / "index", corpus_dir=small_corpus, embedder="hash",
                                      **settings), counting)
    bot.ingest([small_corpus])
    return bot, counting


def test_a_repeated_question_is_not_embedded_again(tmp_path, small_corpus):
    bot, counting = _bot(tmp_path, small_corpus)
    first = bot.search("研发补助 多少", 2, "dense")
    again = bot.search("  研发补助   多少 ", 2, "dense")  # the same question, spaced differently
    bot.ask("研发补助 多少")
    assert counting.queries == ["研发补助 多少"]
    assert [h.clause.id for h in again] == [h.clause.id for h in first] and first


def test_the_cache_is_bounded_and_can_be_turned_off(tmp_path, small_corpus):
    bot, counting = _bot(tmp_path, small_corpus, query_cache=2)
    for query in ("研发补助", "人才引进", "质押融资", "研发补助"):  # the first was dropped for the third
        bot.search(query, 1, "dense")
    assert counting.queries == ["研发补助", "人才引进", "质押融资", "研发补助"]
    off, counting = _bot(tmp_path / "off", small_corpus, query_cache=0)
    off.search("研发补助", 1, "dense")
    off.search("研发补助", 1, "dense")
    assert counting.queries == ["研发补助", "研发补助"]
