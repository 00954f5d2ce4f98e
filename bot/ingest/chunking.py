"""Clauses to retrieval chunks: one per clause, long clauses split at sentence ends.

A chunk's text is an exact substring of its clause, so anything quoted from it is quotable from
the clause. Its id hashes the text and its context, so an unchanged clause keeps its id and its
vector across ingests.
"""

from __future__ import annotations

import hashlib
import re

from bot.records import Chunk, Clause

_SENTENCE = re.compile(r".+?(?:[。；！？]|\n|$)", re.S)
_SOFT = re.compile(r".+?(?:[，,、：:]|$)", re.S)


def clause_label(clause: Clause) -> str:
    """How the clause's own position reads: 四、（八）, 第九十五条, 二、——."""
    parts = clause.path.split(".")
    out = []
    for part in parts:
        if part.startswith("(") and part.endswith(")"):
            out.append(f"（{part[1:-1]}）")
        elif part.startswith("—"):
            out.append("——")
        elif part.startswith("第") or part in ("文首", "序言"):
            out.append(part)
        elif part.isdigit():
            out.append(f"{part}.")
        else:
            out.append(f"{part}、")
    return "".join(out)


def context_of(clause: Clause, part: int = 0) -> str:
    """The heading path a chunk carries, for embedding and BM25.

    A clause's first chunk starts with its own marker and heading, so it carries only its nearest
    parent (none for a law article, whose chapter adds little). Later chunks carry the whole path,
    label and heading, so a sentence from the middle of (八) still reads as part of (八). Every
    context token costs embedding time: this split was measured on eval/questions.jsonl.
    """
    if not part:
        return " ".join(clause.parents[-1:]) if clause.kind != "article" else ""
    bits = [*clause.parents, clause_label(clause), clause.heading]
    return " ".join(b for b in bits if b)


def is_heading_only(clause: Clause) -> bool:
    """A chapter or section line with no text of its own: its words already ride in the
    context of every child chunk, so it is not indexed separately."""
    return clause.kind in ("chapter", "section") and "\n" not in clause.text and len(clause.text) <= 40


def sentences(text: str) -> list[str]:
    """The sentences of `text`, each ending after 。；！？ or a line break, stripped; exact substrings."""
    return [m.group(0).strip() for m in _SENTENCE.finditer(text) if m.group(0).strip()]


def split_text(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Spans of `text` of at most `max_chars` (unless one sentence is longer), cut after 。；！？."""
    if len(text) <= max_chars:
        return [(0, len(text))]
    pieces: list[tuple[int, int]] = []
    for m in _SENTENCE.finditer(text):
        if m.end() - m.start() <= max_chars:
            pieces.append((m.start(), m.end()))
            continue
        for s in _SOFT.finditer(text, m.start(), m.end()):  # a run-on sentence: cut at commas
            for a in range(s.start(), s.end(), max_chars):
                pieces.append((a, min(a + max_chars, s.end())))
    spans: list[tuple[int, int]] = []
    for start, end in pieces:
        if spans and end - spans[-1][0] <= max_chars:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def chunk_clause(clause: Clause, max_chars: int) -> list[Chunk]:
    chunks = []
    for part, (start, end) in enumerate(split_text(clause.text, max_chars)):
        text = clause.text[start:end].strip()
        if not text:
            continue
        context = context_of(clause, part)
        digest = hashlib.sha256(f"{clause.id}\x1f{part}\x1f{context}\x1f{text}".encode()).hexdigest()[:24]
        chunks.append(Chunk(digest, clause.id, clause.doc_slug, part, text, context))
    return chunks


def chunk_clauses(clauses: list[Clause], max_chars: int) -> list[Chunk]:
    return [c for clause in clauses if not is_heading_only(clause) for c in chunk_clause(clause, max_chars)]
