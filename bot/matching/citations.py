"""Citation lines for the clauses rules cite, read from the corpus files themselves: `policybot match`
cites 《…》（文号）第十一条 without a built index, from any folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.answering.citations import citation_line
from bot.ingest.metadata import short_doc_number
from bot.matching.rules import corpus_documents


def corpus_citer(corpus_dir: str | Path) -> Callable[[str], str]:
    """clause id -> its citation line, as the index would give it; an id no corpus file holds stays as is."""
    lines = {c.id: citation_line(c, doc.meta, short_doc_number(doc.meta))
             for doc, clauses in corpus_documents(corpus_dir) for c in clauses}
    return lambda clause_id: lines.get(clause_id, clause_id)
