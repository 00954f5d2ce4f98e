"""Development and blind question sets side by side (DESIGN.md, "Measuring what generalises").

Each set is run on its own; the side-by-side table holds the few figures that say whether answers
generalise, one column per set and one for the blind sets (files under eval/blind/) pooled.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from bot.evaluation.metrics import AnswerRecord, answer_metrics, rate, recall_at

if TYPE_CHECKING:
    from bot.evaluation.run import EvalRun

POOLED = "blind pooled"
ANSWER_ROWS = [  # (metric, label) from answer_metrics
    ("must_mention_recall", "must_mention recall"),
    ("lead_must_mention_recall", "lead must_mention recall"),
    ("abstention_rate", "abstention, all unanswerable"),
    ("abstention_rate_out_of_scope", "abstention, out-of-scope"),
    ("abstention_rate_near_miss", "abstention, near-miss"),
    ("false_abstention_rate", "false abstention"),
]


def is_blind(path: Path) -> bool:
    """A test set: a file directly under eval/blind/."""
    folder = Path(path).resolve().parent
    return folder.name == "blind" and folder.parent.name == "eval"


def _column(questions: int, ranks: Sequence[int | None], records: Sequence[AnswerRecord], **about) -> dict:
    answers = answer_metrics(records) if records else {}
    return {**about, "questions": float(questions), "recall@5": recall_at(ranks, 5) if ranks else None,
            **{metric: answers.get(metric) for metric, _ in ANSWER_ROWS}}


def by_set(runs: Sequence[tuple[Path, EvalRun]]) -> dict:
    """{mode, columns: {label: figures}}: one column per set (labelled by file name), then the blind
    sets pooled (their questions, ranks and answers put together, not their figures averaged)."""
    first = runs[0][1].retrieval
    mode = "hybrid" if "hybrid" in first else next(iter(first), "")
    stems = [Path(p).stem for p, _ in runs]

    def ranks(run: EvalRun) -> list[int | None]:
        return list(run.retrieval[mode].ranks.values()) if mode in run.retrieval else []

    columns = {}
    for path, run in runs:
        label = Path(path).stem if stems.count(Path(path).stem) == 1 else str(path)
        columns[label] = _column(len(run.questions), ranks(run), run.records, file=str(path), blind=is_blind(path))
    blind = [run for path, run in runs if is_blind(path)]
    if blind:
        columns[POOLED] = _column(sum(len(r.questions) for r in blind), [x for r in blind for x in ranks(r)],
                                  [x for r in blind for x in r.records],
                                  file=[str(p) for p, _ in runs if is_blind(p)], blind=True)
    return {"mode": mode, "columns": columns}


def sets_table(sets: dict) -> str:
    """A Markdown table: one row per figure, one column per set (blind ones marked) and the pooled blind."""
    columns = sets["columns"]
    names = [f"{label} (blind)" if c["blind"] and label != POOLED else label for label, c in columns.items()]
    rows = [("questions", "n", lambda v: str(int(v))), ("recall@5", f"Recall@5 ({sets['mode']})", rate),
            *[(metric, label, rate) for metric, label in ANSWER_ROWS]]
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    lines += [f"| {label} | " + " | ".join(show(c[metric]) for c in columns.values()) + " |"
              for metric, label, show in rows]
    return "\n".join(lines)
