"""The evidence for an answer: a span of the asked type, about the question's focus, in one of the top
few clauses (not only the first); and the lead that states it.

A span is a sentence of a clause (with the list it opens, when it ends in a colon). It answers when it
holds the type's evidence (a rate for a rate question, a date for a deadline question…); among those,
the one that shares the most of the question's focus (weighted by rarity), in the closest clause, and
whose thresholds the asker's facts meet (the tier they are in), wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable, Collection, Mapping, Sequence

from bot.answering.conditions import check_conditions
from bot.answering.types import AnswerType, language
from bot.index.lexical import tokenize
from bot.ingest.chunking import sentences
from bot.records import Hit
from bot.text.numerals import NUMERAL_CHARS, parse_number

CANDIDATES = 5  # how many of the top hits are read for a span
CLOSE = 0.5  # a hit scoring this share of the top one may hold the span
MIN_FOCUS = 0.34  # a span's clause holding this share of the question's focus is about it
NEAR_TOP = 0.8  # and so is one scoring this share of the top hit
UNITS = 3.0  # a plan clause naming its 责任单位 counts as holding this much of a department question's focus
ALSO_ASKED = 0.25  # a further figure's phrase holding this share of the asked words not yet stated joins the lead
REPEATED = 0.3  # a part leading with what an earlier part states loses this much: each part its own span
LIST_CHARS = 160  # a list longer than this is led by its opening and "（共N项，见条款原文）"

_ITEM = re.compile(rf"(?:\d+[.．、]|[（(][{NUMERAL_CHARS}\d]+[)）]|[{NUMERAL_CHARS}]+、)")
# "…如下：\n（一）…": the opening ends at its colon; the plan's sentences also end at an ASCII ";".
_OPENS = re.compile(r"(?<=[：:])\s*\n|(?<=;)")
_HEADING = re.compile(rf"^第[{NUMERAL_CHARS}\d]+条\s*")
_DEFINED = re.compile(r"所称的?((?:(?!所称)[^，,。；;：:\s])+?)\s*[，,]?\s*是指")  # …所称X，是指
DEFINED_CHARS = 16  # a defined term longer than this is a rule's wording, not a name


@dataclass(frozen=True)
class Span:
    hit: Hit
    text: str  # an exact substring of the clause: the sentence, with its list when it opens one
    evidence: str  # what of the type the span states (15％, 5月底前…)
    items: int  # list items that follow the opening sentence
    score: float
    focus: float  # share of the question's focus the span's clause holds
    opening: str = ""  # for an item of a list: the sentence that opens the list (下列支出不得扣除：)
    at: int = -1  # where in `text` the evidence stands (a figure may stand twice: 国家级…5个,省级…5个)


@lru_cache(maxsize=8192)
def words(text: str) -> frozenset[str]:
    """A sentence's tokens, with the four-character-or-longer words inside a longer one (技术转让 in
    技术转让所得: the tokenizer splits the long word into two-character pieces only, so a question's
    技术转让 would not be found in it). Cached: the same sentences come back question after question."""
    tokens = tokenize(text)
    inner = {t[i: i + n] for t in tokens if len(t) > 4 for n in range(4, len(t)) for i in range(len(t) - n + 1)}
    return frozenset(tokens) | inner


def _style(item: str) -> str:
    """An item's numbering style: 1. / （一） / 一、 / (1)."""
    m = _ITEM.match(item)
    return re.sub(rf"[{NUMERAL_CHARS}]+", "一", re.sub(r"\d+", "1", m.group(0))) if m else ""


def _ordinal(item: str) -> int | None:
    """An item's number: （二） -> 2, 3. -> 3."""
    m = _ITEM.match(item)
    value = parse_number(re.sub(r"[^\d" + NUMERAL_CHARS + "]", "", m.group(0))) if m else None
    return int(value) if value is not None else None


def pieces(text: str) -> list[str]:
    """A clause's sentences, a list's opening cut from its first item."""
    return [p.strip() for s in (sentences(text) or [text]) for p in _OPENS.split(s) if p.strip()]


