"""How clauses read to people: citation lines and labels. Pure functions, no index needed."""

from __future__ import annotations

from bot.ingest.chunking import clause_label
from bot.records import Clause, DocumentMeta


def citation_line(clause: Clause, meta: DocumentMeta, doc_number: str = "") -> str:
    """《关于推进…实施方案》（黔科领发〔2021〕1号）四、（八）加快科技成果转移转化"""
    title = meta.title or clause.doc_slug
    number = f"（{doc_number}）" if doc_number else ""
    label = clause_label(clause)
    if clause.kind in ("head", "preamble"):
        label = "文首" if clause.kind == "head" else "序言"
    heading = clause.heading if clause.kind not in ("head", "article") else ""
    return f"《{title}》{number}{label}{heading}"
