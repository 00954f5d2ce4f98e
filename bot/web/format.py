"""How answers, hits, clauses and verdicts read in the web UI: pure functions, no Gradio.

Everything taken from the corpus is HTML-escaped before it is wrapped in markup, so a clause
cannot inject tags into the page. The web layer (bot/web/app.py, bot/web/layout.py) only wires these into components.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from bot.ingest.amendments import editor_note, status_line
from bot.ingest.chunking import clause_label
from bot.matching.render import CELL_BREAK, condition_line
from bot.records import Amendment, Answer, Citation, Clause, Hit
from bot.retrieval.search import clause_refs
from bot.text.numerals import NUMERAL_CHARS

NO_BASIS_CLASS = "pb-no-basis"
NO_BASIS_PREFIX = '<span class="pb-label pb-label-no-basis">⚠ 无条款依据</span>'
# the topic's clauses are there, but none states what was asked (相关条款没有规定…)
PARTIAL_PREFIX = '<span class="pb-label pb-label-no-basis">⚠ 条款未规定所问内容</span>'
CITED_CLASS = "pb-answer"
CITED_LABEL = '<span class="pb-label pb-label-cited">✓ 有条款依据</span><br>'
VERDICT_HEADERS = ["政策", "结论", "条件（✓ 满足 ✗ 不满足 ? 待补充）", "支持内容", "依据条款"]
_SOURCES_LINE = "出处："
_MARKS = {"met": "✓", "not_met": "✗", "unknown": "?"}
_STATUS_ICONS = {"eligible": "✔", "needs_info": "？", "not_eligible": "✘"}  # text glyphs: no emoji font needed
_VERDICT_ORDER = {"eligible": 0, "needs_info": 1, "not_eligible": 2}


def esc(text: str) -> str:
    """HTML-escaped corpus text; newlines kept as <br> so clauses keep their paragraphs."""
    return html.escape(text or "", quote=True).replace("\n", "<br>")


_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")


def typed_text(text: str) -> str:
    """What a user typed, for a markdown component to show exactly as typed: no tag, link or
    emphasis of theirs is rendered (HTML-escaped, markdown punctuation backslash-escaped)."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", html.escape(text or "", quote=False))


# ---- answers ----

def _body_lines(answer: Answer) -> list[str]:
    """The answer text without its trailing 出处 block (the footnotes replace it)."""
    lines = answer.text.splitlines()
    if answer.citations and _SOURCES_LINE in lines:
        lines = lines[: len(lines) - 1 - lines[::-1].index(_SOURCES_LINE)]
    return lines


def short_title(title: str) -> str:
    """A document's name as people say it: 中华人民共和国企业所得税法 -> 企业所得税法, 关于推进…的实施方案 -> 实施方案."""
    title = (title or "").removeprefix("中华人民共和国")
    if title.startswith("关于") and "的" in title and len(title) > 16:
        title = title.rsplit("的", 1)[1]
    return title


def clause_name(clause: Clause, doc_title: str) -> str:
    """How a clause is named to people instead of its id: 《企业所得税法实施条例》第九十五条."""
    label = {"head": "文首", "preamble": "序言"}.get(clause.kind) or clause_label(clause)
    return f"《{short_title(doc_title or clause.doc_slug)}》{label}"


def status_html(amendment: Amendment | None) -> str:
    """现行 or 已修订/已废止 with the editor's note, for a clause shown whole."""
    if amendment is None:
        return f'<div class="pb-status pb-in-force"><b>状态：</b>{esc(status_line(None))}</div>'
    return (f'<div class="pb-status pb-amended"><b>状态：</b>{esc(status_line(amendment))}</div>'
            f'<div class="pb-editor-note">{esc(editor_note(amendment))}</div>')


def footnote_html(citation: Citation, clause: Clause | None = None, hit: Hit | None = None) -> str:
    """One numbered source: the citation line, expandable to the whole clause, its status, name and 责任单位.
    The [n] markers of the answer link to it (class pb-fn-n; CHAT_JS opens it)."""
    text = clause.text if clause else citation.quote
    units = clause.responsible_units if clause and clause.responsible_units else citation.responsible_units
    unit_line = f"<br><b>责任单位：</b>{esc('、'.join(units))}" if units else ""
    name = clause_name(clause, citation.doc_title) if clause else citation.path
    amendment = hit.amendment if hit else None
    return (
        f'<details class="pb-footnote pb-fn-{citation.n}" id="pb-fn-{citation.n}"><summary>[{citation.n}] '
        f"{esc(citation.citation)}</summary><b>条款：</b>{esc(name)}{unit_line}{status_html(amendment)}"
        f'<blockquote class="pb-clause">{esc(text)}</blockquote></details>'
    )