def units(text: str) -> list[tuple[str, int, str]]:
    """The clause's sentences as spans (text, items, opening): a sentence opening a list (ending in a
    colon) carries its items; an item carries the sentence that opened its list."""
    return list(_units(text))


@lru_cache(maxsize=4096)
def _units(text: str) -> tuple[tuple[str, int, str], ...]:
    """Cached: the same clauses are read question after question."""
    parts = pieces(text)
    out = []
    opening = ""
    for i, part in enumerate(parts):
        n = 0
        count = 0
        if part.rstrip().endswith(("：", ":")) and i + 1 < len(parts) and _ITEM.match(parts[i + 1]):
            # Items of the first item's numbering style, with the sub-items an item opens with a colon
            # ((五)…如下：1. 2. 3.); another style after a plain item ends the list (9. …；（二）专家评审).
            style, nested = _style(parts[i + 1]), False
            while i + n + 1 < len(parts):
                item = parts[i + n + 1]
                if not _ITEM.match(item):  # an item's own further sentences (其中，…) when the list goes on
                    ahead = parts[i + n + 2: i + n + 4]
                    following = next((j for j in range(i + n + 2, len(parts)) if _style(parts[j]) == style
                                      and _ordinal(parts[j]) == count + 1), None)
                    if following is not None:  # or its paragraphs, up to the item numbered next ((一)企业申请
                        n = following - i - 1  # 企业对照本办法…申请时提交下列材料：1. … (二)专家评审)
                        continue
                    if not any(_ITEM.match(a) and _style(a) == style for a in ahead):
                        break
                    n += 1
                    continue
                if _style(item) == style:
                    count += 1
                    nested = item.rstrip().endswith(("：", ":"))
                elif not nested:
                    break
                n += 1
        if n:
            start = text.index(part)
            last = parts[i + n]
            out.append((text[start: text.index(last, start) + len(last)], count, ""))
            opening = part
        elif not _ITEM.match(part):
            opening = ""
        if not n:  # an opening is read with its list, never alone ("下列支出不得扣除：")
            out.append((part, 0, opening if _ITEM.match(part) else ""))
    return tuple(out)


def share(focus: Mapping[str, float], tokens: frozenset[str]) -> float:
    total = sum(focus.values())
    return sum(w for t, w in focus.items() if t in tokens) / total if total else 0.0


