"""The corpus's own terms and how a question uses them.

- Defined terms: the clauses that define a term ("本法所称居民企业，是指…", "职务科技成果，是指…"),
  read from the clause texts, so that "什么是X" and "…算不算X？" find the clause defining X for any X
  the corpus defines, not for a list of questions.
- Subject and form: the known terms a question names (domain terms, defined terms and everyday names
  for them, weighed by IDF) and the words by which it asks (税率, 条件, 哪个部门…). A follow-up is read
  by them (bot/answering/conversation.py).

`CorpusTerms.of(index)` is built on the first search of a loaded index (one regex pass over its
clauses, a few ms) and kept as long as that index is; the cue words are data in bot/data/terms.yaml.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources

from bot.index import lexical
from bot.text.numerals import NUMERAL_CHARS

# "…所称X，是指", "…所称X，包括": a term defined by reference to the article that uses it.
_BY_REFERENCE = re.compile(r"所称的?((?:(?!所称)[^，,。；;：:\s“”（）()《》]){2,30}?)\s*[，,]?\s*(?:是指|不包括|包括)")
# "。职务科技成果，是指…", "（一）可比非受控价格法，是指…": a term defined where its sentence starts.
_STANDING = re.compile(
    rf"(?:^(?:第[{NUMERAL_CHARS}]+条)?|[。；;\n])\s*(?:[（(][{NUMERAL_CHARS}]+[）)])?\s*([^，,。；;：:\s“”（）()《》、]{{2,16}})[，,]\s*是指"
)
_END = re.compile(r"[\s？?。！!，,、；;：:~～]+$|[啊呀呢吧哈嘛]+[？?]*$")
_FILLER = re.compile(r"(?:一种|一个|一项|是|为|作|的)+$")  # "算是一种无形资产", "属于的"
_AFTER_COUNTS = re.compile(r"\s*(?:[吗么嘛呢吧？?。!！]|的?范围|的?范畴|之列|$)")
# "营收3.5个亿", "研发投入占营收6%": a term a figure follows within a few characters.
_FIGURE = re.compile(r"[^，,。；;？?]{0,6}?(?:\d|[一二两三四五六七八九十百千万]+(?:个|万|亿|人|岁|年|%|成))")
_ITEM_HEADING = re.compile(r"[(（][一二三四五六七八九十]+[)）]([^。；;]{2,24})。")  # (十九)强化人才支撑。
LOOSE_EXTRA = 3  # characters a loose definition question may add to the term ("税法上亏损")
MEMO_QUESTIONS = 4096  # questions whose defined terms are kept (per loaded index)
# A term in a larger share of the chunks than this (企业所得税, 科技 in the shipped corpus; an IDF
# under 2.1) is the setting, not a subject.
MAX_TOPIC_SHARE = 0.12


@dataclass(frozen=True)
class Cues:
    asked: frozenset[str]
    question_words: tuple[str, ...]
    pointing: frozenset[str]
    referring: tuple[str, ...]
    loose: tuple[re.Pattern, ...]
    exact: tuple[re.Pattern, ...]
    counts_as: tuple[str, ...]


@lru_cache(maxsize=1)
def cues() -> Cues:
    """bot/data/terms.yaml, read once per process on first use."""
    import yaml

    raw = yaml.safe_load((resources.files("bot") / "data" / "terms.yaml").read_text(encoding="utf-8"))

    def template(text: str) -> re.Pattern:
        before, _, after = text.partition("{X}")
        return re.compile(f"{re.escape(before)}(?P<x>.+?){re.escape(after)}$")

    return Cues(
        asked=frozenset(raw["asked"]),
        question_words=tuple(sorted(raw["question_words"], key=len, reverse=True)),
        pointing=frozenset(raw["pointing"]),
        referring=tuple(raw["referring"]),
        loose=tuple(map(template, raw["definition"]["loose"])),
        exact=tuple(map(template, raw["definition"]["exact"])),
        counts_as=tuple(sorted(raw["counts_as"], key=len, reverse=True)),
    )


def term_key(term: str) -> str:
    """How two namings of a term compare: 研究开发费用的加计扣除 = 研究开发费用加计扣除."""
    return re.sub(r"[的\s]", "", term)


@dataclass(frozen=True)
class Definition:
    term: str  # as the corpus writes it: 符合条件的小型微利企业
    clause_id: str


def definitions(clauses) -> list[Definition]:
    """Every term a clause defines, in clause order."""
    return list(dict.fromkeys(Definition(term, clause.id) for clause in clauses for term in defined_terms(clause.text)))


def defined_terms(text: str) -> list[str]:
    """The terms `text` defines (…所称X，是指…; a standing definition), in the order read."""
    found = []
    for pattern in (_BY_REFERENCE, _STANDING):
        for m in pattern.finditer(text):
            term = m.group(1).strip()
            if len(term_key(term)) >= 2 and "所称" not in term:
                found.append(term)
    return found


def aliases(term: str) -> list[str]:
    """The namings a question may use for a defined term: the term, and its head after the last 的
    (符合条件的小型微利企业 -> 小型微利企业)."""
    out = [term]
    head = term.rsplit("的", 1)[-1]
    if head != term and len(head) >= 2:
        out.append(head)
    return out


class CorpusTerms:
    """The defined terms and known terms of one loaded index, with how rare each is."""

    _built: "weakref.WeakKeyDictionary[object, CorpusTerms]" = weakref.WeakKeyDictionary()

    def __init__(self, index) -> None:
        self._index = weakref.ref(index)  # a strong reference would keep every swapped-out index alive
        store = index.store
        self._texts = [chunk.text for chunk in store.chunks.values()]
        self._df: dict[str, int] = {}
        self._defining: dict[str, list[str]] = {}
        defs = definitions(store.clauses.values())
        # A naming's key -> the clauses defining it: those defining the whole term before those
        # whose term ends in it (高新技术企业: 认定办法 第二条, then 条例 第九十三条).
        self.defined: dict[str, list[str]] = {}
        for whole in (True, False):
            for d in defs:
                names = aliases(d.term)
                for alias in names[:1] if whole else names[1:]:
                    ids = self.defined.setdefault(term_key(alias), [])
                    if d.clause_id not in ids:
                        ids.append(d.clause_id)
        self._defined_names = sorted({a for d in defs for a in aliases(d.term)}, key=len, reverse=True)
        # The known terms a subject is named by: domain terms, defined terms, and the everyday names
        # of either (高企 -> 高新技术企业), each to the corpus wording it stands for.
        names: dict[str, str] = {t: t for t in lexical.domain_term_list()}
        names.update({t: t for t in self._defined_names if len(t) >= 3})  # not 成本, 费用, 控制
        for name, targets in lexical.synonym_table().items():
            if targets and targets[0] in names and name not in names:
                names[name] = targets[0]
        self._names = sorted(names.items(), key=lambda kv: len(kv[0]), reverse=True)

    @property
    def index(self):
        return self._index()

    @cached_property
    def headings(self) -> tuple[str, ...]:
        """The headings of the index's list items ((十九)强化人才支撑。 -> 强化人才支撑): the names a
        follow-up may point at an item by ("那人才支撑那条呢？")."""
        return tuple(m.group(1) for c in self.index.store.clauses.values() if (m := _ITEM_HEADING.match(c.text)))

    @classmethod
    def of(cls, index) -> "CorpusTerms":
        """The terms of `index`, built on first use and kept while the index is loaded."""
        terms = cls._built.get(index)
        if terms is None:
            terms = cls._built[index] = cls(index)
        return terms

    def doc_freq(self, term: str) -> int:
        """In how many chunks the term occurs as written (a phrase, not a BM25 token)."""
        if term not in self._df:
            self._df[term] = sum(term in text for text in self._texts)
        return self._df[term]

    # -- definitions --------------------------------------------------------------------------

    def defining(self, question: str) -> list[str]:
        """Clause ids defining the term a question asks the meaning of ("什么是X", "X是指什么") or
        asks whether something counts as ("年终奖算不算工资薪金？"); empty for any other question.
        Kept per question while the index is loaded: one ask searches its question and its parts, and
        each search asks (every defined name is looked for in the question)."""
        found = self._defining.get(question)
        if found is None:
            if len(self._defining) >= MEMO_QUESTIONS:
                self._defining.clear()
            found = self._defining[question] = self._find_defining(question)
        return list(found)

    def _find_defining(self, question: str) -> list[str]:
        q = _END.sub("", lexical.in_corpus_wording(question.strip(), self.index.uses))
        for patterns, loose in ((cues().loose, True), (cues().exact, False)):
            for pattern in patterns:
                m = pattern.search(q)
                if m and (ids := self._definers(m.group("x"), loose)):
                    return ids
        return self._counted(q)

    def _definers(self, asked: str, loose: bool) -> list[str]:
        asked = asked.strip(" ，,：:“”\"")
        if term_key(asked) in self.defined:
            return self.defined[term_key(asked)]
        if not loose:
            return []
        for name in self._defined_names:  # longest first
            if name in asked and len(asked) - len(name) <= LOOSE_EXTRA:
                rest = asked.replace(name, "", 1)
                if not any(t in rest for t, _ in self._names if len(t) >= 2):
                    return self.defined[term_key(name)]
        return []

    def _counted(self, q: str) -> list[str]:
        """The definers of the term right after "算不算/属于…" and before the end or 吗: not of 收入
        in "算免税收入吧" (the term asked about is 免税收入)."""
        for name in self._defined_names:
            start = q.find(name)
            if start < 0 or not _AFTER_COUNTS.match(q, start + len(name)):
                continue
            before = q[:start]
            if before.endswith(cues().counts_as) or _FILLER.sub("", before).endswith(cues().counts_as):
                return self.defined[term_key(name)]
        return []

    # -- subject and form ---------------------------------------------------------------------

    def topic(self, text: str, stated: bool = True, words: bool = True) -> dict[str, float]:
        """The known terms `text` names, in the corpus's wording, with their IDF: domain and defined
        terms and their everyday names (外国专家 -> 境外高端人才), then (with `words`) any other word
        the corpus uses (职工, 教育经费). Only the specific ones: a term in most chunks (企业所得税, 科技)
        says where we are, not what is asked about. With `stated=False`, not a term with a figure after
        it ("营收3.5个亿", "研发投入占6%"): that states a fact about the asker."""
        named, other, _ = self._read(text, stated)
        return {**named, **other} if words else named

    def names_only(self, text: str) -> bool:
        """Whether `text` names a subject and nothing else ("那大数据电子信息呢？", "健康医药的呢？"):
        no word left but pointing words and particles once its known terms are taken out."""
        named, other, rest = self._read(text, True)
        return bool(named or other) and all(w in lexical.STOPWORDS or w in cues().pointing for w in rest)

    def _read(self, text: str, stated: bool) -> tuple[dict[str, float], dict[str, float], list[str]]:
        named: dict[str, float] = {}
        rest = text
        for name, term in self._names:  # longest first; a longer name hides the shorter inside it
            if name not in rest:
                continue
            for m in re.finditer(re.escape(name), rest):
                if stated or not _states_a_figure(rest, m.end()):
                    self._add(named, term)
            rest = rest.replace(name, "|")
        asking = cues().asked | set(cues().question_words) | set(cues().counts_as)
        other: dict[str, float] = {}
        left = []
        for word in lexical.words(rest):
            if len(word) < 2 or word in lexical.STOPWORDS or word in asking:
                left.append(word)
                continue
            # As a BM25 token (才能 is not in 人才能力), or as written when longer (教育经费).
            df = self.index.doc_freq(word) or (self.doc_freq(word) if len(word) >= 3 else 0)
            if not self._add(other, word, df):
                left.append(word)
        return named, other, left

    def _add(self, found: dict[str, float], term: str, df: int | None = None) -> bool:
        df = self.doc_freq(term) if df is None else df
        if 0 < df <= max(1.0, MAX_TOPIC_SHARE * len(self._texts)):
            found[term] = lexical.idf(df, len(self._texts))
            return True
        return False

    def naming(self, terms) -> set[str]:
        """The ids of the clauses that name all of `terms` (as the corpus writes them), or if none
        does, any of them: 大数据 and 电子信息 together, not 省大数据局 alone."""
        clauses = self.index.store.clauses.values()
        return {c.id for c in clauses if all(t in c.text for t in terms)} or {
            c.id for c in clauses if any(t in c.text for t in terms)}


def _states_a_figure(text: str, end: int) -> bool:
    return bool(_FIGURE.match(text, end))


def form_words(question: str) -> list[str]:
    """The words by which a question asks (its form): asked words of terms.yaml, and each question
    word with the word after it when that word names what is asked ("哪个 高新区", "什么 条件")."""
    words = lexical.words(question)
    c = cues()
    form: list[str] = []
    for i, w in enumerate(words):
        if w in c.asked:
            form.append(w)
        elif w.startswith(c.question_words):
            nxt = words[i + 1] if i + 1 < len(words) else ""
            named = len(nxt) >= 2 and re.fullmatch(r"[\u4e00-\u9fff]+", nxt) and nxt not in lexical.STOPWORDS
            form.append(w + nxt if named else w)
    return list(dict.fromkeys(form))


def refers_back(question: str) -> bool:
    """Whether a follow-up refers to what the last answer was about ("这个", "上述")."""
    return any(w in question for w in cues().referring)


def without_form(question: str) -> str:
    """The question without its asking words: what it is about, in its own words."""
    out = question
    for w in sorted(form_words(question), key=len, reverse=True):
        out = out.replace(w, " ")
    return re.sub(r"[\s？?。！!，,]+", " ", out).strip()
