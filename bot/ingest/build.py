"""Ingest: files -> documents -> clauses -> chunks -> a new index generation, swapped in atomically."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from langchain_core.embeddings import Embeddings

from bot.ingest.chunking import chunk_clauses
from bot.ingest.loaders import SUPPORTED_SUFFIXES, load_document
from bot.errors import ConfigError, DocumentError, PolicyBotError
from bot.index.store import (
    Manifest,
    Store,
    collection_name,
    new_generation,
    open_previous,
    prune,
    read_current,
    remove_generation,
    vector_store,
    write_current,
)
from bot.index.lexical import BM25Index, tokenize
from bot.index.seed import shipped_vectors
from bot.index.shared import ServerIngest, ingest_lock
from bot.records import Amendment, Chunk
from bot.settings import Settings
from bot.ingest.structure import parse_clauses
from bot.ingest.amendments import load_amendments
from bot.matching.drafts import draft_new_documents

log = logging.getLogger(__name__)
LOCK_FILE = ".ingest.lock"  # holds the PID of the running ingest; empty after a clean finish
PROGRESS_STEP = 16  # chunks embedded between progress updates
STORE_BATCH = 1000  # vectors per Chroma upsert: each call has a fixed cost


@dataclass
class IngestReport:
    generation: str = ""
    documents: int = 0
    clauses: int = 0
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    seconds: float = 0.0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    warnings: list[str] = field(default_factory=list)
    drafts: list[str] = field(default_factory=list)  # rule drafts written for new documents

    def summary(self) -> str:
        lines = [
            f"已建立索引 {self.generation}：文档 {self.documents} 篇，条款 {self.clauses} 条，检索块 {self.chunks} 个"
            f"（新嵌入 {self.embedded}，复用 {self.reused}），用时 {self.seconds:.1f} 秒"
        ]
        lines += [f"跳过 {path}：{reason}" for path, reason in self.skipped]
        lines += [f"注意：{w}" for w in self.warnings]
        lines += [f"规则草稿 {d}" for d in self.drafts]
        return "\n".join(lines)


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to ingest, and those passed over with why.

    Given files are taken as they are; folders are searched for supported types (not README) without
    leaving the folder: a link whose target lies outside it is skipped, a linked folder not entered.
    Pipes, devices and sockets are named but never opened, and a name that is not UTF-8 (which no
    index record or report could hold) is skipped rather than aborting the whole ingest.
    """
    found: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)  # a file, or a missing path: load_document says why
            continue
        root = path.resolve()
        for f in sorted(_walk(path, root, skipped)):
            if f.suffix.lower() not in SUPPORTED_SUFFIXES or f.name.lower().startswith("readme"):
                continue
            if not f.resolve().is_relative_to(root):
                skipped.append((_shown(f), "是指向导入文件夹之外的链接，未读取"))
            elif f.exists() and not f.is_file():
                skipped.append((_shown(f), "不是普通文件（管道、设备或套接字），未读取"))
            else:
                found.append(f)
    unnamed = [f for f in found if not _utf8(str(f))]
    skipped += [(_shown(f), "文件名不是有效的 UTF-8 编码，请改名后再导入") for f in unnamed]
    return [f for f in found if f not in unnamed], skipped


def _walk(folder: Path, root: Path, skipped: list[tuple[str, str]]) -> Iterator[Path]:
    """Every entry below `folder` that is not a folder. os.walk enters no linked folder; one that
    leads outside the ingested folder is reported as skipped."""
    for parent, folders, files in os.walk(folder):
        for name in folders:
            sub = Path(parent, name)
            if sub.is_symlink() and not sub.resolve().is_relative_to(root):
                skipped.append((_shown(sub), "是指向导入文件夹之外的链接，未进入"))
        yield from (Path(parent, name) for name in files)


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # os.fsdecode keeps undecodable bytes as lone surrogates
        return False
    return True