def find_span(
    kind: AnswerType, focus: Mapping[str, float], facts: Mapping, hits: Sequence[Hit],
    pinned: bool = False, defining: Callable[[str], bool] | None = None,
    asked: Mapping[str, float] | None = None, taken: Collection[tuple] = (), asking: Mapping[str, float] | None = None,
) -> Span | None:
    """The best span of `kind` about `focus` in the top hits; None when none holds the type's evidence.
    Its score is the one it won by.

    `focus`: the question's words with their weights (rarity times how much each counts); `pinned`:
    the question names its clause, so only the first hit is read; `defining`: whether a span defines the
    term the question asks about (its meaning, or whether something counts as it), which then answers
    it before a span that only uses the term. The asker's facts pick a tier: in a
    clause where a span's thresholds are met by them, a span whose thresholds they fail is another
    tier's; a yes/no question is answered by the span its facts are held against, met or not. Only
    the tiers of the list the question's asking part (`asking`: its words) is about are picked so: the
    revenue an asker gives picks the R&D-share tier, not when they ask the staff share.
    For a part of a multi-part question: `asked`, the part's own words, picks which of a span's
    figures it asks for (focus holds the whole question's too); `taken`, the spans (`stated`) earlier
    parts lead with, which this part repeats only when nothing else comes close."""
    if not hits:
        return None
    # A document's head holds its title only: closeness is measured from the best clause that says something.
    ranked = [h for h in hits[:CANDIDATES] if not h.clause.path.endswith("文首")] or list(hits[:CANDIDATES])
    top = ranked[0].score or 1.0
    close = CLOSE if kind.absent else NEAR_TOP  # a type others may answer: only a nearly as close clause

    # A department question whose closest clause names no 责任单位 (a law's): a plan clause naming them is
    # evidence when half as close.
    wide = kind.lead == "units" and not ranked[0].clause.responsible_units

    def near(h: Hit) -> bool:
        return h.score >= (CLOSE if wide and h.clause.responsible_units else close) * top

    pool = [hits[0]] if pinned else [h for h in ranked if near(h) and not h.clause.instructs]
    found: list[tuple[Span, set[str]]] = []
    for rank, hit in enumerate(pool):
        in_clause = share(focus, words(hit.clause.text))
        if kind.lead == "units" and hit.clause.responsible_units:
            in_clause += UNITS  # a department question is answered by the plan's 责任单位
        for at, (text, items, opening) in enumerate(units(hit.clause.text)):
            body = heads(text) if items else text  # a list says what its opening and items say
            evidence = kind.answers(body)
            if not evidence and kind.absent:
                continue  # only a span holding what is asked may answer
            bonus = 0.3 if evidence and kind.evidence is not None else 0.0  # otherwise it is preferred
            bonus += 0.5 if defining is not None and defining(text) else 0.0
            own = share(focus, words(body))
            if asked:  # a part's span is about the part's own words first
                own = (own + share(asked, words(text))) / 2
            if opening:  # an item is about what its list's opening says, too
                own = max(own, 0.5 * share(focus, words(opening)))
            if kind.lead != "list":
                own /= 1 + len(body) / 400  # a short sentence saying it beats a long list that holds it
            if own == 0 and kind.absent and len(pool) > 1:
                continue  # a figure in a sentence sharing no asked word answers nothing
            if items:  # the whole list answers a list question; one item of it answers any other
                bonus += 0.3 if kind.lead == "list" else -0.3 if facts else 0.0  # facts pick one item
                if words(body.split("\n")[0]) & set(kind.cues):  # its opening names what is asked: 认定程序如下：
                    bonus += 0.3
            score = own + 0.25 * in_clause + hit.score / top - 0.02 * rank - 0.004 * at + bonus
            checks = check_conditions(text, facts) if facts else []
            statuses = {c.status for c in checks}
            # A tier's band: the bounds on the first fact it names (5,000万元至2亿元: both must hold).
            first = next((c.fact for c in checks if c.status != "unknown"), "")
            band = first and ("met" if all(c.status == "met" for c in checks if c.fact == first) else "not_met")
            statuses |= {f"band_{band}"} if band else set()
            said, beside, where = best_evidence(kind, text, focus) if evidence else ("", 0.0, -1)
            if band and asking is not None and kind.lead != "judgement":  # a tier restates the asker's facts (营收…): it is about what is
                # asked only as far as its list is (科技人员占多少 is not asked of the R&D-share tiers)
                score += share(asking, words(f"{opening}{text}")) / (1 + len(text) / 400) - own
                beside = best_evidence(kind, text, asking)[1] if evidence else 0.0
            for words_asked in (asked, asking) if evidence else ():  # the figure beside what the part asks
                if words_asked and best_evidence(kind, text, words_asked)[1] > 0:
                    said, _, where = best_evidence(kind, text, words_asked)
            found.append((Span(hit, text, said, items, score + 0.5 * beside, max(in_clause, own), opening, where),
                          statuses))
    if not found:
        return None
    tiered = {s.hit.clause.id for s, statuses in found if "band_met" in statuses}
    first_met: dict[str, int] = {}  # where in its clause the first band the asker's facts meet stands
    for s, statuses in found:
        if "band_met" in statuses:
            at = s.hit.clause.text.find(s.text)
            first_met[s.hit.clause.id] = min(first_met.get(s.hit.clause.id, at), at)

    def adjusted(span: Span, statuses: set[str]) -> float:
        score = span.score - (REPEATED if any(repeats(span, t) for t in taken) else 0.0)
        if kind.lead == "judgement" and statuses & {"met", "not_met"}:
            score += 0.6  # a yes/no question is answered by the bounds its facts are held against
        if "band_not_met" in statuses and span.hit.clause.id in tiered:
            return score - 0.8  # another tier than the asker's (its first bound they fail)
        if "band_met" in statuses and span.hit.clause.text.find(span.text) > first_met[span.hit.clause.id]:
            # A figure on the end two bands share belongs to the first (2亿元 to 5,000万元至2亿元（含）, not
            # to the next band's 2亿元以上): bands are written in order, the shared end said once inclusive.
            return score - 0.8
        about = span.focus if asking is None else share(asking, words(f"{span.opening}{span.text}"))
        tier = 0.8 * min(1.0, 2 * about)  # the asker's tier of a list, as far as the list is what was asked
        if kind.lead == "judgement":
            return score  # a yes/no question's facts are held against every bound above, not just a band
        return score + (tier if "band_met" in statuses and span.opening else 0.0)

    best = max(found, key=lambda f: adjusted(*f))
    return replace(best[0], score=adjusted(*best))


