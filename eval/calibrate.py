"""Fit the "no basis" decision on a question set and write bot/data/abstention.json.

The decision is a logistic model over the Evidence features of bot/answering/abstention.py (best
dense cosine, IDF-weighted coverage of the question's topic words by the top clauses, best BM25
score), fitted with class-balanced weights and L2. Each question is seen as the pipeline sees it
(abstention.looks, the function the pipeline decides on): a question that names a clause or a rare
exact corpus term is never "no basis"; the answerer's own reasons (bot/answering/extractive.py:
another place or tax, `outside`; no span of the asked type in the close clauses, `span`) make it one; and the second look (the question in the corpus's wording)
must agree before the model's "no basis" stands. The threshold is the middle of the
range that catches the most unanswerable questions while keeping false abstention within the target,
both measured by leave-one-out cross-validation: the printed figures are those held-out estimates, not
the fit on the same data.

    python eval/calibrate.py [--questions eval/questions.jsonl] [--target-false 0.05] [--write]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bot" / "data" / "abstention.json"


def fit(X: np.ndarray, y: np.ndarray, l2: float = 0.3, steps: int = 4000, lr: float = 0.1):
    """Standardised, class-balanced logistic regression by gradient descent (no sklearn needed)."""
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    Z = (X - mean) / scale
    w = np.where(y == 1, len(y) / (2 * max(1, y.sum())), len(y) / (2 * max(1, (1 - y).sum())))
    coef, bias = np.zeros(Z.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(Z @ coef + bias)))
        g = w * (p - y)
        coef -= lr * (Z.T @ g / len(y) + l2 * coef / len(y))
        bias -= lr * g.mean()
    return mean, scale, coef, bias


def predict(model, X: np.ndarray) -> np.ndarray:
    mean, scale, coef, bias = model
    return 1 / (1 + np.exp(-(((X - mean) / scale) @ coef + bias)))


def features(questions, settings) -> tuple[np.ndarray, np.ndarray, np.ndarray, list, list]:
    """Per question, as the answer pipeline sees it: the evidence features, those of its second look
    (the question in the corpus's wording; the first again when there is nothing to reword), the
    label, whether a rule says "never no basis", and whether one says "always" (another place's policy,
    another tax or a sum the answering clause does not mention)."""
    from bot.answering.abstention import looks
    from bot.answering.pipeline import extractive_answerer
    from bot.answering.question import analyse, search_text
    from bot.retrieval.search import Searcher
    from bot.service import build_bot

    bot = build_bot(settings)
    index = bot.index
    searcher = Searcher(index)
    extractive = extractive_answerer(index, bot.citation)
    rows, again, labels, never, always = [], [], [], [], []
    for q in questions:
        hits = searcher.search(search_text(q.question), 5)
        e, *second = looks(q.question, hits, index, searcher.closeness)  # both looks: the model is refitted
        rows.append(e.features())
        again.append((second[0] if second else e).features())
        labels.append(0 if q.answerable else 1)
        never.append(e.pinned or e.distinctive)
        analysis = analyse(q.question)
        always.append(bool(extractive.outside(analysis, hits[:1], hits[:5])
                           or (hits and analysis.kind.absent and extractive.span(analysis, hits) is None)))
    return np.array(rows), np.array(again), np.array(labels), never, always


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, default=ROOT / "eval" / "questions.jsonl")
    parser.add_argument("--target-false", type=float, default=0.05, help="false abstention allowed (LOO)")
    parser.add_argument("--write", action="store_true", help=f"write {OUT.relative_to(ROOT)}")
    args = parser.parse_args(argv)

    from bot.evaluation.questions import load_questions
    from bot.settings import Settings

    questions = load_questions(args.questions)
    X, X2, y, never, always = features(questions, Settings.from_env())
    loo = np.zeros(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        model = fit(X[keep], y[keep])
        # "no basis" only when the second look agrees: the smaller of the two probabilities decides
        loo[i] = min(predict(model, X[i : i + 1])[0], predict(model, X2[i : i + 1])[0])
    loo[np.array(never)] = 0.0  # a named clause or a rare exact term is never "no basis"
    loo[np.array(always)] = 1.0  # the answerer's own reasons (outside, no span of the asked type) always are
    results = []
    for threshold in np.arange(0.20, 0.95, 0.01):
        abstain = loo >= threshold
        false = (abstain & (y == 0)).sum() / max(1, (y == 0).sum())
        caught = (abstain & (y == 1)).sum() / max(1, (y == 1).sum())
        if false <= args.target_false:
            results.append((caught, -false, float(round(threshold, 2))))
    if not results:
        print("no threshold meets the false-abstention target", file=sys.stderr)
        return 1
    top = max(r[:2] for r in results)
    band = [r[2] for r in results if r[:2] == top]
    threshold = round(band[len(band) // 2], 2)
    caught, false = top[0], -top[1]
    mean, scale, coef, bias = fit(X, y)
    print(f"questions: {len(y)} ({int(y.sum())} unanswerable); leave-one-out at threshold {threshold}:")
    print(f"  abstention on unanswerable {caught:.3f}, false abstention on answerable {false:.3f}")
    from bot.answering.abstention import FEATURES

    for name, c in zip(FEATURES, coef):
        print(f"  {name:>22}: {c:+.3f}")
    if args.write:
        OUT.write_text(
            json.dumps(
                {
                    "mean": mean.round(6).tolist(),
                    "scale": scale.round(6).tolist(),
                    "coef": coef.round(6).tolist(),
                    "intercept": round(float(bias), 6),
                    "threshold": threshold,
                    "features": list(FEATURES),
                    "fitted_on": str(args.questions.relative_to(ROOT) if args.questions.is_absolute() else args.questions),
                    "loo_abstention": round(caught, 3),
                    "loo_false_abstention": round(false, 3),
                },
                indent=1,
            ),
            encoding="utf-8",
        )
        print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
