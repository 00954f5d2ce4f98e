"""Replicas on one Chroma server: the server holds everything a replica needs to serve.

With POLICYBOT_CHROMA_URL set, any number of app processes (on one machine or many, each with its own
index folder, empty at first) serve one index. On the server:

    policybot-meta             small records: `current` (the serving generation), `ingest-lock`
                               (owner, expiry) and `seen:<replica>` (the generation it serves, when)
    policybot-<generation>     the generation's vectors (bot/index/store.py)
    policybot-<generation>-files
                               its manifest, clause store (documents, clauses, amendment notes) and BM25
                               tokens: JSON, zlib-compressed, base64, in parts (one big record makes the
                               server's writes slow)
    policybot-sources          the files uploaded through a replica's 文档管理 (same packing, keyed by
                               content hash, with their slug and file name)

A replica polls `current` (one small read, every POLL_SECONDS) and, when it changed, copies that
generation's files into its own folder, rebuilds BM25 from the tokens and switches to it: an ingest
through any replica serves on all of them within seconds, without a restart. An ingest holds the
server's lock (written, then read back after a pause: of two written at once only the later is read
back by both) and publishes its generation only if it still holds the lock and `current` is still
the generation it started from. A generation is removed only when it is neither current nor the one
before, and no replica reported serving it for IDLE_SECONDS.

Each replica has its own corpus folder, and an upload lands in the uploading replica's only. So an
upload's file is put on the server before its generation is published, and every ingest with a server
builds from its own inputs plus the uploaded files the serving generation holds that those inputs
lack (copied into a local folder first): a document uploaded through one replica is never lost by an
ingest or upload through another. A file of the same name in the corpus folder that differs from the
served upload gives way to it (with a warning); a file staged by this ingest's own upload wins.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import shutil
import socket
import threading
import time
import uuid
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from bot.errors import IndexUnavailable, PolicyBotError
from bot.index.store import chroma_client, collection_name, prune, read_current, release, with_retries, write_current
from bot.ingest.loaders import staging_root
from bot.settings import Settings

log = logging.getLogger(__name__)

META = "policybot-meta"
FILES_SUFFIX = "-files"
SOURCES = "policybot-sources"
FETCHED = ".server-sources"  # in the index folder: the uploaded files an ingest took from the server
POINTER = "current"
LOCK = "ingest-lock"
SEEN = "seen:"
POLL_SECONDS = 1.5  # how often a replica reads `current`
HEARTBEAT_SECONDS = 10.0  # how often it reports the generation it serves
IDLE_SECONDS = 120.0  # a generation no replica reported for this long may be removed
LOCK_SECONDS = 60.0  # an ingest's lock lapses this long after its last renewal (a dead ingest's)
SETTLE_SECONDS = 0.5  # between writing the lock and reading it back
PART_CHARS = 64_000
_ONE = [[1.0]]  # the meta records' vector: Chroma wants one, nothing searches them


def _pack(data: bytes) -> list[str]:
    """Bytes as zlib-compressed base64 text in PART_CHARS parts (at least one)."""
    packed = base64.b64encode(zlib.compress(data, 6)).decode()
    return [packed[i : i + PART_CHARS] for i in range(0, len(packed), PART_CHARS)] or [""]


def _unpack(got: dict) -> bytes:
    """The bytes of the parts in a collection.get() result (metadatas carry each part's `n`)."""
    parts = sorted(zip(got["metadatas"], got["documents"]), key=lambda p: p[0]["n"])
    return zlib.decompress(base64.b64decode("".join(doc for _, doc in parts)))


class IngestBusy(PolicyBotError):
    """Another ingest holds the server's lock."""


class Shared:
    """The server's side of the index, for one process: one client, closed with `close()`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.chroma_url
        self._client = None

    def _call(self, what, where: str = "共享索引"):
        def call():
            if self._client is None:
                self._client = chroma_client(self.settings, self.settings.index_dir)
            return what(self._client)

        return with_retries(self.settings, call, f"{self.url}，{where}")

    def close(self) -> None:
        if self._client is not None:
            release(self._client)
            self._client = None

    def _meta(self, client):
        return client.get_or_create_collection(META, embedding_function=None)

    def _record(self, key: str) -> dict | None:
        got = self._call(lambda c: self._meta(c).get(ids=[key], include=["metadatas"]))
        return got["metadatas"][0] if got["ids"] else None

    def _put(self, key: str, **values) -> None:
        self._call(lambda c: self._meta(c).upsert(ids=[key], embeddings=_ONE, metadatas=[values]))

    def current(self) -> str | None:
        """The generation every replica should serve, or None before the first ingest."""
        record = self._record(POINTER)
        return str(record["generation"]) if record else None

    def heartbeat(self, replica: str, generation: str) -> None:
        self._put(SEEN + replica, kind="seen", generation=generation, at=time.time())

    # -- a generation's files --------------------------------------------------------------------

    def upload(self, gen_dir: Path, generation: str) -> None:
        """Put a generation's files (built locally by ingest) on the server, beside its vectors."""
        bundle = {name: (gen_dir / name).read_text(encoding="utf-8")
                  for name in ("manifest.json", "clauses.json", "bm25/chunk_ids.json", "bm25/tokens.json")}
        parts = _pack(json.dumps(bundle, ensure_ascii=False).encode("utf-8"))

        def put(client):
            files = client.get_or_create_collection(collection_name(generation) + FILES_SUFFIX, embedding_function=None)
            files.upsert(ids=[f"part-{n:05d}" for n in range(len(parts))], embeddings=_ONE * len(parts),
                         documents=parts, metadatas=[{"n": n} for n in range(len(parts))])

        self._call(put, f"索引版本 {generation}")

    def download(self, generation: str) -> None:
        """Make `generation` the serving one of this process's index folder, its files copied from
        the server and BM25 rebuilt from its tokens."""
        from bot.index.lexical import BM25Index

        index_dir = self.settings.index_dir
        gen_dir = index_dir / generation
        if not (gen_dir / "manifest.json").exists():  # else built here, or copied by another process here
            def get(client):
                files = client.get_collection(collection_name(generation) + FILES_SUFFIX, embedding_function=None)
                return files.get(include=["documents", "metadatas"])

            got = self._call(get, f"索引版本 {generation}")
            try:
                bundle = json.loads(_unpack(got))
                manifest = {**json.loads(bundle["manifest.json"]), "chroma_url": self.url}  # this replica's address
                ids, tokens = json.loads(bundle["bm25/chunk_ids.json"]), json.loads(bundle["bm25/tokens.json"])
            except (ValueError, KeyError, zlib.error) as exc:
                raise IndexUnavailable(f"共享索引版本 {generation} 的文件不完整（{self.url}）：{exc}，请重新导入") from None
            building = index_dir / f".{generation}.{uuid.uuid4().hex[:6]}"
            building.mkdir(parents=True)
            try:
                (building / "clauses.json").write_text(bundle["clauses.json"], encoding="utf-8")
                BM25Index.build(ids, tokens).save(building / "bm25")
                (building / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
                os.rename(building, gen_dir)
            except OSError:
                shutil.rmtree(building, ignore_errors=True)
                if not (gen_dir / "manifest.json").exists():
                    raise
        write_current(index_dir, generation)

    # -- uploaded files ----------------------------------------------------------------------------

    def sources(self) -> dict[str, dict]:
        """The uploaded files on the server: content hash -> {slug, name} (none before the first upload)."""
        from chromadb.errors import NotFoundError

        def listing(client):
            try:
                sources = client.get_collection(SOURCES, embedding_function=None)
                return sources.get(where={"n": 0}, include=["metadatas"])  # one record per file
            except NotFoundError:  # not created by a read: only an upload makes it
                return {"metadatas": []}

        return {m["sha256"]: m for m in self._call(listing, "上传的文件")["metadatas"]}

    def put_source(self, path: Path, slug: str, sha256: str) -> None:
        """Put an uploaded file on the server, keyed by its content hash."""
        parts = _pack(path.read_bytes())

        def put(client):
            sources = client.get_or_create_collection(SOURCES, embedding_function=None)
            sources.upsert(ids=[f"{sha256}-{n:05d}" for n in range(len(parts))], embeddings=_ONE * len(parts),
                           documents=parts, metadatas=[{"sha256": sha256, "slug": slug, "name": path.name, "n": n}
                                                       for n in range(len(parts))])

        self._call(put, f"上传的文件 {path.name}")

    def fetch_source(self, sha256: str, target: Path) -> None:
        """Write the uploaded file of this content hash to `target`."""
        got = self._call(lambda c: c.get_collection(SOURCES, embedding_function=None).get(
            where={"sha256": sha256}, include=["documents", "metadatas"]), f"上传的文件 {target.name}")
        try:
            target.write_bytes(_unpack(got))
        except (ValueError, zlib.error) as exc:
            raise IndexUnavailable(f"共享索引中上传的文件 {target.name} 不完整（{self.url}）：{exc}") from None

    def remove_sources(self, keep: set[str]) -> None:
        """Remove the uploaded files whose content hash is not in `keep` (those no generation holds)."""
        gone = [sha for sha in self.sources() if sha not in keep]
        if gone:
            self._call(lambda c: c.get_collection(SOURCES, embedding_function=None).delete(
                where={"sha256": {"$in": gone}}))

    # -- the ingest lock and publishing --------------------------------------------------------------

    def acquire(self, owner: str) -> None:
        held = self._record(LOCK)
        if held and held["owner"] != owner and held["expires"] > time.time():
            raise IngestBusy(f"另一个导入正在进行（{held['owner']}，共享索引 {self.url}），请稍后再试")
        self._put(LOCK, owner=owner, expires=time.time() + LOCK_SECONDS)
        time.sleep(SETTLE_SECONDS)  # a rival that wrote meanwhile: the later write is the one both read
        self.check_holder(owner)

    def check_holder(self, owner: str) -> None:
        held = self._record(LOCK)
        if not held or held["owner"] != owner:
            who = held["owner"] if held else "?"
            raise IngestBusy(f"另一个导入正在进行（{who}，共享索引 {self.url}），本次导入未生效，请稍后再试")

    def renew(self, owner: str) -> None:
        self.check_holder(owner)
        self._put(LOCK, owner=owner, expires=time.time() + LOCK_SECONDS)

    def release_lock(self, owner: str) -> None:
        held = self._record(LOCK)
        if held and held["owner"] == owner:
            self._call(lambda c: self._meta(c).delete(ids=[LOCK]))

    def publish(self, owner: str, generation: str, base: str | None) -> None:
        """Make `generation` the serving one on the server: only while we hold the lock and nothing
        else was published since `base`, the generation this ingest started from."""
        self.check_holder(owner)
        now = self.current()
        if now != base:
            raise IngestBusy(f"导入期间另一个导入已生效（{now}），本次导入未生效，请重新导入")
        self._put(POINTER, generation=generation, at=time.time())

    def remove_unused(self, keep: set[str]) -> None:
        """Remove the server's generations other than `keep` and the current one that no replica
        reported serving for IDLE_SECONDS (half-built leftovers included), and stale reports."""
        cutoff = time.time() - IDLE_SECONDS
        seen = self._call(lambda c: self._meta(c).get(where={"kind": "seen"}, include=["metadatas"]))
        used = {m["generation"] for m in seen["metadatas"] if m["at"] >= cutoff}
        stale = [key for key, m in zip(seen["ids"], seen["metadatas"]) if m["at"] < cutoff]
        keep = keep | used | {self.current()}
        prefix = collection_name("")
        for collection in self._call(lambda c: c.list_collections()):
            name = getattr(collection, "name", collection)
            generation = name[len(prefix):].removesuffix(FILES_SUFFIX)
            if name.startswith(prefix + "g-") and generation not in keep:
                self._call(lambda c: c.delete_collection(name))
        if stale:
            self._call(lambda c: self._meta(c).delete(ids=stale))


@contextmanager
def ingest_lock(settings: Settings) -> Iterator["ServerIngest | None"]:
    """The server's ingest lock for the duration of an ingest (None without a server); the serving
    generation is first copied into the local folder, so the ingest reuses its vectors."""
    if not settings.chroma_url:
        yield None
        return
    shared = Shared(settings)
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    try:
        shared.acquire(owner)
        try:
            session = ServerIngest(shared, owner)
            try:
                with session.renewing():
                    yield session
            finally:
                session.close()
        finally:
            try:
                shared.release_lock(owner)
            except PolicyBotError:  # the server went away: the lock lapses by itself
                pass
    finally:
        shared.close()


class ServerIngest:
    """One ingest holding the server's lock."""

    def __init__(self, shared: Shared, owner: str) -> None:
        self.shared = shared
        self.owner = owner
        self.base = shared.current()
        if self.base and self.base != read_current(shared.settings.index_dir):
            shared.download(self.base)
        self.fetched = shared.settings.index_dir / FETCHED
        shutil.rmtree(self.fetched, ignore_errors=True)  # a killed ingest's

    def with_uploads(self, files: list[Path]) -> tuple[list[Path], list[str]]:
        """`files` plus the uploaded files the serving generation holds that they lack, copied from
        the server (a corpus-folder file of the same name that differs gives way); and warnings."""
        settings = self.shared.settings
        held = {entry.get("sha256") for entry in _manifest_files(settings.index_dir, self.base).values()}
        uploads = {sha: m for sha, m in self.shared.sources().items() if sha in held}
        if not uploads:
            return files, []
        corpus = Path(settings.corpus_dir).resolve()
        warnings: list[str] = []
        self.fetched.mkdir(parents=True, exist_ok=True)
        for sha, meta in sorted(uploads.items(), key=lambda item: item[1]["name"]):
            same = [path for path in files if path.stem == meta["slug"]]
            if any(not path.resolve().is_relative_to(corpus) or _sha256(path) == sha for path in same):
                continue  # given explicitly (an upload now), or the very file
            if same:
                files = [path for path in files if path not in same]
                warnings.append(f"{meta['name']}：本机语料库中的同名文件与已上传的版本不同，"
                                "仍使用已上传的版本（如需替换请重新上传）")
            target = self.fetched / meta["name"]
            self.shared.fetch_source(sha, target)
            files.append(target)
        return files, warnings

    def tidy(self, report) -> None:
        """Name the files taken from the server in `report` without their local folder (a web page shows it)."""
        folder = f"{self.fetched}{os.sep}"
        report.warnings = [w.replace(folder, "") for w in report.warnings]
        report.skipped = [(path.replace(folder, ""), reason) for path, reason in report.skipped]

    def close(self) -> None:
        shutil.rmtree(self.fetched, ignore_errors=True)

    @contextmanager
    def renewing(self) -> Iterator[None]:
        """Renew the lock every third of its lifetime while the ingest runs (embedding can take minutes)."""
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(LOCK_SECONDS / 3):
                try:
                    self.shared.renew(self.owner)
                except PolicyBotError as exc:  # lost or unreachable: publish() will refuse
                    log.warning("ingest lock not renewed: %s", exc)

        thread = threading.Thread(target=renew, name="ingest-lock", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def publish(self, gen_dir: Path, generation: str) -> None:
        """Put the generation and the files uploaded for it on the server, then make it the serving one."""
        staged = staging_root(self.shared.settings.corpus_dir)
        stored = self.shared.sources()
        for slug, entry in _manifest_files(gen_dir.parent, generation).items():
            path = Path(entry["path"])
            if entry["sha256"] not in stored and path.resolve().is_relative_to(staged):
                self.shared.put_source(path, slug, entry["sha256"])
        self.shared.upload(gen_dir, generation)
        self.shared.publish(self.owner, generation, self.base)

    def remove_unused(self, generation: str) -> None:
        try:
            held = {e.get("sha256") for e in _manifest_files(self.shared.settings.index_dir, generation).values()}
            self.shared.remove_sources(held)
            self.shared.remove_unused({generation, self.base} - {None})
        except PolicyBotError as exc:  # the new generation serves; leftovers go at the next ingest
            log.warning("removing unused generations failed: %s", exc)


def _manifest_files(index_dir: Path, generation: str | None) -> dict[str, dict]:
    """The files a generation was built from, slug -> {path, sha256} (none if there is no manifest)."""
    try:
        return json.loads((index_dir / generation / "manifest.json").read_text(encoding="utf-8")).get("files") or {}
    except (TypeError, OSError, ValueError, AttributeError):
        return {}


def _sha256(path: Path) -> str:
    """The content hash ingest records for a file ("" if unreadable: load_document will say why)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


class Replica:
    """A serving process's link to the server: follows `current`, reports what it serves."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.shared = Shared(settings)
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._lock = threading.Lock()
        self._next_poll = 0.0
        self._next_beat = 0.0

    def follow(self, now: bool = False) -> None:
        """Switch the local folder to the server's serving generation if it changed; at most every
        POLL_SECONDS (`now`: at once, waiting for a poll under way)."""
        if not now and time.monotonic() < self._next_poll:
            return
        if not self._lock.acquire(blocking=now):
            return  # another thread is polling
        try:
            started = time.monotonic()
            if not now and started < self._next_poll:
                return
            self._next_poll = started + POLL_SECONDS
            current = self.shared.current()
            if current is None:
                return
            local = read_current(self.settings.index_dir)
            if current != local:
                self.shared.download(current)
                prune(self.settings, keep={current, local} - {None}, server=False)
                log.info("now serving generation %s of %s", current, self.settings.chroma_url)
            if started >= self._next_beat:
                self.shared.heartbeat(self.name, current)
                self._next_beat = started + HEARTBEAT_SECONDS
        finally:
            self._lock.release()