def _shown(path: Path) -> str:
    """A path as a report can print it: undecodable bytes written as \\xff."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


class _ReusingEmbeddings(Embeddings):
    """Hands back the previous generation's vector for a text it already embedded."""

    def __init__(self, base: Embeddings, known: dict[str, list[float]]) -> None:
        self.base = base
        self.known = known
        self.name = getattr(base, "name", "?")
        self.embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.known]
        if missing:
            self.known.update(zip(missing, self.base.embed_documents(missing)))
            self.embedded += len(missing)
        return [self.known[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.base.embed_query(text)


def embed_text(chunk: Chunk) -> str:
    """What the dense half sees: the heading path, then the text."""
    return f"{chunk.context}\n{chunk.text}"


def lexical_text(chunk: Chunk, doc_title: str) -> str:
    """What BM25 sees: the document title too, so 实施条例/认定办法 in a question finds its clauses."""
    return f"{doc_title}\n{chunk.context}\n{chunk.text}"


def ingest(
    paths: Iterable[Path],
    settings: Settings,
    embedder: Embeddings,
    progress: Callable[[str, int, int], None] | None = None,
) -> IngestReport:
    """Build a new generation from `paths` and make it the serving one.

    Files that fail to load are skipped with their reason; if none loads, nothing changes.
    """
    started = time.perf_counter()
    check_index_dir(settings.index_dir)
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    # "a+", not "w": opening must not erase the PID of an ingest that holds the lock.
    with open(settings.index_dir / LOCK_FILE, "a+", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip()
            who = f"进程 {holder}，" if holder.isdigit() else ""
            raise PolicyBotError(f"另一个导入正在进行（{who}{settings.index_dir}），请稍后再试") from None
        stale = _take_over(lock)
        try:
            with ingest_lock(settings) as server:  # the Chroma server's lock too, when there is one
                report = _ingest_locked(list(paths), settings, embedder, progress, server)
        finally:
            lock.seek(0)
            lock.truncate()  # a clean finish leaves no PID behind
            lock.flush()
        if stale:
            log.info("ingest lock of dead process %s taken over in %s", stale, settings.index_dir)
            report.warnings.insert(0, f"上次导入（进程 {stale}）未正常结束，已接管导入锁并清理其未完成的索引")
    report.seconds = time.perf_counter() - started
    return report


def check_index_dir(index_dir: Path) -> None:
    """Refuse an index folder that is a file (or lies below one): one line, not an OSError from a read."""
    for place in (index_dir, *index_dir.parents):
        if place.exists():
            if not place.is_dir():
                raise ConfigError(f"索引目录不可用：{place} 是文件，不是文件夹（请检查 --index-dir 或 POLICYBOT_INDEX_DIR）")
            return


def _take_over(lock) -> str:
    """Record our PID in the lock file; return the PID left there by an ingest that died holding it.

    The kernel drops a flock when its holder dies (even by SIGKILL), so holding the lock proves the
    recorded process is gone; its half-built generation is removed by this ingest's prune.
    """
    lock.seek(0)
    previous = lock.read().strip()
    lock.seek(0)
    lock.truncate()
    lock.write(str(os.getpid()))
    lock.flush()
    return previous if previous.isdigit() and int(previous) != os.getpid() else ""


def _ingest_locked(paths, settings, embedder, progress, server: ServerIngest | None) -> IngestReport:
    report = IngestReport()
    files, report.skipped = discover(paths)
    if server is not None:  # and the uploads through other replicas that these paths lack
        files, report.warnings = server.with_uploads(files)
    store = Store({}, {}, {}, {})
    file_hashes: dict[str, dict[str, str]] = {}
    for i, path in enumerate(files):
        if progress:
            progress("读取", i, len(files))
        try:
            doc = load_document(path, max_bytes=settings.max_file_bytes, max_pages=settings.max_pdf_pages)
            if doc.slug in store.documents:
                raise DocumentError(path, f"与 {file_hashes[doc.slug]['path']} 同名（文档标识 {doc.slug} 重复）")
            clauses = parse_clauses(doc)
        except DocumentError as exc:
            report.skipped.append((exc.path, exc.reason))
            continue
        report.warnings += [f"{path}：{w}" for w in doc.warnings]
        store.documents[doc.slug] = doc.meta
        file_hashes[doc.slug] = {"path": str(path), "sha256": doc.sha256}
        for clause in clauses:
            store.clauses[clause.id] = clause
        for chunk in chunk_clauses(clauses, settings.chunk_chars):
            store.chunks[chunk.id] = chunk
    if server is not None:
        server.tidy(report)
    if not store.documents:
        raise PolicyBotError("没有可导入的文档：" + ("；".join(f"{p}：{r}" for p, r in report.skipped) or "未找到支持的文件"))

    store.amendments, notes = _amendments(paths, store)
    report.warnings += notes
    report.generation = generation = new_generation()
    gen_dir = settings.index_dir / generation
    gen_dir.mkdir(parents=True)
    previous = read_current(settings.index_dir)
    try:
        _write_generation(gen_dir, generation, store, file_hashes, settings, embedder, report, progress)
        if server is not None:
            server.publish(gen_dir, generation)  # serving on every replica from now
    except BaseException:
        remove_generation(settings, generation)  # the half-built one
        prune(settings, keep={previous} - {None}, server=server is None)  # leftovers of a killed ingest
        raise
    write_current(settings.index_dir, generation)
    report.drafts = draft_new_documents(store, file_hashes, _files_of(settings, previous), settings.corpus_dir)
    # On a server, other replicas may still serve older generations: the server's side decides.
    prune(settings, keep={generation, previous} - {None}, server=server is None)
    if server is not None:
        server.remove_unused(generation)
    report.documents, report.clauses, report.chunks = len(store.documents), len(store.clauses), len(store.chunks)
    return report


def _files_of(settings: Settings, generation: str | None) -> dict:
    """The file hashes a generation was built from (empty if none or unreadable): what is new since."""
    try:
        manifest = json.loads((settings.index_dir / generation / "manifest.json").read_text(encoding="utf-8"))
    except (TypeError, OSError, ValueError):
        return {}
    return manifest.get("files") or {} if isinstance(manifest, dict) else {}


def _amendments(paths: list[Path], store: Store) -> tuple[dict[str, Amendment], list[str]]:
    """amendments.yaml of every ingested folder; a note on an unknown clause is reported."""
    found: dict[str, Amendment] = {}
    for path in paths:
        candidate = path / "amendments.yaml" if path.is_dir() else None
        # is_file: a pipe so named would hang the read; a link out of the folder is not the folder's
        if candidate and candidate.is_file() and candidate.resolve().is_relative_to(path.resolve()):
            found.update(load_amendments(candidate))
    unknown = [cid for cid in found if cid not in store.clauses]
    notes = [f"amendments.yaml 提到的条款不存在：{cid}" for cid in unknown if cid.split("#")[0] in store.documents]
    return {k: v for k, v in found.items() if k in store.clauses}, notes


def _write_generation(gen_dir, generation, store, file_hashes, settings, embedder, report, progress) -> None:
    name = getattr(embedder, "name", "?")
    chunks = list(store.chunks.values())
    known: dict[str, list[float]] = {}
    old_tokens: dict[str, list[str]] = {}
    previous = open_previous(settings, embedder)
    if previous is not None:
        texts = {c.id: embed_text(c) for c in chunks if c.id in previous.store.chunks}
        if texts:
            got = previous.vectors.get(ids=list(texts), include=["embeddings"])
            for cid, vec in zip(got["ids"], got["embeddings"]):
                known[texts[cid]] = list(vec)
        old_tokens = previous.bm25.tokens()
    todo = [embed_text(c) for c in chunks]
    if settings.shipped_vectors:  # the shipped corpus's, made by this embedder
        known.update(shipped_vectors(name, [t for t in todo if t not in known]))
    reusing = _ReusingEmbeddings(embedder, known)
    # Embed what is new, a few at a time for the progress bar; Chroma then gets large batches.
    for b in range(0, len(todo), PROGRESS_STEP):
        if progress:
            progress("嵌入", b, len(todo))
        reusing.embed_documents(todo[b : b + PROGRESS_STEP])
    if progress:
        progress("嵌入", len(todo), len(todo))
    vectors = vector_store(settings, gen_dir, collection_name(generation), reusing, create=True)
    for b in range(0, len(chunks), STORE_BATCH):
        batch = chunks[b : b + STORE_BATCH]
        vectors.add_texts(
            texts=[embed_text(c) for c in batch],
            metadatas=[{"clause_id": c.clause_id, "doc_slug": c.doc_slug, "part": c.part} for c in batch],
            ids=[c.id for c in batch],
        )
    report.embedded = reusing.embedded
    report.reused = len(chunks) - reusing.embedded

    tokens = [
        old_tokens.get(c.id) or tokenize(lexical_text(c, store.documents[c.doc_slug].title or c.doc_slug))
        for c in chunks
    ]
    BM25Index.build([c.id for c in chunks], tokens).save(gen_dir / "bm25")
    (gen_dir / "clauses.json").write_text(json.dumps(store.to_json(), ensure_ascii=False), encoding="utf-8")
    dimension = len(next(iter(reusing.known.values()))) if reusing.known else 0
    manifest = Manifest(
        generation=generation,
        embedder=name,
        dimension=dimension,
        collection=collection_name(generation),
        chroma_url=settings.chroma_url,
        files=file_hashes,
        documents=len(store.documents),
        clauses=len(store.clauses),
        chunks=len(chunks),
        created=time.strftime("%Y-%m-%dT%H:%M:%S"),
    )
    (gen_dir / "manifest.json").write_text(json.dumps(asdict(manifest), ensure_ascii=False, indent=1), encoding="utf-8")
