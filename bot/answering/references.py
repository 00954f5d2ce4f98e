"""A law's list item and the regulation's definition of it, read together for a lead.

An implementing regulation defines a law's list items by reference ("企业所得税法第二十六条第（一）项所称
国债利息收入，是指…"). Neither half answers alone: the definition does not say what the law does with the
item (its list's head says it: 下列收入为免税收入), and the law's item does not say what it covers (the
regulation does: 不包括…不足12个月…). A lead on either half states both, when both are among the hits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from bot.answering.spans import Span, plain, share, shorten, units, words
from bot.answering.types import language
from bot.records import Hit
from bot.text.numerals import NUMERAL_CHARS

# "企业所得税法第二十六条第（二）项和第（三）项所称…", "企业所得税法第二十七条第（一）项规定的…": the law,
# its article and the items the sentence speaks of.
_REFERENCE = re.compile(
    rf"([\u4e00-\u9fff]{{2,12}}法)(第[{NUMERAL_CHARS}]+条)((?:[和、]?第[（(][{NUMERAL_CHARS}]+[）)]项)+)(?:所称|规定的)"
)
_ITEM = re.compile(rf"[（(]([{NUMERAL_CHARS}]+)[）)]")


@dataclass(frozen=True)
class Pairing:
    law: Hit  # the law's article holding the list
    opening: str  # the list's head (企业的下列收入为免税收入：)
    item: str  # the item the definition is of (（一）国债利息收入；)
    regulation: Hit  # the clause defining it
    defines: str  # the defining sentence (or list), from the defined term on

    def other(self, hit: Hit) -> Hit:
        return self.regulation if hit.clause.id == self.law.clause.id else self.law


def _article(hit: Hit) -> tuple[str, str]:
    """A law article's name as other texts cite it: (企业所得税法, 第二十六条)."""
    return hit.doc_title.removeprefix("中华人民共和国"), hit.clause.path.rsplit(".", 1)[-1]


def _references(text: str) -> list[tuple[str, str, tuple[str, ...], int]]:
    """(law, article, item numbers, where the defined term starts) of each reference in `text`."""
    return [(m.group(1), m.group(2), tuple(_ITEM.findall(m.group(3))), m.end()) for m in _REFERENCE.finditer(text)]


def _items(law: Hit) -> dict[str, tuple[str, str]]:
    """The law article's list items by number: 一 -> (（一）国债利息收入；, 企业的下列收入为免税收入：)."""
    out = {}
    for text, _, opening in units(law.clause.text):
        m = _ITEM.match(text)
        if opening and m:
            out.setdefault(m.group(1), (text, opening))
    return out


def _definitions(regulation: Hit, name: str, article: str) -> list[tuple[str, tuple[str, ...], str]]:
    """The regulation's spans (a sentence, or a list it opens) defining items of that law article: from
    the defined term on (with the sentence carrying its rule on), the items each is of, and the span."""
    out = []
    spans = [text for text, _, opening in units(regulation.clause.text) if not opening]  # a list is read whole
    for at, text in enumerate(spans):
        for law, art, numbers, start in _references(text):
            if (law, art) == (name, article) and numbers:
                carried = next((t for t in spans[at + 1: at + 2] if language()["carries_on"].match(t)), "")
                out.append((text[start:].strip().rstrip("。") + carried, numbers, text))  # …；超过500万元的部分，减半…
    return out


def paired(span: Span, pool: Sequence[Hit], focus: Mapping[str, float]) -> Pairing | None:
    """The law item and the regulation's definition of it that the span is one half of, both in `pool`
    (the other half among the close hits); None when the span is neither half or the other is not there."""
    others = [h for h in pool if h.clause.id != span.hit.clause.id]
    for law in others:  # the span defines a law's item
        name, article = _article(law)
        # the span holds the whole definition: an item of a defining list (3.中药材的种植) is its own answer
        found = [(d, n) for d, n, text in _definitions(span.hit, name, article) if text in span.text]
        items = _items(law) if found else {}
        for defines, numbers in found:
            held = [items[n] for n in numbers if n in items]  # of several (第（二）项和第（三）项): the one asked
            if held:
                item, opening = max(held, key=lambda i: (share(focus, words(i[0])), -held.index(i)))
                return Pairing(law, opening, item, span.hit, defines)
    name, article = _article(span.hit)
    items = _items(span.hit)
    if not items:
        return None
    asked = {n: item for n, item in items.items() if item[0] in span.text}  # the span's own items
    for regulation in others:  # the span is a law's item (or its list) that a regulation defines
        found = [(d, n) for d, n, _ in _definitions(regulation, name, article) if set(n) & asked.keys()]
        if not found:
            continue
        # the item the question is about (of a whole list: the one sharing most of the question), then
        # the definition of it sharing most (不包括…股票不足12个月 for a question about shares)
        number = max(asked, key=lambda n: (share(focus, words(asked[n][0])), -list(asked).index(n)))
        if len(asked) > 1 and not share(focus, words(asked[number][0])):
            return None  # a whole list none of whose items the question names
        of_it = [d for d, n in found if number in n]
        if of_it:
            defines = max(of_it, key=lambda d: (share(focus, words(d)), -of_it.index(d)))
            return Pairing(span.hit, items[number][1], items[number][0], regulation, defines)
    return None


def pairing_lead(pairing: Pairing, number: Mapping[str, int], limit: int = 160) -> str:
    """The law's list head and item, then what the regulation says the item is: "依据[2][1]，企业的下列收入
    为免税收入：……（一）国债利息收入；国债利息收入，是指…"."""
    marks = "".join(f"[{n}]" for n in sorted(number[h.clause.id] for h in (pairing.law, pairing.regulation)))
    defines = shorten(pairing.defines.replace("\n", ""), limit)
    return f"依据{marks}，{shorten(pairing.opening, 80)}：……{plain(pairing.item)}；{defines}。"
