"""Split a Chinese policy document into citable clauses.

Two shapes occur. Laws and measures are articles (第X条) grouped in chapters (第X章/第X节); the
article is the citable unit and its items （一） and points 1. stay inside it. Plans and notices are
sections 一、, items （一）/(一), points 1./1、 and "——" target bullets; each marker starts a clause.
Whatever precedes the first marker is the document head (title, 文号, addressees, date), and prose
after the title line is the preamble.

The split is lossless: clauses are consecutive spans of the body, so every non-whitespace
character lands in exactly one clause, in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.records import Clause, Document
from bot.text.injection import carries_instructions
from bot.text.numerals import NUMERAL_CHARS

CHAPTER = re.compile(rf"^第[{NUMERAL_CHARS}\d]+章(?=\s|$)")
SUBCHAPTER = re.compile(rf"^第[{NUMERAL_CHARS}\d]+节(?=\s|$)")
ARTICLE = re.compile(rf"^第[{NUMERAL_CHARS}\d]+条(?=[\s　]|$)")
SECTION = re.compile(rf"^[{NUMERAL_CHARS}]+、")
ITEM = re.compile(rf"^[（(]([{NUMERAL_CHARS}]+)[）)]")
POINT = re.compile(r"^(\d{1,2})(?:[.．、](?!\d))")
BULLET = re.compile(r"^——(?=\S)")
RESPONSIBLE = re.compile(r"[（(]责任单位[：:]\s*(.+?)[）)]\s*$", re.S)
SENTENCE_END = "。；！？"

HEAD_PATH = "文首"
PREAMBLE_PATH = "序言"


@dataclass
class _Line:
    start: int
    end: int
    text: str  # stripped


@dataclass
class _Open:
    """A clause being collected: where it starts and what it is."""

    kind: str
    path: str
    heading: str
    parents: tuple[str, ...]
    start: int
    label: str  # how it reads in a parent list, e.g. 四、强化创新能力提升


def _lines(text: str) -> list[_Line]:
    out, pos = [], 0
    for raw in text.splitlines(keepends=True):
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            out.append(_Line(pos + lead, pos + lead + len(stripped), stripped))
        pos += len(raw)
    return out


def _tidy(heading: str) -> str:
    """'总  则' -> '总则': typesetting spaces between CJK characters are not part of a heading."""
    return re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "", heading.strip())


def _first_phrase(text: str, limit: int = 40) -> str:
    """The item's own heading: text after its marker up to the first sentence end, if short."""
    head = re.split(r"[。；！？\n]", text, maxsplit=1)[0].strip()
    return head if 0 < len(head) <= limit else ""


def _is_law(lines: list[_Line]) -> bool:
    return sum(1 for line in lines if ARTICLE.match(line.text)) >= 3


