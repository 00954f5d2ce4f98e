"""Answer types: what a question asks for (an amount, a rate, a deadline, a department, a list of
conditions…) and what in a clause can answer it, read from bot/data/answer_types.yaml.

The question's type is read from the cue words it holds (see answer_type); its focus is what is left of its words
once the cue words are taken out ("技术转让所得 减免比例" -> type rate, focus 技术转让所得).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

LEADS = ("phrase", "sentence", "list", "units", "definition", "judgement", "citation", "issuer")


@dataclass(frozen=True)
class AnswerType:
    name: str
    rank: int  # 1: asks for one kind of thing; 2: broad (steps, judgement, conditions); 3: a bare "how much"
    intent: str  # the coarse class reported with the answer
    cues: tuple[str, ...]
    patterns: tuple[re.Pattern, ...]  # cues a question splits apart ("能申报…吗")
    evidence: re.Pattern | None  # a sentence that can answer matches this; None: any sentence
    absent: str  # what "相关条款没有规定…" names when no clause states it; "": the type never abstains alone
    lead: str  # how the lead states the span (LEADS)

    def cue_end(self, question: str) -> int:
        """Where the last cue word of this type in `question` ends; -1 if it holds none."""
        ends = [question.rfind(c) + len(c) for c in self.cues if c in question]
        ends += [m.end() for p in self.patterns for m in p.finditer(question)]
        return max(ends, default=-1)

    def answers(self, sentence: str) -> re.Match | None:
        """The evidence of this type in `sentence`: what the lead must state."""
        if self.evidence is None:
            return re.match(r".", sentence)
        return self.evidence.search(sentence)


GENERAL = AnswerType("general", 9, "general", (), (), None, "", "sentence")
LOOKUP = AnswerType("lookup", 0, "lookup", (), (), None, "", "sentence")


@lru_cache(maxsize=1)
def _data() -> dict:
    """bot/data/answer_types.yaml, read once per process on first use."""
    return yaml.safe_load((resources.files("bot") / "data" / "answer_types.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def answer_types() -> tuple[AnswerType, ...]:
    """The types of the data file, in the order they are tried; a malformed entry fails loudly."""
    data = _data()
    out = []
    for entry in data["types"]:
        if entry.get("lead", "phrase") not in LEADS:
            raise ValueError(f"answer_types.yaml: type {entry['name']}: lead must be one of {LEADS}")
        out.append(AnswerType(
            name=entry["name"],
            rank=int(entry["rank"]),
            intent=entry["intent"],
            cues=tuple(str(c) for c in entry["cues"]),
            patterns=tuple(re.compile(p) for p in entry.get("cue_patterns", ())),
            evidence=re.compile(entry["evidence"]) if entry.get("evidence") else None,
            absent=entry.get("absent", ""),
            lead=entry.get("lead", "phrase"),
        ))
    return tuple(out)


@lru_cache(maxsize=1)
def language() -> dict:
    """The answerer's language rules beside the types (answer_types.yaml `language`)."""
    data = _data()
    rules = data["language"]
    return {
        "asking": re.compile("|".join(map(re.escape, sorted(rules["asking"], key=len, reverse=True)))),
        "stating": re.compile(rules["stating"]),
        "place_owns": re.compile(rules["place_owns"]),
        "tax_verbs": frozenset(rules["tax_verbs"]),
        "carries_on": re.compile(rules["carries_on"]),
        "conditional": re.compile(rules["conditional"]),
        "limits": re.compile(rules["limits"]),
        "whole_list": re.compile("|".join(map(re.escape, rules["whole_list"]))),
        "points_at_item": re.compile(rules["points_at_item"]),
        "follow_up_start": tuple(rules["follow_up_start"]),
        "points_back": re.compile(rules["points_back"]),
        "asks_units": re.compile(rules["asks_units"]),
        "version_year": re.compile(rules["version_year"]),
        "asks_thing": re.compile("|".join(map(re.escape, [w for w in rules["asking"] if w not in rules["whether"]]))),
        "topic_nouns": tuple(rules["topic_nouns"]),
    }


@lru_cache(maxsize=1)
def _this_year() -> tuple[tuple[str, ...], frozenset[str], re.Pattern]:
    data = _data()
    rule = data["this_year"]
    return tuple(rule["cues"]), frozenset(rule["types"]), re.compile(rule["evidence"])


def this_year(question: str, kind: AnswerType) -> re.Pattern | None:
    """What a span must also hold when the question asks about one year's call: a year (今年…截止), or
    the year it names (2026年…截止: not the 2016 of a standing rule's entry into force)."""
    cues, types, evidence = _this_year()
    if kind.name not in types:
        return None
    named = re.search(r"20\d\d\s*年", question)
    if named:
        return re.compile(re.escape(named.group(0)))
    return evidence if any(c in question for c in cues) else None


def answer_type(question: str) -> AnswerType:
    """Among the types of the lowest rank whose cues the question's asking part holds, the one whose
    cue ends last (earlier in the file on a tie); GENERAL when it holds none."""
    for text in (asking_part(question), question):
        held = [(t.rank, -t.cue_end(text), n, t) for n, t in enumerate(answer_types()) if t.cue_end(text) >= 0]
        if held:
            kind = min(held, key=lambda x: x[:3])[3]
            return by_name("eligibility") if asks_whether(text, kind) else kind
    return GENERAL


def asks_whether(text: str, kind: AnswerType) -> bool:
    """Whether a question read as `kind` only names its topic with the type's noun and asks yes or no
    ("证书编号和有效期会变吗？": whether they change, not how long they last)."""
    rules = language()
    named = text
    for noun in rules["topic_nouns"]:
        named = named.replace(noun, " ")
    return (kind.rank == 1 and kind.cue_end(named) < 0 and by_name("eligibility").cue_end(text) >= 0
            and not rules["asks_thing"].search(text))


def asking_part(question: str) -> str:
    """What each sentence of the question asks: its last comma-separated piece ("我们是高新技术企业，
    前几年的亏损还没弥补完，最长能往后结转几年？" asks "最长能往后结转几年"; "前几年" is context)."""
    pieces = [re.split(r"[，,；;]", s)[-1] for s in re.split(r"[。？?！!\n]", question) if s.strip()]
    return " | ".join(pieces)


def by_name(name: str) -> AnswerType:
    return next((t for t in answer_types() if t.name == name), GENERAL)


def without_cues(question: str, kind: AnswerType) -> str:
    """The question with the type's cue words blanked: what is left says what the answer is about."""
    for cue in _longest_first(kind.cues):
        question = question.replace(cue, " ")
    return question


@lru_cache(maxsize=64)
def _longest_first(cues: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(cues, key=len, reverse=True))
