"""The lexical half: jieba tokens (with a domain dictionary) scored by BM25, plus query synonyms."""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from functools import lru_cache, wraps
from importlib import resources
from pathlib import Path
from typing import Callable

import numpy as np

_WORD = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]+|\d+(?:\.\d+)?")
# Function words and question words: they match everything and mean nothing to BM25.
STOPWORDS = frozenset(
    """的 了 和 与 及 或 等 是 在 对 为 由 被 把 将 从 以 于 而 并 且 其 之 也 都 就 还 又 吗 呢 吧 啊 呀 么
    我 我们 你 你们 他们 它 这 那 这个 那个 哪 哪些 什么 怎么 怎样 如何 多少 几 是否 有没有 能否 能不能 可不可以
    可以 能 会 要 想 请问 请 一下 一些 有 没有 需要 应该 有关 相关 关于 规定 公司 企业的 咱们 本 该 各 每 个""".split()
)

_tokenizer_lock = threading.Lock()  # building the tokenizer


def _jieba():
    """A private jieba tokenizer with the domain dictionary, built once per process on first use
    (loading the dictionary initialises it whole). Built, it is only read: threads cut at once."""
    if _built:
        return _built[0]
    with _tokenizer_lock:
        if not _built:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            with resources.as_file(resources.files("bot") / "data" / "userdict.txt") as path:
                tok.load_userdict(str(path))
            _built.append(tok)
    return _built[0]


_built: list = []  # the tokenizer, once built


SHORT_TEXT = 160  # characters; a question is at most 500, most are under 60


def _short_texts_kept(cut: Callable[[str], list[str]]) -> Callable[[str], list[str]]:
    """`cut` with its result for short texts (questions, synonyms, sentences) kept: one ask cuts them
    again and again, and so does every ask that uses the same words. Long ones (clause texts at
    ingest) are not kept; answer._words keeps the tokens of clause sentences, long ones included."""
    kept = lru_cache(maxsize=8192)(lambda text: tuple(cut(text)))

    @wraps(cut)
    def cached(text: str) -> list[str]:
        return list(kept(text)) if len(text) <= SHORT_TEXT else cut(text)

    return cached


@_short_texts_kept
def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens, lower-cased, without punctuation or stopwords."""
    out = []
    for w in _jieba().lcut_for_search(text):
        w = w.strip().lower()
        if w and w not in STOPWORDS and _WORD.search(w):
            out.append(w)
    return out


@_short_texts_kept
def words(text: str) -> list[str]:
    """Precise-mode jieba words, punctuation and spaces left out: the units a question is read in
    (哪个 高新区, 什么 条件), where search-mode tokens would also split 高新区 into 高新 and 新区."""
    return [w for w in (w.strip() for w in _jieba().lcut(text)) if w and _WORD.search(w)]


@lru_cache(maxsize=1)
def _domain_terms() -> frozenset[str]:
    text = (resources.files("bot") / "data" / "userdict.txt").read_text(encoding="utf-8")
    return frozenset(line.split()[0] for line in text.splitlines() if line.strip())


def domain_term_list() -> frozenset[str]:
    """The domain dictionary's terms (bot/data/userdict.txt)."""
    return _domain_terms()


def domain_terms(text: str) -> list[str]:
    """The domain dictionary's terms in `text` (高新技术企业, 研发费用加计扣除…): what a question is about."""
    return [t for t in _domain_terms() if t in text]


@lru_cache(maxsize=1)
def _synonyms() -> dict[str, tuple[str, ...]]:
    import yaml

    raw = yaml.safe_load((resources.files("bot") / "data" / "synonyms.yaml").read_text(encoding="utf-8")) or {}
    return {str(k): tuple(str(v) for v in vs) for k, vs in raw.items()}


def synonym_table() -> dict[str, tuple[str, ...]]:
    """synonyms.yaml: each everyday name with the corpus wordings it stands for."""
    return _synonyms()


def expand_query(question: str) -> list[str]:
    """Tokens of the question plus the corpus wording of any colloquial term it uses."""
    tokens = tokenize(question)
    for _, targets in synonyms_in(question):
        for target in targets:
            tokens.extend(tokenize(target))
    return tokens


def synonyms_in(question: str) -> list[tuple[str, tuple[str, ...]]]:
    """The colloquial terms of synonyms.yaml that the question uses, with their corpus wordings; not
    a term found only inside the corpus wording it stands for (科技型中小 in 科技型中小企业)."""
    return [(term, targets) for term, targets in _synonyms().items()
            if term in question and not _only_inside(term, [t for t in targets if term in t and t != term], question)]


