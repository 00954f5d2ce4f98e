"""Whether the clause found is about the subject a question names, or about another one, and which
clauses a partial answer (相关条款没有规定…) cites.

A question on the conditions, steps or materials of a status or procedure the corpus names only in
passing (科技型中小企业评价, 瞪羚企业, 技术合同认定登记) finds the clauses of a better-covered one
(高新技术企业认定) closest: their conditions are not the ones asked about (issue 16, near-miss).
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

from bot.answering.types import AnswerType, asking_part, language, without_cues
from bot.index.lexical import domain_terms, in_corpus_wording, synonym_table, tokenize, words
from bot.records import Hit

# A term this rare (IDF; about five chunks of the shipped corpus) is a subject of its own, not a
# word every clause of a document shares (高新技术企业, 所得税).
RARE_IDF = 4.5
# The answer types that ask about one subject's own rules, with what the answer says is not stated;
# not a yes/no question, whose status named ("省级高新区也可以吗？") is held against the clause's and
# may be answered 不能.
OWN_RULES = {"conditions": "的条件", "steps": "的办理程序", "materials": "需要准备的材料"}


def other_subject(question: str, kind: str, used: Hit, known: Callable[[str], bool],
                  weight: Callable[[str], float]) -> str:
    """Why the answering clause cannot answer: it does not name the rare subject whose rules the
    question asks (a close clause may, in passing: 培育…瞪羚企业); "" when it does."""
    if kind not in OWN_RULES:
        return ""
    named = domain_terms(in_corpus_wording(question, known))
    named = [t for t in named if not any(t != u and t in u for u in named)]  # the longest names only
    subject = next((t for t in named if weight(t) >= RARE_IDF and t not in used.clause.text), "")
    return f"相关条款没有规定{subject}{OWN_RULES[kind]}。" if subject else ""


def named_list(question: str, kind: str, used: Hit) -> bool:
    """Whether the clause only names, by its title, the list the question asks for the items of
    (属于《国家重点支持的高新技术领域》规定的范围): the items are in that document, not in the corpus."""
    return kind == "enumeration" and any(
        len(title) >= 4 and title in question for title in re.findall(r"《([^《》]+)》", used.clause.text))


def topic_named(question: str, hits: Sequence[Hit], known: Callable[[str], bool]) -> bool:
    """Whether a clause at hand names the question's topic (a term of the domain dictionary): then a
    detail no clause states is said to be absent from those clauses, not from the whole corpus."""
    named = domain_terms(in_corpus_wording(question, known))
    return any(t in h.clause.text for t in named for h in hits)


def closest_to_topic(question: str, hits: Sequence[Hit], weight: Callable[[str], float]) -> list[Hit]:
    """The clauses ordered by how much of the question's wording (IDF-weighted) each holds, the search
    order kept on a tie: the clauses cited beside "没有规定…" are the ones on the asker's topic (省级技术
    创新中心), not whichever the search ranked first."""
    asked = {t for t in tokenize(question) if len(t) > 1}

    def held(hit: Hit) -> float:
        return sum(weight(t) for t in asked if t in hit.clause.text)

    return sorted(hits, key=held, reverse=True)


# A word this rare (IDF; one or two chunks of the shipped corpus) names a thing of its own (基数, 下限);
# a figure asked of it is that thing's, not one of a clause that never names it.
RARE_WORD_IDF = 5.4


def unnamed_quantity(question: str, kind: AnswerType, used: Hit, known: Callable[[str], bool],
                     weight: Callable[[str], float]) -> str:
    """Why the answering clause cannot give the figure asked: the thing measured, named right before
    the asking word (…社保缴费基数上下限是多少), holds a rare word the clause never uses, not even in other
    words (社会保险费 is named, 基数 is not); "" when the clause names all of it."""
    if kind.name != "figure":  # a typed amount (a rate, a sum) has its own evidence to find
        return ""
    text = used.clause.text
    piece = asking_part(question).split(" | ")[-1]
    asked = language()["asking"].search(piece)
    head = re.sub(r"\s+", "", without_cues(piece[: asked.start()] if asked else piece, kind))  # 最低, 上限
    measured = re.sub(r"[的是有要为]+$", "", head).rsplit("的", 1)[-1]

    def unnamed(w: str) -> bool:  # named in other words: 工资总额 by 工资薪金总额, 员工 by 职工 (synonyms.yaml)
        said = [w, *synonym_table().get(w, ())]
        return not any(all(t in text for t in _parts(x)) for x in said)

    rare = [w for w in words(measured) if len(w) > 1 and known(w) and weight(w) >= RARE_WORD_IDF and unnamed(w)]
    return f"相关条款没有规定{measured}。" if rare else ""


def _parts(word: str) -> list[str]:
    """The shorter words a compound is made of (工资总额: 工资, 总额), or the word itself."""
    return [t for t in tokenize(word) if t != word] or [word]
