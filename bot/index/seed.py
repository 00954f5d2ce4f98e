"""The shipped corpus's vectors, shipped with the package, so a fresh install serves in seconds.

Embedding the shipped corpus with the default embedder takes about half a minute on 2 cores; its
vectors are stored in bot/data/seed-vectors.npz (float32, ~0.9 MB) keyed by the SHA-256 of the text
the embedder reads (a chunk's heading path and text) and by the embedder's name. Ingest takes a
vector from here when both match, as it takes unchanged chunks' vectors from the previous
generation; any other text (another corpus, an edited clause) is embedded as before.

Regenerate after changing the corpus, the chunking or the embedder's package:

    python -m bot.index.seed          # writes bot/data/seed-vectors.npz from corpus/
"""

from __future__ import annotations

import hashlib
import sys
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

SEED_FILE = "seed-vectors.npz"
KEY_BYTES = 16  # of the SHA-256: collision-free for any corpus this holds, half the size of hex


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()[:KEY_BYTES]


@lru_cache(maxsize=1)
def _load() -> tuple[str, dict[bytes, np.ndarray]]:
    """(embedder name, key -> vector) of the shipped file; empty when it is absent or unreadable."""
    try:
        with resources.as_file(resources.files("bot") / "data" / SEED_FILE) as path, np.load(path) as data:
            keys, vectors, embedder = data["keys"], data["vectors"], str(data["embedder"])
    except (OSError, KeyError, ValueError):
        return "", {}
    return embedder, {k.tobytes(): v for k, v in zip(keys, vectors)}


def shipped_vectors(embedder_name: str, texts: list[str]) -> dict[str, list[float]]:
    """The shipped vector of each text that has one for this embedder."""
    name, table = _load()
    if name != embedder_name or not table:
        return {}
    found = {}
    for text in texts:
        vector = table.get(text_key(text))
        if vector is not None:
            found[text] = vector.tolist()
    return found


def corpus_texts(corpus: Path, chunk_chars: int) -> list[str]:
    """What the embedder reads for each chunk of a corpus folder, as ingest would chunk it."""
    from bot.ingest.build import discover, embed_text
    from bot.ingest.chunking import chunk_clauses
    from bot.ingest.loaders import load_document
    from bot.ingest.structure import parse_clauses

    files, _ = discover([corpus])
    texts: list[str] = []
    for path in files:
        texts += [embed_text(c) for c in chunk_clauses(parse_clauses(load_document(path)), chunk_chars)]
    return list(dict.fromkeys(texts))


def write_seed(texts: list[str], embedder, out: Path) -> int:
    """Embed `texts` afresh and write them to `out`; returns how many."""
    vectors = np.asarray(embedder.embed_documents(texts), dtype=np.float32)
    # uint8 rows, not numpy bytes: those drop a key's trailing zero bytes
    keys = np.frombuffer(b"".join(text_key(t) for t in texts), dtype=np.uint8).reshape(len(texts), KEY_BYTES)
    np.savez_compressed(out, keys=keys, vectors=vectors, embedder=np.asarray(embedder.name))
    return len(texts)


def main() -> int:
    from bot.index.embedders import make_embedder
    from bot.settings import Settings

    settings = Settings.from_env()
    embedder = make_embedder(settings.embedder)
    out = Path(__file__).resolve().parent.parent / "data" / SEED_FILE
    count = write_seed(corpus_texts(settings.corpus_dir, settings.chunk_chars), embedder, out)
    print(f"已写入 {out}：{count} 个向量（嵌入模型 {embedder.name}）", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