def _only_inside(term: str, longer: list[str], question: str) -> bool:
    if not longer:
        return False
    covered = set()
    for wording in longer:
        for m in re.finditer(re.escape(wording), question):
            covered.update(range(m.start(), m.end()))
    return all(set(range(m.start(), m.end())) <= covered for m in re.finditer(re.escape(term), question))


def in_corpus_wording(question: str, used: Callable[[str], bool]) -> str:
    """The question with each colloquial name the corpus never uses replaced by the domain term it
    stands for (高企 -> 高新技术企业, 绿卡 -> 永久居留): what the embedder reads. An embedding does not
    know that 高企 means 高新技术企业; BM25 gets both words through expand_query instead."""
    names = {term: targets[0] for term, targets in synonyms_in(question)
             if len(targets) == 1 and len(term) >= 2 and _law_term(targets[0], used) and not used(term)
             and targets[0] not in question}  # 小型微利企业 named already: no 微利企业 inside it to replace
    if not names:
        return question
    pattern = re.compile("|".join(map(re.escape, sorted(names, key=len, reverse=True))))
    return pattern.sub(lambda m: names[m.group(0)], question)


def _law_term(wording: str, used: Callable[[str], bool]) -> bool:
    """Whether a corpus wording names one of the law's terms: a domain term, or a compound of four or
    more characters whose every word the corpus uses (永久居留, 规模以上工业企业), not a single plain word
    (满足, 职工) that a rewording would put in the place of a question's own."""
    return wording in _domain_terms() or len(wording) >= 4 and all(used(t) for t in tokenize(wording))


def asked_words(question: str, known: Callable[[str], bool]) -> dict[str, float]:
    """What a question asks about, for picking the answering sentence: each word with how much it
    counts. The asker's own words count fully, and so does the corpus wording of a colloquial term
    the corpus never uses (高企 asks about 高新技术企业). The search synonyms of a term the corpus
    does use count half: 税率 -> 减按 helps find a clause, but a plain rate question is not asking
    about 减按."""
    own = tokenize(question)
    words = dict.fromkeys(own, 1.0)
    for term, targets in synonyms_in(question):
        share = 0.5 if known(term) else 1.0
        for target in targets:
            for token in tokenize(target):
                words[token] = max(words.get(token, 0.0), share)
    return words


def idf(doc_freq: int, n_chunks: int) -> float:
    """How much a word says by its rarity among `n_chunks` chunks (公示 more than 企业): weighs the
    question's words in the abstention check and in picking the answering sentence."""
    return math.log((n_chunks + 1) / (doc_freq + 0.5))


class BM25Index:
    """BM25 over chunk tokens (bm25s), persisted as its arrays plus the chunk ids in order."""

    def __init__(self, chunk_ids: list[str], model, directory: Path | None = None) -> None:
        self.chunk_ids = chunk_ids
        self._model = model
        self._directory = directory
        self._tokens: list[list[str]] | None = None

    @classmethod
    def build(cls, chunk_ids: list[str], token_lists: list[list[str]]) -> "BM25Index":
        import bm25s

        model = bm25s.BM25()
        model.index([t or ["∅"] for t in token_lists], show_progress=False)
        index = cls(list(chunk_ids), model)
        index._tokens = [list(t) for t in token_lists]
        return index

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._model.save(str(directory), show_progress=False)
        (directory / "chunk_ids.json").write_text(json.dumps(self.chunk_ids), encoding="utf-8")
        (directory / "tokens.json").write_text(json.dumps(self._tokens or [], ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "BM25Index":
        import bm25s

        model = bm25s.BM25.load(str(directory), show_progress=False, verbosity=0)
        ids = json.loads((directory / "chunk_ids.json").read_text(encoding="utf-8"))
        return cls(ids, model, directory)

    def tokens(self) -> dict[str, list[str]]:
        """Chunk id -> its tokens, so the next ingest re-tokenises only changed chunks."""
        if self._tokens is None and self._directory is not None:
            path = self._directory / "tokens.json"
            self._tokens = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
        return dict(zip(self.chunk_ids, self._tokens or []))

    def search(self, tokens: list[str], k: int) -> list[tuple[str, float]]:
        """Top-k (chunk id, score) with a positive score."""
        known = [t for t in tokens if t in self._model.vocab_dict]
        if not known or not self.chunk_ids:
            return []
        scores = self._model.get_scores(known)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.chunk_ids[i], float(scores[i])) for i in top if scores[i] > 0]