def stated(span: Span) -> tuple[str, str, int]:
    """What a span's lead states: its sentence, and which of its figures (-1: the sentence)."""
    return span.hit.clause.id, span.text, span.at


def repeats(span: Span, earlier: tuple[str, str, int]) -> bool:
    """Whether leading with `span` says again what `earlier` said: the same sentence, unless each
    states another figure of it (国家级…5个,省级…5个)."""
    clause, text, at = earlier
    other = at >= 0 and span.at >= 0 and at != span.at and not span.items  # a list is led whole
    return (span.hit.clause.id, span.text) == (clause, text) and not other


def best_evidence(kind: AnswerType, text: str, focus: Mapping[str, float],
                  question: str = "") -> tuple[str, float, int]:
    """Of the type's evidence in `text`, the one in the comma-phrase sharing most of the focus
    ("…研发经费支出…1.8%,技术合同成交额达到60亿元": the 成交额 question's figure is 60亿元), that share,
    and where it stands: what is asked stands next to its figure. Given the `question`, a phrase negating
    a word it states plainly is about the other case (未形成无形资产的… when the asker formed one): that word
    counts against it."""
    if kind.evidence is None:
        return text[:1], 0.0, -1
    best, best_share, at = "", -1.0, -1
    for m, phrase in evidence_phrases(kind, text):
        shared = share(focus, words(phrase))
        if question:
            shared -= 2 * share({t: w for t, w in focus.items() if negates(phrase, t)
                                 and not negates(question, t)}, frozenset(focus))
        if shared > best_share:
            best, best_share, at = m.group(0), shared, m.start()
    return best, max(best_share, 0.0), at


def evidence_phrases(kind: AnswerType, text: str) -> list[tuple[re.Match, str]]:
    """Each piece of the type's evidence in `text` with the comma-phrase it stands in."""
    return list(_evidence_phrases(kind, text))


@lru_cache(maxsize=8192)
def _evidence_phrases(kind: AnswerType, text: str) -> tuple[tuple[re.Match, str], ...]:
    """Cached: the same clause sentences are read for the same types question after question."""
    out = []
    for m in kind.evidence.finditer(text) if kind.evidence is not None else ():
        lo = max(text.rfind(c, 0, m.start()) for c in "，,；;：:")
        hi = min([i for i in (text.find(c, m.end()) for c in "，,；;。") if i >= 0] or [len(text)])
        out.append((m, text[lo + 1: hi]))
    return tuple(out)


def also_asked(kind: AnswerType, span: Span, stated: str, focus: Mapping[str, float]) -> list[str]:
    """Further phrases of the span holding the type's evidence about asked words the lead does not
    state yet: a question naming two things ("新型研发机构和技术创新中心的目标各是多少") gets both figures."""
    total = sum(focus.values())
    out: list[str] = []
    for _, phrase in evidence_phrases(kind, span.text):
        said = words(stated + "".join(out))
        new = sum(w for t, w in focus.items() if t not in said and t in words(phrase))
        if phrase not in stated and total and new / total >= ALSO_ASKED:
            out.append(plain(phrase))
    return out


