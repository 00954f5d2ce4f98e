"""When the corpus has no basis for an answer: the evidence, the model fitted on it, and the looks taken.

`looks` is the one place the evidence is computed: the answer pipeline decides on it, the evaluation
scores it and eval/calibrate.py fits the model on it, so what is calibrated and measured is what ships.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from importlib import resources
from typing import Callable, Mapping, Protocol, Sequence

from bot.index.lexical import expand_query, in_corpus_wording, tokenize
from bot.records import Hit
from bot.retrieval.search import clause_refs

# Words that carry the question's form, not its topic: they say nothing about whether the corpus covers it.
_FORM_WORDS = frozenset(
    """多少 怎么 申请 标准 能 不能 哪些 什么 是不是 不是 可以 有没有 规定 政策 企业 公司 我们 现在 今年 一个 要求
    情况 问题 办理 流程 需要 条件 如何 拿到 以后 时候 怎么办 多久 最多 最多能 几年 哪个 还要 开始 是否 知道 这个
    那个 一下 时间 哪里 支持 给 按 做 交 用 拿 想 去 算 还 吗 呢""".split()
)


class Vocabulary(Protocol):
    """What the evidence reads of the corpus: how rare a word is, and whether the corpus uses it
    (bot.index.store.PolicyIndex)."""

    def doc_freq(self, token: str) -> int: ...

    def idf(self, token: str) -> float: ...

    def uses(self, term: str) -> bool: ...


Closeness = Callable[[str], Mapping[str, float]]  # query -> cosine to each dense candidate, by clause id


@dataclass(frozen=True)
class Evidence:
    """What the abstention decision looks at; the weights come from eval/calibrate.py."""

    dense: float  # best cosine between the question and a chunk of the top clauses
    coverage: float  # IDF-weighted share of the question's topic words found in the top clauses
    bm25: float  # log(1 + best BM25 score)
    pinned: bool  # the question names a clause by number
    distinctive: bool  # a quoted or long, rare corpus term of the question is in the top clause

    def features(self) -> list[float]:
        return [self.dense, self.coverage, self.bm25]


FEATURES = ("dense", "coverage", "bm25")


@dataclass(frozen=True)
class AbstentionModel:
    """A logistic model over Evidence.features(), standardised; fitted by eval/calibrate.py."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float

    @classmethod
    def load(cls) -> "AbstentionModel":
        data = json.loads((resources.files("bot") / "data" / "abstention.json").read_text(encoding="utf-8"))
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in cls.__dataclass_fields__})

    def probability(self, e: Evidence) -> float:
        z = self.intercept + sum(
            c * (x - m) / (s or 1.0) for c, x, m, s in zip(self.coef, e.features(), self.mean, self.scale)
        )
        return 1.0 / (1.0 + math.exp(-z))


def should_abstain(e: Evidence, model: AbstentionModel) -> bool:
    """No basis when the model says so; never for a clause named by number or a rare exact term."""
    if e.pinned or e.distinctive:
        return False
    return model.probability(e) >= model.threshold


def looks(
    query: str, hits: Sequence[Hit], corpus: Vocabulary,
    closeness: Closeness | None = None, model: AbstentionModel | None = None,
) -> list[Evidence]:
    """The evidence for `hits` answering `query`, look by look; the last one decides.

    The first look reads the query as asked. With `closeness`, a second look follows, on the way to
    "no basis" only (when `model` says so on the first; always without a model, for calibration): the
    query in the corpus's own words (高企 -> 高新技术企业), which the embedder cannot know are the
    same, changes the hits' closeness, never their order (ranking by the reworded question lost as
    many first places as it won). There is none when nothing is reworded, so most asks pay no second
    embedding. Nor is there one when the clauses at hand do not use the corpus wording (年终奖 ->
    工资薪金 beside a clause on 单独计算): the reworded question would be close to clauses not found."""
    first = _evidence(query, hits, corpus)
    if closeness is None or (model is not None and not should_abstain(first, model)):
        return [first]
    plain = in_corpus_wording(query, corpus.uses)
    found = "".join(h.clause.text for h in hits[:3])
    if plain == query or not all(t in found for t in set(tokenize(plain)) - set(tokenize(query))):
        return [first]  # the clauses found do not use the corpus wording: it did not find them
    closer = closeness(plain)
    hits = [replace(h, dense_score=max(h.dense_score or 0.0, closer.get(h.clause.id, 0.0))) for h in hits]
    return [first, _evidence(query, hits, corpus)]


def _evidence(question: str, hits: Sequence[Hit], corpus: Vocabulary) -> Evidence:
    if not hits:
        return Evidence(0.0, 0.0, 0.0, False, False)
    top = hits[:3]
    text = "".join(h.clause.text for h in top)
    plain = tokenize(question)
    words = [t for t in dict.fromkeys(plain) if t not in _FORM_WORDS and not re.fullmatch(r"[\d.%]+", t)]
    alternatives = expand_query(question)[len(plain) :]
    total = covered = 0.0
    for word in words:
        weight = corpus.idf(word)
        total += weight
        rescued = corpus.doc_freq(word) == 0 and any(a in text for a in alternatives)
        if word in text or rescued:
            covered += weight
    quoted = re.findall(r"[“\"「『]([^”\"」』]{2,12})[”\"」』]", question)
    long_rare = [w for w in words if len(w) >= 4 and 0 < corpus.doc_freq(w) <= 5]
    return Evidence(
        dense=max((h.dense_score or 0.0) for h in top),
        coverage=covered / total if total else 1.0,
        bm25=math.log1p(max((h.bm25_score or 0.0) for h in hits)),
        pinned=bool(clause_refs(question)),
        distinctive=any(w in hits[0].clause.text for w in quoted + long_rare),
    )
