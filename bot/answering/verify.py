"""Checks a generated answer against the clauses it cites. Pure functions, no model, no index.

`find_problems` returns one Chinese line per problem (empty list = passed):

- every [n] names an existing citation, and there is at least one unless the text is NO_BASIS;
- every number (Arabic, decimal, percentage, 万/亿 amount, Chinese-numeral quantity with a unit,
  article reference 第…条) equals a number in a clause that the sentence cites (a sentence without
  [n]: any cited clause), compared by value: 1000万元 = 一千万元 = 1,000万元, 50% = 百分之五十;
- every department or organisation name occurs verbatim (whitespace ignored) in such a clause;
- no cited clause carries instructions to the model (a planted "忽略之前的指令…", flagged when the
  clause was made: bot.text.injection): such text is data, never a basis, even for figures it contains.

False-positive traps it guards against (each has a test):
- the [n] / [1,2] / 【1】 markers themselves; list numbering at a line start (1. / （2） / 三、);
- titles in 《》 (years and issuers in a document title); years and 文号 in the citation line and
  numbers in a clause's path, accepted when written bare or with 年/号 (〔2016〕32号, 2021年);
- article references compared as references: 第九十五条 in an answer citing that article, 第95条;
- Chinese numerals that are not quantities: 十四五, 一二三四, 千亿级, 第一, 一事一议, 一次性, 统一日程, and
  一 with a counting word (一家企业, 一个团队); 三年 = 3年, 五个月 = 5个月, 二〇二五年 = 2025年;
- full-width digits and ％, thousands separators (5,000万元), a space before 万元 (500 万元/亩);
- words that end like an office but are not one: 布局, 全部, 东部, 有关部门, 部署, 办理, 创办, 委托.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bot.records import Citation
from bot.answering.prompts import (
    NO_BASIS,
    PROBLEM_EMPTY,
    PROBLEM_INSTRUCTION,
    PROBLEM_NO_CITATION,
    PROBLEM_NUMBER,
    PROBLEM_ORG,
    PROBLEM_UNKNOWN_CITATION,
)
from bot.text.numerals import NUMERAL_CHARS, numbers
from bot.text.width import fold

# ---------------------------------------------------------------- [n] markers

_CITE_NUMBERS = r"\d{1,2}(?:\s*[-–~～,，、]\s*\d{1,2})*"  # 1-2 digits: [2008] is a year, not a marker
_CITE = re.compile(rf"[\[［【]\s*({_CITE_NUMBERS})\s*[\]］】]")
_SENTENCE = re.compile(rf"[^。；！？!?;\n]*(?:[。；！？!?;]+|\n|$)(?:[ \t]*[\[［【]\s*{_CITE_NUMBERS}\s*[\]］】])*")
_ENUMERATOR = re.compile(
    rf"^[ \t]*(?:[-*•·]|#+|\d{{1,2}}[.、)）](?!\d)|[（(]\d{{1,2}}[)）]|[{NUMERAL_CHARS}]{{1,3}}、|[（(][{NUMERAL_CHARS}]{{1,3}}[)）])[ \t]*",
    re.MULTILINE,
)
_TITLE = re.compile(r"《[^《》\n]*》")


def _refs_in(group: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*[,，、]\s*", group.strip()):
        bounds = re.split(r"\s*[-–~～]\s*", part)
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit() and 0 < int(bounds[1]) - int(bounds[0]) < 20:
            out.extend(range(int(bounds[0]), int(bounds[1]) + 1))
        else:
            out.extend(int(b) for b in bounds if b.isdigit())
    return out


def citation_refs(text: str) -> list[int]:
    """The citation numbers used in `text`, in order of first use: [1]、[2,3]、[4-5]、【6】."""
    seen: dict[int, None] = {}
    for m in _CITE.finditer(fold(text)):
        seen.update((n, None) for n in _refs_in(m.group(1)))
    return list(seen)


def strip_citations(text: str) -> str:
    return _CITE.sub("", fold(text))


def cited_sentences(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """The answer's sentences, each with the [n] it carries; a marker right after 。 belongs to
    the sentence it follows (…支持。[1])."""
    out = []
    for m in _SENTENCE.finditer(text):
        sentence = m.group(0).strip()
        if sentence:
            out.append((sentence, tuple(citation_refs(sentence))))
    return out


def is_no_basis(text: str) -> bool:
    core = re.sub(r"[\s。.！!]+$", "", text.strip())
    return core == NO_BASIS.rstrip("。")


# ---------------------------------------------------------------- departments and organisations

_STOP = r"\s，。；：、,.;:!?！？（）()《》“”\"'「」【】\[\]的向到由对与及和或等在从于为将按给把被是可应须并且内里类"
_STOP_WORDS = "通过|建立|设立|鼓励|支持|负责|会同|牵头|加强|制定|开展|按照|依照|根据|依法|应当|可以|需要"
_BODY_CHAR = (
    rf"(?:工业和信息化|人力资源和社会保障|住房和城乡建设|文化和旅游|(?!{_STOP_WORDS})(?![{_STOP}])[\u4e00-\u9fff])"
)
_LONG_SUFFIX = r"(?:管委会|委员会|办公室|办公厅|领导小组|人民政府|政府|总局|总署)"
_SHORT_SUFFIX = (
    r"(?:(?<!大)厅|(?<![布格结大全当开出])局|委(?![托员屈])"
    r"|(?<![东西南北中内外全局干总本])部(?![门分署件长位])|(?<![创举承开兴主合督代协包])办(?![理法学事好成公]))"
)
_PREFIX = r"(?:国务院|国家|中央|全国|自治区|省|市|州|县|区|各级|各)"
_ORG = re.compile(
    rf"{_PREFIX}(?:{_BODY_CHAR}{{0,14}}?{_LONG_SUFFIX}|{_BODY_CHAR}{{1,10}}?{_SHORT_SUFFIX})"
    rf"(?:办公室|办公厅|领导小组(?:办公室)?)*"
)
_KNOWN_ORGS = re.compile(
    "|".join(
        (
            "科学技术部", "科技部", "财政部", "国家税务总局", "税务总局", "商务部", "教育部", "工业和信息化部",
            "人力资源和社会保障部", "人力资源社会保障部", "自然资源部", "生态环境部", "海关总署", "中国人民银行",
            "国务院", "发展改革委", "主管税务机关", "税务机关", "认定机构", "领导小组办公室", "领导小组",
            "管委会", "银保监局", "银保监会", "证监会", "证监局", "金融监管局", "市场监管局",
        )
    )
)


def organisations(text: str) -> list[str]:
    """Department and organisation names in `text`, left to right, longest reading of each."""
    spans = [(m.start(), m.end()) for rx in (_ORG, _KNOWN_ORGS) for m in rx.finditer(text)]
    kept: list[tuple[int, int]] = []
    for a, b in sorted(set(spans), key=lambda s: (s[0] - s[1], s[0])):
        if not any(s <= a and b <= e for s, e in kept):
            kept.append((a, b))
    return [text[a:b] for a, b in sorted(kept)]


# ---------------------------------------------------------------- the check


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _claims(sentence: str) -> str:
    """The part of an answer sentence that states facts: no markers, list numbering or titles."""
    text = strip_citations(sentence)
    text = _ENUMERATOR.sub("", text)
    return _TITLE.sub("《》", text)


# A year or 文号 figure of the citation line, written bare or with its unit (2021年, 32号).
_META_UNITS = ("", "年", "年度", "号")


@dataclass(frozen=True)
class _Support:
    numbers: frozenset[tuple[str, Decimal]]
    metadata_numbers: frozenset[tuple[str, Decimal]]
    text: str  # whitespace-free clause text, units and citation metadata, for names


def _support(citation: Citation, clause_text: str) -> _Support:
    meta = f"{citation.doc_title} {citation.path} {citation.citation}"
    return _Support(
        numbers=frozenset(n.key for n in numbers(strip_citations(clause_text))),
        metadata_numbers=frozenset(n.key for n in numbers(meta)),
        text=_squash(" ".join((clause_text, *citation.responsible_units, meta))),
    )


def find_problems(
    text: str, citations: Sequence[Citation], clause_texts: Mapping[str, str], *, instructing: Collection[str]
) -> list[str]:
    """Why `text` may not be shown as an answer resting on `citations`; [] when it may.

    `citations` are every source the answer could cite (n = the hit's number); `clause_texts` maps
    their clause ids to clause text (the quote is used when an id is missing); `instructing` holds
    the ids of those clauses that carry instructions to the model (records.Clause.instructs).
    """
    if not text.strip():
        return [PROBLEM_EMPTY.render()]
    problems: list[str] = []
    by_n = {c.n: c for c in citations}
    used = citation_refs(text)
    for n in used:
        if n not in by_n:
            problems.append(PROBLEM_UNKNOWN_CITATION.render(n=n, count=len(citations)))
    if is_no_basis(text):
        return problems
    if not used:
        problems.append(PROBLEM_NO_CITATION.render())
    for n in used:
        if n in by_n and by_n[n].clause_id in instructing:
            problems.append(PROBLEM_INSTRUCTION.render(n=n))

    support = {c.n: _support(c, clause_texts.get(c.clause_id, c.quote)) for c in citations}
    cited_anywhere = [n for n in used if n in by_n] or list(by_n)
    for sentence, refs in cited_sentences(text):
        ns = [n for n in refs if n in by_n] or cited_anywhere
        allowed = _union(support[n].numbers for n in ns)
        allowed_meta = _union(support[n].metadata_numbers for n in ns)
        label = "".join(f"[{n}]" for n in ns)
        claims = _claims(sentence)
        for number in numbers(claims):
            if number.key in allowed:
                continue
            as_meta = number.kind == "ref" or (number.kind == "amount" and number.unit in _META_UNITS)
            if as_meta and number.key in allowed_meta:
                continue
            problems.append(PROBLEM_NUMBER.render(number=number.text, refs=label))
        for name in organisations(claims):
            if not any(_squash(name) in support[n].text for n in ns):
                problems.append(PROBLEM_ORG.render(name=name, refs=label))
    return list(dict.fromkeys(problems))


def _union(sets: Iterable[frozenset[tuple[str, Decimal]]]) -> frozenset[tuple[str, Decimal]]:
    out: frozenset[tuple[str, Decimal]] = frozenset()
    for s in sets:
        out |= s
    return out
