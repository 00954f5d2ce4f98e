"""Hybrid retrieval: dense (Chroma) and BM25 rankings fused by reciprocal rank, at clause level.

A query that names a clause (第十二条, （八）, 实施条例第九十五条) gets that clause first, whatever
the rankings say: staff looking a clause up by its number expect exactly that one. A question that
asks what a term means ("什么是职务科技成果") or whether something counts as it ("…算不算工资薪金？")
gets the clause defining the term next (bot/retrieval/terms.py).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass


from bot.index.store import PolicyIndex
from bot.index.lexical import expand_query, tokenize
from bot.records import Hit
from bot.retrieval.terms import CorpusTerms
from bot.retrieval.terms import term_key
from bot.settings import MODES
from bot.text.numerals import NUMERAL_CHARS, clause_numeral

ARTICLE_REF = re.compile(rf"第\s*([{NUMERAL_CHARS}]+|\d+)\s*条")
ITEM_REF = re.compile(rf"[（(]\s*([{NUMERAL_CHARS}]+|\d+)\s*[）)]")
_QUALIFIER = re.compile(r"[\u4e00-\u9fff]{2,16}$")
_ABOUT_FORCE = re.compile(r"施行|实施|生效|废止|有效|失效|解释|哪天开始|什么时候开始")
# Words by which people name a kind of document; a question that uses one leans to that document.
DOC_WORDS = ("实施方案", "方案", "实施条例", "条例", "认定办法", "管理办法", "办法", "所得税法", "转化法", "进步法")


@dataclass(frozen=True)
class ClauseRef:
    kind: str  # article | item
    numeral: str
    qualifier: str  # text just before the reference, e.g. 实施条例


def clause_refs(query: str) -> list[ClauseRef]:
    refs = []
    for pattern, kind in ((ARTICLE_REF, "article"), (ITEM_REF, "item")):
        for m in pattern.finditer(query):
            q = _QUALIFIER.search(re.sub(r"[的之里中]$", "", query[: m.start()].strip()))
            refs.append(ClauseRef(kind, clause_numeral(m.group(1)), q.group(0) if q else ""))
    return refs


class Searcher:
    """Clause-level search over one loaded index, in any of the three modes. One searcher serves one
    ask: a text it embeds once is not embedded again (the question's search, its closeness look)."""

    def __init__(self, index: PolicyIndex) -> None:
        self.index = index
        self.settings = index.settings
        self._vectors: dict[str, list[float]] = {}
        self._dense: dict[tuple[str, int], list[tuple[str, float]]] = {}  # a whole question's parts rank by its meaning

    def vector(self, text: str) -> list[float]:
        if text not in self._vectors:
            self._vectors[text] = self.index.embed_query(text)
        return self._vectors[text]

    def search(self, query: str, k: int = 5, mode: str = "hybrid", among: Collection[str] | None = None,
               meaning: str | None = None) -> list[Hit]:
        """The top-k clauses for `query`; with `among` (clause ids), the top-k of those clauses: both
        retrievers then rank only their chunks, so a filter never comes up empty merely because other
        clauses filled the candidate lists. `meaning`: the text the dense half ranks by, when not the
        query itself (a part of a question ranks by the whole question's meaning and its own words:
        a part's embedding cost as much as the whole answer, and a part rarely means more alone)."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        n = max(self.settings.candidates, k)
        dense: dict[str, tuple[int, float]] = {}
        lexical: dict[str, tuple[int, float]] = {}
        chunks = None
        if among is not None:
            chunks = {cid for cid, chunk in self.index.store.chunks.items() if chunk.clause_id in among}
            if not chunks:
                return []
        if mode in ("hybrid", "dense"):
            text = query if meaning is None else meaning
            dense = self._by_clause(self._ranked(text, n, chunks))
        if mode in ("hybrid", "bm25"):
            tokens = expand_query(self._without_titles(query))
            if chunks is None:
                ranked = self.index.lexical(tokens, n)
            else:  # BM25 scores every chunk anyway: rank all, keep the allowed ones
                ranked = [hit for hit in self.index.lexical(tokens, len(self.index.store.chunks)) if hit[0] in chunks][:n]
            lexical = self._by_clause(ranked)
        scores: dict[str, float] = {}
        for ranks, weight in ((dense, self.settings.dense_weight), (lexical, 1.0)):
            for clause_id, (rank, raw) in ranks.items():
                if mode == "hybrid":
                    scores[clause_id] = scores.get(clause_id, 0.0) + weight / (self.settings.rrf_k + rank)
                else:
                    scores[clause_id] = raw
        if mode == "hybrid" and not _ABOUT_FORCE.search(query):
            for clause_id in scores:  # 附则: effective dates and transitions, rarely what is asked
                if any("附则" in p for p in self.index.store.clauses[clause_id].parents):
                    scores[clause_id] *= 0.7
        if mode == "hybrid":
            named = {slug for word in DOC_WORDS if word in query for slug in self._docs_named(word)}
            bonus = 0.5 / (self.settings.rrf_k + 1)  # half a first place: a lean, not an override
            for clause_id in scores:
                if clause_id.split("#", 1)[0] in named:
                    scores[clause_id] += bonus
        order = self._phrase_first(query, sorted(scores, key=lambda c: -scores[c]), scores)
        wanted = [*self._referenced(query), *self._defining(query)]
        pinned = [c for c in dict.fromkeys(wanted) if among is None or c in among]
        if pinned:
            order = pinned + [c for c in order if c not in pinned]
            top = max(scores.values(), default=1.0)
            for c in pinned:
                scores[c] = max(scores.get(c, 0.0), top)
        return [self._hit(c, scores[c], dense, lexical) for c in order[:k]]

    def _phrase_first(self, query: str, order: list[str], scores: dict[str, float]) -> list[str]:
        """Clauses holding every word of the query as typed (加计扣除 whole) before those that match
        only its parts (加计, 扣除) or its meaning, scores raised to match; a question is never written
        out in a clause, so this orders keyword searches only."""
        clauses, words = self.index.store.clauses, query.split()
        whole = [c for c in order if words and all(w in clauses[c].text for w in words)]
        held = set(whole)
        rest = [c for c in order if c not in held]
        for c in whole:
            scores[c] = max(scores[c], scores[rest[0]] if rest else 0.0)
        return whole + rest

    def _defining(self, query: str) -> list[str]:
        """The clauses defining the term a question asks about, or the term a search is for alone
        (加计扣除: 实施条例 第九十五条 and 第九十六条, in the corpus's order)."""
        terms = CorpusTerms.of(self.index)
        return terms.defining(query) or terms.defined.get(term_key(query.strip()), [])

    def _ranked(self, text: str, n: int, chunks: Collection[str] | None) -> list[tuple[str, float]]:
        """The dense ranking of `text`, asked of the vector store once per searcher when unfiltered."""
        if chunks is not None:
            return self.index.dense(text, n, among=chunks, vector=self.vector(text))
        if (text, n) not in self._dense:
            self._dense[(text, n)] = self.index.dense(text, n, vector=self.vector(text))
        return self._dense[(text, n)]

    def closeness(self, query: str) -> dict[str, float]:
        """Cosine similarity of the query to each of its dense candidates, by clause."""
        n = self.settings.candidates
        return {c: score for c, (_, score) in self._by_clause(self._ranked(query, n, None)).items()}

    def _by_clause(self, chunk_hits: list[tuple[str, float]]) -> dict[str, tuple[int, float]]:
        """Chunk ranking to clause ranking: a clause ranks by its best chunk."""
        out: dict[str, tuple[int, float]] = {}
        for chunk_id, score in chunk_hits:
            chunk = self.index.store.chunks.get(chunk_id)
            if chunk and chunk.clause_id not in out:
                out[chunk.clause_id] = (len(out) + 1, score)
        return out

    def _referenced(self, query: str) -> list[str]:
        """Clause ids the query names by number, narrowed to the document it names if any."""
        store = self.index.store
        found: list[str] = []
        for ref in clause_refs(query):
            docs = self._docs_named(ref.qualifier)
            for clause in store.clauses.values():
                if docs and clause.doc_slug not in docs:
                    continue
                last = clause.path.split(".")[-1]
                if ref.kind == "article" and last == f"第{ref.numeral}条":
                    found.append(clause.id)
                elif last == f"({ref.numeral})" and (
                    ref.kind == "item" or (docs and not self._has_articles(clause.doc_slug))
                ):
                    found.append(clause.id)  # 方案第八条 means item (八) of a plan, which has no articles
        return list(dict.fromkeys(found))

    def _has_articles(self, slug: str) -> bool:
        return any(c.kind == "article" for c in self.index.store.clauses.values() if c.doc_slug == slug)

    def _without_titles(self, query: str) -> str:
        """The query minus any document title it names: the document lean handles the title, and
        its words (科技成果转化, 企业所得税) would otherwise outweigh what is asked about it."""
        stripped = query
        for meta in self.index.store.documents.values():
            for title in sorted({meta.title, meta.title.removeprefix("中华人民共和国")}, key=len, reverse=True):
                if len(title) >= 4 and title in stripped:
                    stripped = stripped.replace(title, " ")
        return stripped if len(tokenize(stripped)) >= 2 else query

    def _docs_named(self, qualifier: str) -> list[str]:
        """Documents whose title contains the longest tail of the text before the reference."""
        titles = {slug: meta.title for slug, meta in self.index.store.documents.items()}
        for size in range(len(qualifier), 1, -1):
            tail = qualifier[-size:]
            named = [slug for slug, title in titles.items() if tail in title]
            if named:
                exact = [slug for slug in named if titles[slug].endswith(tail)]
                return exact or named
        return []

    def _hit(self, clause_id: str, score: float, dense, lexical) -> Hit:
        clause = self.index.store.clauses[clause_id]
        return Hit(
            clause=clause,
            doc_title=self.index.doc_title(clause.doc_slug),
            score=round(score, 6),
            dense_score=round(dense[clause_id][1], 4) if clause_id in dense else None,
            bm25_score=round(lexical[clause_id][1], 4) if clause_id in lexical else None,
            amendment=self.index.store.amendments.get(clause_id),
        )
