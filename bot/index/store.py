"""The index on disk: generations of (Chroma vectors + BM25 + clause store), swapped atomically.

Layout under the index directory:

    CURRENT                 {"generation": "g-…"}; replaced with os.replace, the only switch
    g-…/manifest.json       embedder, dimension, file hashes, counts, where the vectors live
    g-…/clauses.json        documents, clauses, chunks and amendment notes of this generation
    g-…/bm25/               the BM25 arrays
    g-…/chroma/             the embedded Chroma store (absent when a Chroma server holds them)

Ingest writes a new generation next to the serving one, copies the vectors of unchanged chunks
from it (chunk ids are content hashes) and embeds only the rest, then replaces CURRENT. A failed
or killed ingest leaves CURRENT pointing at the old generation; leftovers are removed later.
"""

from __future__ import annotations

import ctypes
import functools
import json
import logging
import os
import shutil
import threading
import time
import uuid
import weakref
from collections.abc import Collection
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar
from urllib.parse import urlparse

from langchain_core.embeddings import Embeddings

from bot.index import lexical
from bot.logs import clip
from bot.errors import ConfigError, IndexUnavailable
from bot.records import Amendment, Chunk, Clause, DocumentMeta
from bot.settings import Settings
from bot.text.injection import carries_instructions

T = TypeVar("T")
log = logging.getLogger(__name__)

CURRENT = "CURRENT"
FORMAT = 1
# Chroma's default HNSW search breadth (ef) is small: on a few hundred clauses it sometimes missed the
# best one from one process to the next. A wider search and graph make it dependable; costs < 1 ms.
HNSW = {"hnsw:space": "cosine", "hnsw:search_ef": 256, "hnsw:construction_ef": 128}
MAX_FILTER_IDS = 500  # chunk ids in one Chroma query filter: SQLite limits the variables of a statement


@dataclass(frozen=True)
class Manifest:
    generation: str
    embedder: str
    dimension: int
    collection: str
    chroma_url: str  # empty: embedded under the generation directory
    files: dict[str, dict[str, str]]  # slug -> {"path", "sha256"}
    documents: int
    clauses: int
    chunks: int
    created: str
    format: int = FORMAT


# Chroma keeps each store's System (SQLite connections, loaded HNSW segments, worker threads; one per
# path, one per HTTP client) in a class-level cache until every client of it is closed: unclosed, each
# generation ever opened stayed loaded, ~8 MB a swap. A vector store's client is queued here once
# nothing (no request, no ingest) holds the store, and closed by the next client opening or swap:
# under _clients_lock, so closing a path's last client never races another thread opening that path.
_clients_lock = threading.Lock()
_unused: list = []


def chroma_client(settings: Settings, generation_dir: Path):
    """The vector store location seam: an embedded store in the generation, or a Chroma server."""
    _limit_arenas()
    with _clients_lock:
        client = _connect(settings, generation_dir)
        _close_unused()  # after opening: a path both still use keeps its loaded System
    return client


def release_unused() -> None:
    """Close the clients of vector stores nothing uses any more. PolicyBot calls it after a swap and
    at each ask while one is queued: the replaced generation is queued only when the last request
    holding it ends, usually after the swap, and would otherwise stay loaded until the next swap."""
    if not _unused:  # the common case, without taking the lock
        return
    with _clients_lock:
        _close_unused()


def _close_unused() -> None:
    if not _unused:
        return
    while _unused:
        client = _unused.pop()
        try:
            client.close()
        except Exception as exc:  # a store nobody uses failing to close must not fail a request
            log.warning("closing an unused vector store client failed: %s", _one_line(exc))
    _trim_heap()


