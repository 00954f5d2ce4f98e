"""Citation lines and quotes for the clauses rules cite, read from the corpus files themselves:
`policybot match` (and its --report) cites 《…》（文号）第十一条 without a built index, from any folder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.answering.citations import citation_line
from bot.ingest.metadata import short_doc_number
from bot.matching.rules import corpus_documents


@dataclass(frozen=True)
class Quoted:
    """A cited clause as a report quotes it: its citation line, its text, and its status or the
    editor's note when amended (empty for a clause in force as written)."""

    citation: str
    text: str = ""
    note: str = ""


def corpus_quoter(corpus_dir: str | Path) -> Callable[[str], Quoted]:
    """clause id -> its Quoted, as the index would show it; an id no corpus file holds keeps the id alone."""
    from bot.ingest.amendments import editor_note, load_amendments, status_line

    notes = Path(corpus_dir) / "amendments.yaml"
    amendments = load_amendments(notes) if notes.is_file() else {}
    quotes: dict[str, Quoted] = {}
    for doc, clauses in corpus_documents(corpus_dir):
        for clause in clauses:
            amendment = amendments.get(clause.id)
            quotes[clause.id] = quoted(citation_line(clause, doc.meta, short_doc_number(doc.meta)), clause.text,
                                       status_line(amendment), editor_note(amendment) if amendment else "")
    return lambda clause_id: quotes.get(clause_id, Quoted(clause_id))


def quoted(citation: str, text: str, status: str, note: str) -> Quoted:
    """A clause's Quoted from its citation line, text, status line and editor's note (from the index's
    view or the corpus files): the status is shown only when the clause is not in force as written."""
    shown = "" if status.startswith("现行有效") else f"状态：{status}"
    return Quoted(citation, text, "\n".join(part for part in (shown, note) if part))


def corpus_citer(corpus_dir: str | Path) -> Callable[[str], str]:
    """clause id -> its citation line, as the index would give it; an id no corpus file holds stays as is."""
    quote = corpus_quoter(corpus_dir)
    return lambda clause_id: quote(clause_id).citation