def related_html(hits: Sequence[Hit], cite: Callable[[Hit], str]) -> str:
    """The "可能相关" clauses of a no-basis answer, each expandable to its whole text and status."""
    return "".join(
        f'<details class="pb-related"><summary>{esc(cite(h))}</summary>{status_html(h.amendment)}'
        f'<blockquote class="pb-clause">{esc(h.clause.text)}</blockquote></details>' for h in hits
    )


_MARKER = re.compile(r"\[(\d{1,2})\]")


def _linked(body: str, numbers: Iterable[int]) -> str:
    """Escaped answer text with each [n] of a known footnote a link to it."""
    known = {str(n) for n in numbers}
    return _MARKER.sub(lambda m: (f'<a class="pb-cite" href="#pb-fn-{m.group(1)}" data-n="{m.group(1)}">[{m.group(1)}]</a>'
                                  if m.group(1) in known else m.group(0)), body)


def answer_markdown(answer: Answer, clauses: Mapping[str, Clause] | None = None) -> str:
    """Chat markdown: the answer, then numbered footnotes; a no-basis answer gets its own prefix/class.

    `clauses` (clause id -> Clause, e.g. the index's store) lets a footnote show the whole clause;
    without it, the clauses of the answer's hits are used, then the quote itself.
    """
    if answer.intent == "match":
        return match_markdown(answer)
    return _render(answer, _body_lines(answer), clauses)


def match_markdown(answer: Answer) -> str:
    """A guided-matching turn (a question or the verdict table) as chat markdown: the table stays a
    table, and every cell and line is shown as typed, so no rule or reply text becomes markup."""
    out = []
    for line in answer.text.splitlines():
        cells = line.strip().strip("|").split("|") if line.startswith("|") else None
        if cells is None:
            out.append(typed_text(line) + "  " if line else "")
        elif all(set(c.strip()) <= set("-:") for c in cells):
            out.append(line)
        else:
            out.append("| " + " | ".join(CELL_BREAK.join(typed_text(p) for p in c.strip().split(CELL_BREAK))
                                         for c in cells) + " |")
    return "\n".join(out)


def answer_stream(answer: Answer, clauses: Mapping[str, Clause] | None = None) -> list[str]:
    """Successive renderings for a streamed reply: the body line by line (lead line, then each
    quote), then the whole answer with its footnotes; the last one is `answer_markdown`."""
    if answer.intent == "match":
        return [match_markdown(answer)]
    lines = _body_lines(answer)
    partial = [_render(answer, lines[:i], None, footnotes=False) for i in range(1, len(lines))]
    return partial + [answer_markdown(answer, clauses)]


def streaming_markdown(text: str) -> str:
    """Model text as it arrives, escaped, with a cursor; citations come when it is verified."""
    return f'<div class="pb-answer pb-streaming">{esc(text)}▍</div>'


def _render(answer: Answer, lines: Sequence[str], clauses: Mapping[str, Clause] | None, footnotes: bool = True) -> str:
    if answer.abstained:
        prefix = PARTIAL_PREFIX if answer.text.startswith("答：") else NO_BASIS_PREFIX  # a partial answer leads
        return _no_basis(answer, lines, prefix, footnotes)
    body = _linked(esc("\n".join(lines)), (c.n for c in answer.citations) if footnotes else ())
    label = CITED_LABEL if answer.citations else ""
    parts = [f'<div class="{CITED_CLASS}">{label}{body}</div>']
    if answer.citations and footnotes:
        hits = {h.clause.id: h for h in (*answer.hits, *answer.related)}
        known = {cid: h.clause for cid, h in hits.items()}
        if clauses:
            known.update({c.clause_id: clauses[c.clause_id] for c in answer.citations if c.clause_id in clauses})
        parts.append('<div class="pb-footnotes"><b>出处</b>（点击展开条款全文）')
        parts += [footnote_html(c, known.get(c.clause_id), hits.get(c.clause_id)) for c in answer.citations]
        parts.append("</div>")
    return "\n".join(parts)


_RELATED_LINE = re.compile(r"^- (.+)$")


def _no_basis(answer: Answer, lines: Sequence[str], prefix: str, footnotes: bool) -> str:
    """A no-basis answer; its "可能相关" list lines become expandable clauses once the answer is whole."""
    related = list(answer.related) if footnotes else []
    listed = [line for line in lines if _RELATED_LINE.match(line)] if related else []
    if len(listed) != len(related):
        related, listed = [], []
    body = esc("\n".join(line for line in lines if line not in listed))
    cites = dict(zip((h.clause.id for h in related), (_RELATED_LINE.match(line).group(1) for line in listed)))
    more = related_html(related, lambda h: cites[h.clause.id]) if related else ""
    return f'<div class="{NO_BASIS_CLASS}">{prefix}<br>{body}{more}</div>'