# Each generation's store starts its own Rust worker threads, and glibc gives threads their own malloc
# arenas (up to 8 per core). A swap's allocations (the new store, BM25, clause store) were then spread
# over many arenas whose freed pages stay resident: ~0.8 MB more RSS a swap, without bound. Two arenas
# and a trim after each release keep it flat.
# glibc also raises its mmap threshold (up to 32 MB) whenever a block it had mapped is freed, so later
# blocks of that size are carved from the arenas instead. The first swap freed the old generation's
# large blocks; from then on the new ones' came from arenas shared with the request threads, between
# their short-lived objects, and pinned free space there: under load the arenas grew 5 to 10 MB a swap
# (docs/benchmarks.md, Soak). A fixed threshold (glibc's initial 128 KiB) keeps large blocks mapped on
# their own, given back whole when freed. No-ops where the C library is not glibc.
MALLOC_ARENAS = 2
MALLOC_MMAP_THRESHOLD = 128 * 1024
_M_ARENA_MAX = -8  # mallopt's parameter numbers in glibc's malloc.h
_M_MMAP_THRESHOLD = -3


@functools.lru_cache(maxsize=1)
def _limit_arenas() -> None:
    libc = _glibc()
    if libc is not None:
        libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS)
        libc.mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)


def _trim_heap() -> None:
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