def negates(text: str, word: str) -> bool:
    """Whether `text` says 未/不/非/没有 right before `word` (未形成, 不征税)."""
    return len(word) > 1 and re.search(f"(?:未|不|非|没有){re.escape(word)}", text) is not None


def about_focus(span: Span, top: Hit, focus: Mapping[str, float], kind: AnswerType | None = None) -> bool:
    """Whether the span is about what was asked: its clause is about as close to the question as the
    closest one, or holds a good share of the question's focus. A list (materials, steps) must hold
    the focus itself: every procedure's materials list is close to every materials question."""
    if kind is not None and kind.lead == "list":
        return share(focus, words(span.text)) >= MIN_FOCUS
    return span.hit.score >= NEAR_TOP * top.score or span.focus >= MIN_FOCUS


# ---- the lead ----

def with_opening(span: Span, stated: str) -> str:
    """An item's lead under the sentence that opens its list (下列支出不得扣除：……（三）税收滞纳金):
    the item alone does not say what the list is of."""
    if not span.opening:
        return stated
    return f"{shorten(after_definition(span.opening), 80)}：……{stated}"


def after_definition(text: str) -> str:
    """A defining sentence from the term it defines on (企业所得税法第九条所称公益性捐赠，是指… -> 公益性捐赠，
    是指…): the reference to the law says nothing, the term says what is defined. A long term (…所称技术
    转让所得免征、减征，是指 一个纳税年度内…) is left out: what follows 是指 says it, when enough follows."""
    m = re.search(r"是指[：:，,]?", text)
    if not m or len(text) - m.end() < 15:
        return text
    named = from_term(text)
    return named if named != text else text[m.end():]


def from_term(text: str) -> str:
    """A defining text from the term it defines on (企业所得税法第二十六条第（四）项所称符合条件的非营利组织，
    是指… -> 符合条件的非营利组织，是指…), when the term is a name; else the text."""
    term = _DEFINED.search(text)
    return text[term.start(1):] if term and term.end(1) - term.start(1) <= DEFINED_CHARS else text


def plain(text: str) -> str:
    """A span as a lead states it: no article heading, no trailing stop."""
    return _HEADING.sub("", text.strip()).rstrip("。；;，,：: ")


def phrase_with(sentence: str, figure: str, min_chars: int = 24, at: int = -1) -> str:
    """The comma-delimited phrase of `sentence` holding `figure` (the one standing at `at`, when
    given), widened to a readable length."""
    text = plain(sentence)
    at -= sentence.find(text) if at >= 0 and text else 0
    pieces = re.split(r"(?<=[，,；;：:])", text)
    start = 0
    for i, piece in enumerate(pieces):
        start += len(piece)
        if figure in piece and (at < 0 or start > at):
            lo = hi = i
            phrase = piece
            while len(phrase) < min_chars and (lo > 0 or hi < len(pieces) - 1):
                if lo > 0:
                    lo -= 1
                elif hi < len(pieces) - 1:
                    hi += 1
                phrase = "".join(pieces[lo: hi + 1])
            while hi < len(pieces) - 1 and language()["limits"].match(pieces[hi + 1]):  # …60%扣除，但最高不得超过…5‰
                hi += 1
                phrase = "".join(pieces[lo: hi + 1])
            return phrase.strip("，,；;：: ")
    return plain(sentence)