def citation_dict(c: Citation) -> dict:
    return {"n": c.n, "clause_id": c.clause_id, "doc_title": c.doc_title, "clause_path": c.path,
            "quote": c.quote, "citation": c.citation, "responsible_units": list(c.responsible_units)}


def answer_dict(answer: Answer) -> dict:
    """What the /ask API returns."""
    return {"question": answer.question, "answer": answer.text, "lead": answer.lead,
            "abstained": answer.abstained,
            "answerer": answer.answerer, "citations": [citation_dict(c) for c in answer.citations]}


# ---- search hits ----

def query_terms(query: str) -> list[str]:
    """The words of a query to highlight, longest first: its jieba words (precise mode: 第二条 whole,
    never 二条) of two or more characters, and the parts of a long compound (研发费用加计扣除 -> 加计,
    扣除) that name no number (not 十二 of 第十二条)."""
    from bot.index.lexical import tokenize, words

    terms: set[str] = set()
    for word in words(query or ""):
        if len(word) < 2 or not re.search(r"[\u4e00-\u9fffA-Za-z0-9]", word):
            continue
        terms.add(word)
        if len(word) >= 4:
            terms.update(t for t in tokenize(word) if len(t) >= 2 and not NUMERAL.search(t))
    return sorted(terms, key=lambda t: (-len(t), t))


NUMERAL = re.compile(rf"[{NUMERAL_CHARS}\d]")


def highlight(text: str, terms: Iterable[str]) -> str:
    """Escaped `text` with every occurrence of a term wrapped in <mark> (longest terms win)."""
    terms = sorted({t for t in terms if t}, key=len, reverse=True)
    if not terms:
        return esc(text)
    pattern = re.compile("|".join(re.escape(t) for t in terms))
    out, last = [], 0
    for m in pattern.finditer(text or ""):
        out += [esc(text[last:m.start()]), f"<mark>{esc(m.group(0))}</mark>"]
        last = m.end()
    out.append(esc((text or "")[last:]))
    return "".join(out)


def present_terms(text: str, terms: Iterable[str]) -> list[str]:
    """The terms to mark in one text: a part of a compound (扣除 of 加计扣除) only where the text
    lacks the whole compound, so 据实扣除 is not marked beside 加计扣除."""
    terms = list(terms)
    return [t for t in terms if not any(t != whole and t in whole and whole in text for whole in terms)]


def lacks(query: str, clause: Clause) -> bool:
    """Whether the clause text misses one of the query's words as typed (a keyword search's note)."""
    return any(word not in clause.text for word in (query or "").split())


def hits_markdown(hits: Sequence[Hit], terms: Iterable[str], citations: Sequence[str], query: str = "") -> str:
    """Numbered results: citation line, status mark, the clause with the query words highlighted, a
    copy button; with `query`, a line before the first result that lacks the query's words saying so
    (they are listed by meaning)."""
    if not hits:
        return '<div class="pb-no-hits">没有找到相关条款，请换个说法或关键词。</div>'
    terms = list(terms)
    blocks = []
    noted = not query.strip() or bool(clause_refs(query))
    for n, (hit, line) in enumerate(zip(hits, citations), 1):
        c = hit.clause
        if not noted and lacks(query, c):
            noted = True
            blocks.append(f'<div class="pb-lacking">以下条款不含“{esc(query.strip())}”，按语义相关列出：</div>')
        status = ('<span class="pb-amended">⚠ 该条款已被后续文件修改</span>'
                  f'<div class="pb-editor-note">{esc(editor_note(hit.amendment))}</div>') if hit.amendment else ""
        units = f"<br><small>责任单位：{esc('、'.join(c.responsible_units))}</small>" if c.responsible_units else ""
        blocks.append(
            f'<div class="pb-hit" data-clause="{esc(c.id)}"><b>{n}. {esc(line)}</b><br>{status}'
            f'<div class="pb-hit-text">{highlight(c.text, present_terms(c.text, terms))}</div>'
            f"<small>条款：{esc(clause_name(c, hit.doc_title))}</small>{units}"
            f'<br><button class="pb-copy-hit" data-cite="{esc(line)}">复制引用</button></div>'
        )
    return "\n<hr>\n".join(blocks)


