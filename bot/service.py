"""The composition root: one PolicyBot built from settings, used by the CLI, the app, eval and tests."""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from langchain_core.embeddings import Embeddings

from bot.answering.citations import citation_line
from bot.ingest.metadata import short_doc_number
from bot.index.embedders import cached_queries, make_embedder
from bot.errors import ClauseNotFound, ConfigError, PolicyBotError
from bot.index.store import CURRENT, PolicyIndex, read_current, release_unused
from bot.ingest.build import IngestReport, ingest
from bot.logs import mask_secrets
from bot.records import Answer, Clause, Hit
from bot.retrieval.search import Searcher
from bot.settings import Settings
from bot.ingest.amendments import editor_note, status_line

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable

    from bot.matching.engine import Verdict
    from bot.matching.profile import EnterpriseProfile
    from bot.matching.rules import Rule, RuleSet


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
        # Repeated questions reuse their query vector (bot/index/embedders.py CachedQueries).
        self.embedder = cached_queries(embedder or make_embedder(settings.embedder), settings.query_cache)
        self._index: PolicyIndex | None = None
        self._stamp: tuple[int, int] | None = None  # (inode, mtime) of the pointer file _index was read at
        self._lock = threading.Lock()
        self._chains: dict[int, Runnable] = {}  # the answer chain for each k asked with
        self._llm = None
        self._rules = None
        self._replica = None  # with a Chroma server: follows its serving generation (bot/index/shared.py)
        if settings.chroma_url:
            from bot.index.shared import Replica

            self._replica = Replica(settings)

    @property
    def index(self) -> PolicyIndex:
        """The serving generation, loaded on first use and again after each swap.

        One ask reads this dozens of times; the pointer file is read again only when its inode or
        mtime changed (an ingest replaces it by rename), so a swap is still seen at once. With a
        Chroma server, the server's pointer is read every few seconds and copied to that file."""
        if self._replica is not None:
            self._replica.follow()
        stamp = _stamp(self.settings.index_dir / CURRENT)
        index = self._index
        if index is not None and stamp is not None and stamp == self._stamp:
            release_unused()  # a replaced generation whose last request just ended
            return index
        current = read_current(self.settings.index_dir)
        with self._lock:
            if self._index is None or (current and self._index.generation != current):
                gc.unfreeze()  # the replaced generation may be among what settle() froze
                self._index = PolicyIndex.open(self.settings, self.embedder)
                release_unused()  # the replaced generation, unless a request still holds it
            self._stamp = stamp if current == self._index.generation else None
            return self._index

    def settle(self) -> None:
        """Start-up is over (the web app calls this after its warm-up search): what it made, the
        libraries and the serving index, lives as long as the process, so Python's cycle collector
        stops walking it. A full collection walked all of it and stopped every call meanwhile: 35–170
        ms in the web app under load, 20–80 ms after this (docs/benchmarks.md). A swap hands it back
        (the replaced generation's objects must be collectable)."""
        gc.collect()
        gc.freeze()

    def has_index(self) -> bool:
        if self._replica is not None:
            self._replica.follow(now=True)
        return read_current(self.settings.index_dir) is not None

    def follow_server(self) -> None:
        """With a Chroma server, switch to each generation another replica publishes even while
        no request comes (the web app calls this once): every few seconds, in a daemon thread."""
        if self._replica is None:
            return
        from bot.index.shared import POLL_SECONDS

        def follow() -> None:
            failing = ""
            while True:
                time.sleep(POLL_SECONDS)
                try:
                    self.index
                    failing = ""
                except PolicyBotError as exc:  # the server away: said once, retried each round
                    if str(exc) != failing:
                        log.warning("following the shared index failed: %s", exc)
                    failing = str(exc)

        threading.Thread(target=follow, name="follow-index", daemon=True).start()

    def ingest(
        self, paths: Iterable[Path] | None = None, progress: Callable[[str, int, int], None] | None = None,
        *, in_child: bool = False,
    ) -> IngestReport:
        """Build a new generation from `paths` (default the corpus) and swap it in. `in_child` runs the
        work in a child process (the web app's uploads: the serving process keeps none of its memory),
        which makes its own embedder from settings rather than using this bot's."""
        paths = list(paths or [self.settings.corpus_dir])
        if in_child:
            from bot.ingest.child import ingest_in_child

            report = ingest_in_child(paths, self.settings, progress)
        else:
            report = ingest(paths, self.settings, self.embedder, progress)
        with self._lock:
            self._index = None
            self._stamp = None
        return report

    def ensure_index(self, in_child: bool = False) -> IngestReport | None:
        """Build the index from the shipped corpus if there is none yet (with a Chroma server: none
        there; replicas starting together wait for the one that took the server's lock). `in_child`:
        in a child process (see `ingest`), on another core while this one does other work."""
        if self.has_index():
            return None
        if self._replica is None:
            return self.ingest(in_child=in_child)
        from bot.index.shared import IngestBusy, POLL_SECONDS

        while True:
            try:
                return self.ingest(in_child=in_child)
            except IngestBusy:  # another replica is building the first generation: serve it once published
                time.sleep(POLL_SECONDS)
            if self.has_index():
                return None

    def searcher(self) -> Searcher:
        return Searcher(self.index)

    def search(self, query: str, k: int = 5, mode: str = "hybrid", among=None) -> list[Hit]:
        """Top-k clauses; `among` (clause ids) limits them to those clauses (条款检索's filters)."""
        return self.searcher().search(query, k, mode, among)


    def ask(self, question: str, conversation=None, use_llm: bool = False, k: int = 5) -> Answer:
        """Answer one question (a follow-up when `conversation` has earlier turns) from its top-k clauses."""
        from bot.matching.guided import GuidedMatch, step, wants_matching
        from bot.answering.pipeline import Conversation, Turn, check_query, check_question

        conversation = conversation if conversation is not None else Conversation()
        if conversation.replying_to_guided(question) or wants_matching(question):
            from bot.answering.question import analyse

            # A reply may be a bare figure ("200", "0"): only the length and printable checks apply.
            replying = conversation.replying_to_guided(question) and check_query(question)
            question = check_query(question) if replying else check_question(question)
            analysis = analyse(question)
            if conversation.guided is None or not conversation.replying_to_guided(question):
                conversation.guided = GuidedMatch()
            facts = {**conversation.facts, **analysis.facts}
            answer = step(conversation.guided, question, facts, self.rules(), self.cite)
            conversation.turns.append(Turn(question, question, analysis, answer))
            return answer
        conversation.guided = None
        state = {"question": question, "conversation": conversation}
        if use_llm:
            state["llm"] = self.llm()
        return self.answer_chain(k).invoke(state)["answer"]

    def answer_chain(self, k: int = 5) -> Runnable:
        chain = self._chains.get(k)
        if chain is None:
            from bot.answering.pipeline import build_answer_chain

            chain = self._chains[k] = build_answer_chain(lambda: self.index, self.citation, self.settings.log_questions, k)
        return chain

    def llm(self):
        """The configured LLM answerer; a clear error when no endpoint is set."""
        if not self.settings.llm_configured:
            raise ConfigError("未配置大模型：请设置 POLICYBOT_LLM_URL 和 POLICYBOT_LLM_MODEL（OpenAI 兼容接口）")
        if self._llm is None:
            from bot.answering.llm import LLMAnswerer, make_chat_model

            self._llm = LLMAnswerer(make_chat_model(self.settings), self.citation)
        return self._llm

    def rule_set(self) -> RuleSet:
        """The rules of corpus/rules that pass the validator against the corpus, and the files refused;
        read again when a file of the corpus or of its rules folder changed (an admin may edit them)."""
        from bot.matching.rules import load_corpus_rules

        corpus = self.settings.corpus_dir
        stamp = _folder_stamp(corpus) + _folder_stamp(corpus / "rules")
        loaded = self._rules
        if loaded is None or loaded[0] != stamp:
            loaded = self._rules = (stamp, load_corpus_rules(corpus))
        return loaded[1]

    def rules(self) -> tuple[Rule, ...]:
        return self.rule_set().rules

    def match(self, profile: EnterpriseProfile) -> list[Verdict]:
        from bot.matching.engine import match

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


def _folder_stamp(folder: Path) -> tuple:
    """(name, mtime, size) of each entry of `folder`: changes when a file is added, removed or edited."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
        return tuple((e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in entries)
    except OSError:
        return ()


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def build_bot(settings: Settings | None = None, embedder: Embeddings | None = None) -> PolicyBot:
    return PolicyBot(settings or Settings.from_env(), embedder)