def list_lead(span: Span, focus: Mapping[str, float], in_order: bool = False, whole: bool = False) -> str:
    """A list whole when short or when the asker asked for all of it (`whole`); else its opening, the
    items that share the question's focus (`in_order`: in the list's order; else the item holding the asked
    figure first), the others while they fit, and how many items there are in all (共N项)."""
    text = from_term(span.text)  # a defining list from the term it defines (…所称X，是指同时符合下列条件的…)
    if not span.items or whole or len(text) <= LIST_CHARS:
        return plain(text).replace("\n", "")
    opening, *parts = pieces(text)
    groups = _with_sub_items(parts)
    items = [full for _, full in groups]
    said = words(opening)  # items holding an asked word the opening does not are named first
    asked = {t: w for t, w in focus.items() if t not in said}
    shared = [i for i in items if asked and share(asked, words(i)) >= 0.5]
    if not in_order:  # the item holding the asked figure first (in one of its sub-items, too)
        starts = [span.text.find(head) for head, _ in groups] + [len(span.text)]
        held = [full for n, (_, full) in enumerate(groups) if 0 <= starts[n] <= span.at < starts[n + 1]]
        shared = held + [i for i in shared if i not in held]
        if len(shared) == 1 and len(groups) < len(parts):  # one step of a procedure asked ((二)专家评审): its paragraphs
            return shorten(f"{plain(opening)}：……{shared[0]}", 2 * LIST_CHARS)
    head_of = {full: plain(head) for head, full in groups}
    named: list[str] = []
    for item in shared + [i for i in items if i not in shared]:  # then the others in order, while they fit
        if sum(map(len, named)) + len(item) > LIST_CHARS and (named or item not in shared):
            item = head_of[item]  # without its paragraphs ((一)企业申请 …), if that fits
            if sum(map(len, named)) + len(item) > LIST_CHARS:
                break  # an item the question is about is named even when long: its sub-items hold the answer
        named.append(item)
    if named == items:  # every item with all it says: the list as written
        return plain(text).replace("\n", "")
    if in_order:  # a list asked for: the items named in the list's order, those asked about among them
        named = [n for i in items for n in dict.fromkeys((i, head_of[i])) if n in named]
    if len(named) == len(items):  # every item, some without their paragraphs
        return f"{plain(opening)}：{'；'.join(named)}"
    return f"{plain(opening)}：{'；'.join(named)}{'；' if named else ''}……（共{span.items}项，见条款原文）"


def _with_sub_items(parts: list[str]) -> list[tuple[str, str]]:
    """A list's own items, each as (the item as written, the item with the sub-items it opens and its
    further sentences): "（五）…比例符合如下要求：1. …不低于5%；2. …不低于4%；3. …不低于3%。其中，…". An
    item that opens a list says what it requires in its sub-items, so they are named with it or not at all."""
    items: list[tuple[str, str]] = []
    style = _style(parts[0]) if parts else ""
    for piece in parts:
        if items and (not _ITEM.match(piece) or _style(piece) != style):
            head, full = items[-1]
            items[-1] = (head, full + ("" if full.endswith(("：", ":")) else "；") + plain(piece))
        else:
            items.append((piece, plain(piece) + ("：" if piece.rstrip().endswith(("：", ":")) else "")))
    return items


def heads(text: str) -> str:
    """A list span's opening and own items, without the paragraphs and sub-items they have: what the
    list says it is of."""
    opening, *parts = pieces(text)
    return "\n".join([opening, *list_items(parts)])


def list_items(parts: Sequence[str]) -> list[str]:
    """Of the parts after a list's opening, the list's own items: not the paragraphs or sub-items an
    item has ((一)企业申请 / 企业对照本办法… / 1. 申请书…)."""
    return [p for p in parts if _ITEM.match(p) and _style(p) == _style(parts[0])] if parts else []


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a pause, with "……" when cut."""
    text = plain(text)
    if len(text) <= limit:
        return text
    cut = max(text.rfind(mark, 0, limit) for mark in "；;，,")
    return text[: cut if cut > 0 else limit].rstrip("，,；;：:、") + "……"


def definition_lead(span: Span) -> str:
    """What the defining sentence says the term is: from the term it defines (…所称X，是指) or from
    是指 / 包括 on, else the sentence."""
    named = from_term(span.text)
    if named != span.text:
        return shorten(named, 140)
    m = re.search(r"(所称)?(.{0,40}?)(是指|包括)", span.text)
    return shorten(span.text[m.start():] if m else span.text, 140)