def parse_clauses(doc: Document) -> list[Clause]:
    """Clauses of `doc` in document order; offsets are into the source file's decoded text."""
    text = doc.text
    lines = _lines(text)
    law = _is_law(lines)
    opened: list[_Open] = []
    section: _Open | None = None  # 一、 (plan) or 第X章 (law)
    sub: _Open | None = None  # （一） (plan) or 第X节 (law)
    counters: dict[str, int] = {}

    def open_clause(kind: str, path: str, heading: str, parents: tuple[str, ...], start: int, label: str) -> _Open:
        clause = _Open(kind, path, heading, parents, start, label)
        opened.append(clause)
        return clause

    for line in lines:
        t = line.text
        if law:
            if m := CHAPTER.match(t):
                heading = _tidy(t[m.end():])
                section = open_clause("chapter", m.group(0), heading, (), line.start, f"{m.group(0)} {heading}")
                sub = None
            elif m := SUBCHAPTER.match(t):
                heading = _tidy(t[m.end():])
                parents = (section.label,) if section else ()
                path = f"{section.path}.{m.group(0)}" if section else m.group(0)
                sub = open_clause("chapter", path, heading, parents, line.start, f"{m.group(0)} {heading}")
            elif m := ARTICLE.match(t):
                parents = tuple(p.label for p in (section, sub) if p)
                open_clause("article", m.group(0), "", parents, line.start, m.group(0))
            continue
        if m := SECTION.match(t):
            heading = t[m.end():].strip()
            section = open_clause("section", m.group(0)[:-1], heading, (), line.start, t)
            sub = None
        elif m := ITEM.match(t):
            parents = (section.label,) if section else ()
            path = f"({m.group(1)})"
            path = f"{section.path}.{path}" if section else path
            heading = _first_phrase(t[m.end():])
            sub = open_clause("item", path, heading, parents, line.start, f"（{m.group(1)}）{heading}")
        elif m := POINT.match(t):
            parent = sub or section
            parents = tuple(p.label for p in (section, sub) if p)
            path = f"{parent.path}.{m.group(1)}" if parent else m.group(1)
            open_clause("point", path, _first_phrase(t[m.end():]), parents, line.start, m.group(0))
        elif BULLET.match(t):
            parent = sub or section
            parents = tuple(p.label for p in (section, sub) if p)
            key = parent.path if parent else ""
            counters[key] = counters.get(key, 0) + 1
            path = f"{key}.—{counters[key]}" if key else f"—{counters[key]}"
            open_clause("bullet", path, _first_phrase(t[2:]), parents, line.start, "——")

    return _close(doc, lines, opened)


def _close(doc: Document, lines: list[_Line], opened: list[_Open]) -> list[Clause]:
    text = doc.text
    first = opened[0].start if opened else len(text)
    spans: list[tuple[_Open, int, int]] = []
    spans.extend(_head_spans(doc, lines, first))
    for i, clause in enumerate(opened):
        end = opened[i + 1].start if i + 1 < len(opened) else len(text)
        spans.append((clause, clause.start, end))

    seen: dict[str, int] = {}
    out: list[Clause] = []
    for clause, start, end in spans:
        body = text[start:end].strip()
        if not body:
            continue
        path = clause.path
        seen[path] = seen.get(path, 0) + 1
        if seen[path] > 1:  # a repeated number (appendix, typo): keep ids unique and stable
            path = f"{path}~{seen[path]}"
        lead = len(text[start:end]) - len(text[start:end].lstrip())
        abs_start = doc.body_offset + start + lead
        units = ()
        if m := RESPONSIBLE.search(body):
            units = tuple(u.strip() for u in re.split(r"[、，,]", m.group(1)) if u.strip())
        out.append(
            Clause(
                id=f"{doc.slug}#{path}",
                doc_slug=doc.slug,
                path=path,
                kind=clause.kind,
                heading=clause.heading,
                parents=clause.parents,
                text=body,
                start=abs_start,
                end=abs_start + len(body),
                responsible_units=units,
                instructs=carries_instructions(body),
            )
        )
    return out


def _is_prose(line: str) -> bool:
    return len(line) >= 60 and line[-1] in SENTENCE_END


def _head_spans(doc: Document, lines: list[_Line], first: int) -> list[tuple[_Open, int, int]]:
    """The head up to the title line, then the preamble (prose after the title), if any."""
    head_lines = [line for line in lines if line.end <= first]
    if not head_lines:
        return []
    title = doc.meta.title
    split = None
    for i, line in enumerate(head_lines):
        rest = head_lines[i + 1:]
        if title and line.text.strip("《》 ") == title and any(_is_prose(r.text) for r in rest):
            split = rest[0].start
    if split is None and len(head_lines) > 1:
        # No title line to split at: trailing long prose paragraphs are the preamble.
        if _is_prose(head_lines[-1].text):
            split = head_lines[-1].start
    head = _Open("head", HEAD_PATH, title, (), 0, HEAD_PATH)
    if split is None:
        return [(head, 0, first)]
    preamble = _Open("preamble", PREAMBLE_PATH, "", (), split, PREAMBLE_PATH)
    return [(head, 0, split), (preamble, split, first)]