def hit_dict(hit: Hit, citation: str) -> dict:
    """One hit as the /search API returns it (the CLI's --json fields)."""
    c = hit.clause
    out = {"clause_id": c.id, "doc_title": hit.doc_title, "clause_path": c.path, "heading": c.heading, "text": c.text,
           "score": hit.score, "citation": citation, "responsible_units": list(c.responsible_units),
           "status": hit.amendment.status if hit.amendment else "in_force"}
    if hit.amendment:
        out["editor_note"] = hit.amendment.note
    return out


def hit_choice(n: int, hit: Hit) -> tuple[str, str]:
    """(label, clause id) for the clause picker under the results."""
    return f"{n}. {clause_name(hit.clause, hit.doc_title)}", hit.clause.id


# ---- one clause ----

def clause_markdown(view: Any) -> str:
    """A ClauseView (bot.service) whole: citation, status, editor's note, 责任单位, text."""
    c = view.clause
    parts = [f'<h4 class="pb-clause-view" data-clause="{esc(c.id)}">{esc(view.citation)}</h4>',
             f"<b>条款：</b>{esc(clause_name(c, view.doc_title))}",
             f"<br><b>状态：</b>{esc(view.status)}"]
    if view.editor_note:
        parts.append(f'<div class="pb-editor-note">{esc(view.editor_note)}</div>')
    if c.responsible_units:
        parts.append(f"<br><b>责任单位：</b>{esc('、'.join(c.responsible_units))}")
    parts.append(f'<blockquote class="pb-clause">{esc(c.text)}</blockquote>')
    return "".join(parts)


# ---- verdicts ----

def sort_verdicts(verdicts: Iterable[Any]) -> list:
    return sorted(verdicts, key=lambda v: _VERDICT_ORDER.get(v.status, 3))


def condition_summary(verdict: Any) -> str:
    """✓ / ✗ / ? per condition, one a line, with the clause's own wording."""
    return "\n".join(condition_line(c) for c in verdict.conditions) or "（无附加条件）"


def verdict_row(verdict: Any, cite: Callable[[str], str] = str) -> list[str]:
    benefit = verdict.benefit
    if verdict.current_benefit:
        benefit += f"\n【编者注】现行标准：{verdict.current_benefit}"
    conditions = condition_summary(verdict)
    if verdict.missing:
        conditions += "\n还需了解：" + "；".join(verdict.missing.values())
    return [verdict.name, f"{_STATUS_ICONS.get(verdict.status, '')} {verdict.status_label}", conditions,
            benefit, "\n".join(cite(c) for c in verdict.citations)]


def verdict_rows(verdicts: Iterable[Any], cite: Callable[[str], str] = str) -> list[list[str]]:
    """Table rows (VERDICT_HEADERS), eligible first, then needs-info, then not eligible."""
    return [verdict_row(v, cite) for v in sort_verdicts(verdicts)]


def verdict_dict(verdict: Any, cite: Callable[[str], str] = str) -> dict:
    """What the /match API returns per rule (the CLI's --json fields)."""
    row = asdict(verdict)
    return {**row, "status_label": verdict.status_label, "citation_lines": [cite(c) for c in verdict.citations]}


def match_summary(verdicts: Sequence[Any]) -> str:
    counts = {s: sum(1 for v in verdicts if v.status == s) for s in _VERDICT_ORDER}
    return (f"共 {len(verdicts)} 项政策：符合条件 {counts['eligible']} 项，需补充信息 {counts['needs_info']} 项，"
            f"不符合条件 {counts['not_eligible']} 项。")


# ---- clause lookup filters ----

def section_key(section: str) -> str:
    """A section as typed (四、 / （八） / 第二章) in the form clause paths use (四 / (八) / 第二章)."""
    return (section or "").strip().replace("（", "(").replace("）", ")").strip("、.． ")


def in_section(clause: Clause, section: str) -> bool:
    """Whether `clause` lies in `section` (a path part or a parent heading); an empty section holds all."""
    key = section_key(section)
    if not key or key in clause.path.split(".") or clause.path.startswith(key + "."):
        return True
    return any(parent == key or parent.split(maxsplit=1)[0] == key for parent in clause.parents if parent.strip())


# ---- document admin ----

def upload_summary(results: Sequence[tuple[str, bool, str]], report: str = "") -> str:
    """One line per uploaded file (✓ indexed with its clause count / ✗ refused with why), then the ingest report."""
    lines = [f"- {'✓' if ok else '✗'} **{esc(name)}**：{esc(detail)}" for name, ok, detail in results]
    if report:
        lines += ["", "<pre class='pb-ingest-report'>" + html.escape(report) + "</pre>"]
    return "\n".join(lines)
