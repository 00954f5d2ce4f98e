"""Whether the clause found is about the subject a question names, or about another one.

A question on the conditions, steps or materials of a status or procedure the corpus names only in
passing (科技型中小企业评价, 瞪羚企业, 技术合同认定登记) finds the clauses of a better-covered one
(高新技术企业认定) closest: their conditions are not the ones asked about (issue 16, near-miss).
"""

from __future__ import annotations

from typing import Callable

from bot.index.lexical import domain_terms, in_corpus_wording
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
