"""The composition root: one PolicyBot built from settings, used by the CLI, the app, eval and tests."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from langchain_core.embeddings import Embeddings

from .citations import citation_line
from .documents import short_doc_number
from .embedders import make_embedder
from .errors import ClauseNotFound, ConfigError
from .index import CURRENT, PolicyIndex, read_current, release_unused
from .ingest import IngestReport, ingest
from .logsafe import mask_secrets
from .models import Answer, Clause, Hit
from .retrieve import HybridRetriever, Searcher
from .settings import Settings
from .validity import editor_note, status_line


@dataclass(frozen=True)
class ClauseView:
    """Everything `show` and the clause panel display about one clause."""

    clause: Clause
    doc_title: str
    citation: str
    status: str
    editor_note: str


class PolicyBot:
    """Holds the embedder and the serving index; reopens the index when an ingest swapped it."""

    def __init__(self, settings: Settings, embedder: Embeddings | None = None) -> None:
        self.settings = settings
        mask_secrets(settings)  # the API key (and admin token) never reach a log, whoever logs
        self.embedder = embedder or make_embedder(settings.embedder)
        self._index: PolicyIndex | None = None
        self._stamp: tuple[int, int] | None = None  # (inode, mtime) of the pointer file _index was read at
        self._lock = threading.Lock()
        self._chain = None
        self._llm = None
        self._rules = None

    @property
    def index(self) -> PolicyIndex:
        """The serving generation, loaded on first use and again after each swap.

        One ask reads this dozens of times; the pointer file is read again only when its inode or
        mtime changed (an ingest replaces it by rename), so a swap is still seen at once."""
        stamp = _stamp(self.settings.index_dir / CURRENT)
        index = self._index
        if index is not None and stamp is not None and stamp == self._stamp:
            return index
        current = read_current(self.settings.index_dir)
        with self._lock:
            if self._index is None or (current and self._index.generation != current):
                self._index = PolicyIndex.open(self.settings, self.embedder)
                release_unused()  # the replaced generation, unless a request still holds it
            self._stamp = stamp if current == self._index.generation else None
            return self._index

    def index_in_use(self) -> PolicyIndex:
        """The index loaded last (by any thread), without looking at the pointer file again: for the
        hundreds of per-word lookups of one ask, which began by reading `index`. During a swap an ask
        may weigh words by the new index while its hits came from the old one: weights only."""
        return self._index or self.index

    def has_index(self) -> bool:
        return read_current(self.settings.index_dir) is not None

    def ingest(
        self, paths: Iterable[Path] | None = None, progress: Callable[[str, int, int], None] | None = None
    ) -> IngestReport:
        report = ingest(list(paths or [self.settings.corpus_dir]), self.settings, self.embedder, progress)
        with self._lock:
            self._index = None
            self._stamp = None
        return report

    def ensure_index(self) -> IngestReport | None:
        """Build the index from the shipped corpus if there is none yet."""
        if self.has_index():
            return None
        return self.ingest()

    def searcher(self) -> Searcher:
        return Searcher(self.index)

    def search(self, query: str, k: int = 5, mode: str = "hybrid", among=None) -> list[Hit]:
        """Top-k clauses; `among` (clause ids) limits them to those clauses (条款检索's filters)."""
        return self.searcher().search(query, k, mode, among)

    def retriever(self, k: int = 5, mode: str = "hybrid") -> HybridRetriever:
        return HybridRetriever(searcher=self.searcher(), k=k, mode=mode)

    def ask(self, question: str, conversation=None, use_llm: bool = False) -> Answer:
        """Answer one question (a follow-up when `conversation` has earlier turns)."""
        from .guided import GuidedMatch, step, wants_matching
        from .pipeline import Conversation, Turn, check_question

        conversation = conversation if conversation is not None else Conversation()
        if conversation.replying_to_guided(question) or wants_matching(question):
            from .analysis import analyse

            question = check_question(question)
            analysis = analyse(question)
            if conversation.guided is None or not conversation.replying_to_guided(question):
                conversation.guided = GuidedMatch()
            facts = {**conversation.facts, **analysis.facts}
            answer = step(self, conversation.guided, question, facts)
            conversation.turns.append(Turn(question, question, analysis, answer))
            return answer
        conversation.guided = None
        state = {"question": question, "conversation": conversation}
        if use_llm:
            state["llm"] = self.llm()
        return self.answer_chain().invoke(state)["answer"]

    def answer_chain(self):
        if self._chain is None:
            from .pipeline import build_answer_chain

            self._chain = build_answer_chain(self)
        return self._chain

    def llm(self):
        """The configured LLM answerer; a clear error when no endpoint is set."""
        if not self.settings.llm_configured:
            raise ConfigError("未配置大模型：请设置 POLICYBOT_LLM_URL 和 POLICYBOT_LLM_MODEL（OpenAI 兼容接口）")
        if self._llm is None:
            from .llm import LLMAnswerer, make_chat_model

            self._llm = LLMAnswerer(make_chat_model(self.settings), self.citation)
        return self._llm

    def rules(self):
        """The eligibility rules of corpus/rules, loaded once."""
        if self._rules is None:
            from .matching import load_rules

            self._rules = load_rules(self.settings.corpus_dir / "rules")
        return self._rules

    def match(self, profile):
        from .matching import match

        return match(profile, self.rules())

    def cite(self, clause_id: str) -> str:
        """A clause id as its citation line (the id itself if the index does not hold it)."""
        clause = self.index.store.clauses.get(clause_id)
        return self.citation(clause) if clause else clause_id

    def citation(self, clause: Clause) -> str:
        meta = self.index.store.documents[clause.doc_slug]
        return citation_line(clause, meta, short_doc_number(meta))

    def view(self, clause_id: str) -> ClauseView:
        store = self.index.store
        clause = store.clauses.get(clause_id)
        if clause is None:
            raise ClauseNotFound(f"找不到条款 {clause_id!r}（格式如 guizhou-hitech-zones-plan-2021#四.(八)）")
        amendment = store.amendments.get(clause_id)
        return ClauseView(
            clause=clause,
            doc_title=self.index.doc_title(clause.doc_slug),
            citation=self.citation(clause),
            status=status_line(amendment),
            editor_note=editor_note(amendment) if amendment else "",
        )


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def build_bot(settings: Settings | None = None, embedder: Embeddings | None = None) -> PolicyBot:
    return PolicyBot(settings or Settings.from_env(), embedder)
