"""The domain records: plain frozen dataclasses passed from corpus to answer."""

from __future__ import annotations

from dataclasses import dataclass

MAX_K = 50  # the most clauses one search returns: the CLI's -k, the web's 条数 and the API's k


@dataclass(frozen=True)
class DocumentMeta:
    """Header fields of a policy document. Empty string where unknown."""

    title: str = ""
    doc_number: str = ""  # 文号, e.g. 黔科领发〔2021〕1号
    issuer: str = ""  # 发布机关
    date: str = ""  # 成文日期, ISO yyyy-mm-dd where known
    source: str = ""  # 来源


@dataclass(frozen=True)
class Document:
    """A loaded source file: its body text (header block removed) and metadata.

    `slug` is the file stem and the first half of every clause id. `body_offset` is where `text`
    starts in the file's decoded text, so clause offsets can be mapped back to the source.
    """

    slug: str
    path: str
    text: str
    meta: DocumentMeta
    sha256: str
    body_offset: int = 0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Clause:
    """One citable unit of a document: a head, a section, an item, an article, a target bullet.

    `text` is `document.text[start:end]` stripped of surrounding whitespace; `path` is the dotted
    structural path (四.(八), 第九十五条, 二.—1); `id` is `<slug>#<path>`.

    `instructs`: the text addresses a model ("忽略之前的指令…"): data to quote at most, never an
    answer's basis. Whoever makes a clause from text judges it (bot.text.injection): the structure
    parser at ingest, and the index as it loads, so a sharper detector applies to an older index.
    """

    id: str
    doc_slug: str
    path: str
    kind: str  # head | preamble | chapter | section | item | point | article | bullet | text
    heading: str
    parents: tuple[str, ...]
    text: str
    start: int
    end: int
    responsible_units: tuple[str, ...] = ()
    instructs: bool = False


@dataclass(frozen=True)
class Chunk:
    """A retrieval unit: a clause, or a sentence-aligned part of a long one, with its context."""

    id: str  # content hash: same text and context -> same id -> no re-embedding
    clause_id: str
    doc_slug: str
    part: int
    text: str
    context: str  # document title and heading path, prepended when embedding/tokenising


@dataclass(frozen=True)
class Amendment:
    """An editor's note on a clause that a later document changed (corpus/amendments.yaml)."""

    clause_id: str
    status: str  # amended | repealed
    by_title: str
    by_number: str
    by_date: str
    note: str


@dataclass(frozen=True)
class Hit:
    """A retrieved clause with its fused score and the per-retriever evidence."""

    clause: Clause
    doc_title: str
    score: float
    dense_score: float | None = None
    bm25_score: float | None = None
    amendment: Amendment | None = None


@dataclass(frozen=True)
class Citation:
    """One numbered source of an answer, built from the retrieved clause, never from model text.

    `quote` is an exact substring of the clause's text.
    """

    n: int
    clause_id: str
    doc_title: str
    path: str
    citation: str  # the citation line people copy: 《标题》（文号）四、（八）…
    quote: str
    responsible_units: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answer:
    """What `ask` returns: the text shown, whether it abstained, and what it rests on."""

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    lead: str = ""  # the direct answer read first (a figure, condition, department or "no basis"), no quote
    hits: tuple[Hit, ...] = ()
    related: tuple[Hit, ...] = ()  # when abstaining: nearest clauses, "possibly related"
    intent: str = ""
    notes: tuple[str, ...] = ()  # e.g. why an LLM answer was replaced by the extractive one
    answerer: str = "extractive"  # extractive | llm