@functools.lru_cache(maxsize=1)
def _glibc():
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def _connect(settings: Settings, generation_dir: Path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if not url.hostname:
            raise ConfigError(f"Chroma 服务地址无效：{settings.chroma_url!r}")
        try:
            return chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # chromadb raises bare ValueError/ConnectionError on connect
            raise IndexUnavailable(f"无法连接 Chroma 服务 {settings.chroma_url}：{_one_line(exc)}") from None
    return chromadb.PersistentClient(path=str(generation_dir / "chroma"), settings=chroma_settings)


def vector_store(settings: Settings, generation_dir: Path, collection: str, embedder: Embeddings, create: bool):
    """A LangChain Chroma store whose client is closed once the store is no longer used."""
    from langchain_chroma import Chroma

    def connect():
        client = chroma_client(settings, generation_dir)
        try:
            store = Chroma(
                collection_name=collection,
                embedding_function=embedder,
                client=client,
                collection_metadata=HNSW,
                create_collection_if_not_exists=create,
            )
        except BaseException:
            _unused.append(client)
            raise
        # A finalizer may run in any thread, even inside another client's opening: it only queues.
        weakref.finalize(store, _unused.append, client).atexit = False
        return store

    where = settings.chroma_url or str(generation_dir / "chroma")
    return with_retries(settings, connect, f"{where}，集合 {collection}")


def with_retries(settings: Settings, call: Callable[[], T], where: str) -> T:
    """`call()`, retried with doubling delays while a Chroma server does not answer.

    A server restarting (deploy, crash, OOM kill) is back within seconds; a few bounded retries
    hide that from users, and the next request after it is back simply works. An embedded store
    does not come back by waiting, so it is tried once.
    """
    attempts = 1 + (settings.index_retries if settings.chroma_url else 0)
    for attempt in range(attempts):
        try:
            return call()
        except Exception as exc:  # chromadb raises bare ValueError/ConnectionError/httpx errors
            last = exc
            if attempt + 1 < attempts:
                delay = settings.index_retry_delay * 2**attempt
                log.info("vector store %s failed (attempt %d of %d): %s; retrying in %.2f s",
                         where, attempt + 1, attempts, _one_line(exc), delay)
                time.sleep(delay)
    tried = f"，已重试 {attempts - 1} 次" if attempts > 1 else ""
    reason = str(last) if isinstance(last, IndexUnavailable) else _one_line(last)
    raise IndexUnavailable(f"索引暂不可用（{where}{tried}）：{reason}") from None


def _one_line(exc: BaseException) -> str:
    """An error's first line, clipped: a driver's message can span a page."""
    text = str(exc).strip().splitlines()
    return clip(text[0] if text else type(exc).__name__, 200)


def read_current(index_dir: Path) -> str | None:
    try:
        return json.loads((index_dir / CURRENT).read_text(encoding="utf-8"))["generation"]
    except FileNotFoundError:
        return None
    except (ValueError, KeyError) as exc:
        raise IndexUnavailable(f"索引指针文件损坏：{index_dir / CURRENT}（{exc}），请重新运行 policybot ingest") from None


def write_current(index_dir: Path, generation: str) -> None:
    tmp = index_dir / f".{CURRENT}.{uuid.uuid4().hex}"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({"generation": generation}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / CURRENT)


def new_generation() -> str:
    return f"g-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"


def collection_name(generation: str) -> str:
    """Derived from the generation, so a half-built one can be found and removed on the server."""
    return f"policybot-{generation}"


@dataclass
class Store:
    """The clause store of a generation: what search results and citations are built from."""

    documents: dict[str, DocumentMeta]
    clauses: dict[str, Clause]
    chunks: dict[str, Chunk]
    amendments: dict[str, Amendment]

    def to_json(self) -> dict[str, Any]:
        return {
            "documents": {k: asdict(v) for k, v in self.documents.items()},
            # `instructs` is not kept: it is judged again on loading, so the file reads as it did before it.
            "clauses": [{k: v for k, v in asdict(c).items() if k != "instructs"} for c in self.clauses.values()],
            "chunks": [asdict(c) for c in self.chunks.values()],
            "amendments": [asdict(a) for a in self.amendments.values()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Store":
        def clause(d: dict[str, Any]) -> Clause:
            return Clause(**{**d, "parents": tuple(d["parents"]), "responsible_units": tuple(d["responsible_units"]),
                             "instructs": carries_instructions(d["text"])})

        return cls(
            documents={k: DocumentMeta(**v) for k, v in data["documents"].items()},
            clauses={d["id"]: clause(d) for d in data["clauses"]},
            chunks={d["id"]: Chunk(**d) for d in data["chunks"]},
            amendments={d["clause_id"]: Amendment(**d) for d in data["amendments"]},
        )


class PolicyIndex:
    """One loaded generation: the clause store, BM25 and the vector store, ready to search."""

    def __init__(self, settings: Settings, manifest: Manifest, store: Store, bm25, vectors) -> None:
        self.settings = settings
        self.manifest = manifest
        self.store = store
        self.bm25 = bm25
        self.vectors = vectors
        self._df = None

    @classmethod
    def open(cls, settings: Settings, embedder: Embeddings) -> "PolicyIndex":
        """Load the serving generation; fail with a message that says what to do."""
        from bot.index.lexical import BM25Index

        generation = read_current(settings.index_dir)
        if generation is None:
            raise IndexUnavailable(f"索引不存在：{settings.index_dir}。请先运行 policybot ingest 建立索引")
        gen_dir = settings.index_dir / generation
        try:
            manifest = Manifest(**json.loads((gen_dir / "manifest.json").read_text(encoding="utf-8")))
            store = Store.from_json(json.loads((gen_dir / "clauses.json").read_text(encoding="utf-8")))
            bm25 = BM25Index.load(gen_dir / "bm25")
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise IndexUnavailable(f"索引文件损坏或不完整（{gen_dir}）：{_one_line(exc)}，请重新运行 policybot ingest") from None
        name = getattr(embedder, "name", "?")
        if manifest.embedder != name:
            raise IndexUnavailable(
                f"索引是用嵌入模型 {manifest.embedder}（{manifest.dimension} 维）建立的，当前设置为 {name}："
                f"请用当前模型重新运行 policybot ingest，或改回 {manifest.embedder}"
            )
        if manifest.chroma_url != settings.chroma_url:
            where = manifest.chroma_url or "内嵌存储"
            raise IndexUnavailable(f"索引的向量存放在 {where}，与当前设置不同：请重新运行 policybot ingest")
        vectors = vector_store(settings, gen_dir, manifest.collection, embedder, create=False)
        return cls(settings, manifest, store, bm25, vectors)

    @property
    def generation(self) -> str:
        return self.manifest.generation

    def doc_freq(self, token: str) -> int:
        """In how many chunks a BM25 token occurs (the abstention check weighs words by rarity)."""
        if self._df is None:
            from collections import Counter

            df: Counter[str] = Counter()
            for tokens in self.bm25.tokens().values():
                df.update(set(tokens))
            self._df = df
        return self._df.get(token, 0)

    def idf(self, token: str) -> float:
        return lexical.idf(self.doc_freq(token), len(self.store.chunks))

    def uses(self, term: str) -> bool:
        """Whether the corpus itself uses a word (高新技术企业 yes, 高企 no)."""
        return self.doc_freq(term) > 0

    def doc_title(self, slug: str) -> str:
        meta = self.store.documents.get(slug)
        return meta.title if meta and meta.title else slug

    def dense(self, query: str, k: int, among: Collection[str] | None = None,
              vector: list[float] | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, cosine similarity) from the vector store; with `among` (chunk ids), only
        those chunks (Chroma's own id filter); `vector`: the query's embedding when the caller has it."""
        where = self.settings.chroma_url or "内嵌向量库"
        allowed = among if among is not None and len(among) < len(self.store.chunks) else None
        if allowed is not None and not allowed:
            return []
        if vector is None:
            vector = self.embed_query(query)
        filters: dict = {}
        want = k
        if allowed is not None:
            if len(allowed) <= MAX_FILTER_IDS:
                filters["ids"] = sorted(allowed)
            else:  # a filter this wide would pass too many SQL variables: rank all, keep the allowed
                k = len(self.store.chunks)
        # Ids and distances only: the clause text comes from the store, and asking Chroma for the
        # documents and metadata of 100 candidates cost 4.7 ms a query against 1.2 ms without.
        found = with_retries(self.settings, lambda: self.vectors._collection.query(
            query_embeddings=[vector], n_results=k, include=["distances"], **filters), where)
        pairs = [(chunk_id, 1.0 - float(dist)) for chunk_id, dist in zip(found["ids"][0], found["distances"][0])
                 if allowed is None or chunk_id in allowed][:want]
        return sorted(pairs, key=lambda p: (-p[1], p[0]))  # equal distances (repeated text) in a fixed order

    def embed_query(self, query: str) -> list[float]:
        return self.vectors.embeddings.embed_query(query)

    def lexical(self, tokens: list[str], k: int) -> list[tuple[str, float]]:
        return self.bm25.search(tokens, k)


def open_previous(settings: Settings, embedder: Embeddings) -> PolicyIndex | None:
    """The serving generation if it can lend vectors to the next one (same embedder and store)."""
    try:
        return PolicyIndex.open(settings, embedder)
    except IndexUnavailable:
        return None


def release(client) -> None:
    """Queue a client nothing uses any more; each HTTP client has its own System: closed at the next opening."""
    _unused.append(client)


def remove_generation(settings: Settings, generation: str, server: bool = True) -> None:
    """Delete a generation's files and, on a Chroma server (unless `server` is False: other
    replicas may serve it, bot/index/shared.py decides), its collections."""
    gen_dir = settings.index_dir / generation
    if settings.chroma_url and server:
        try:
            client = chroma_client(settings, gen_dir)
            try:
                for name in (collection_name(generation), collection_name(generation) + "-files"):
                    try:
                        client.delete_collection(name)
                    except Exception:  # never created or already gone: harmless
                        pass
            finally:
                release(client)
        except Exception:  # server down: harmless
            pass
    shutil.rmtree(gen_dir, ignore_errors=True)


def prune(settings: Settings, keep: set[str], server: bool = True) -> None:
    """Remove generations (and half-built leftovers) other than those in `keep`; their server
    collections too unless `server` is False."""
    if not settings.index_dir.is_dir():
        return
    for path in settings.index_dir.iterdir():
        if path.is_dir() and path.name.startswith("g-") and path.name not in keep:
            remove_generation(settings, path.name, server)
        elif path.is_dir() and path.name.startswith(".g-"):  # a replica's copy cut short
            shutil.rmtree(path, ignore_errors=True)

