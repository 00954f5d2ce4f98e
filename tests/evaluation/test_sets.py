"""Development and blind sets side by side: one column per set, the blind ones (eval/blind/) pooled."""

from pathlib import Path

import pytest

from bot.evaluation.metrics import AnswerRecord, RetrievalResult
from bot.evaluation.questions import Question
from bot.evaluation.run import EvalRun
from bot.evaluation.sets import POOLED, by_set, is_blind, sets_table


def _run(ranks: list[int | None], abstained_unanswerable: list[bool]) -> EvalRun:
    """A run whose answerable questions were found at `ranks` (and answered), and whose unanswerable
    ones were abstained on or not."""
    answerable = [Question(f"a{i}", "问", must_mention=("x",)) for i in range(len(ranks))]
    unanswerable = [Question(f"u{i}", "问", answerable=False) for i in range(len(abstained_unanswerable))]
    run = EvalRun("policybot extractive", "f", answerable + unanswerable)
    retrieval = RetrievalResult("hybrid")
    retrieval.ranks = {q.id: r for q, r in zip(answerable, ranks)}
    run.retrieval = {"hybrid": retrieval}
    run.records = ([AnswerRecord(q, "x", False, [], True, 1.0, lead="x") for q in answerable]
                   + [AnswerRecord(q, "无依据", a, [], True, 1.0, lead="无依据") for q, a in zip(unanswerable, abstained_unanswerable)])
    return run


def test_blind_sets_are_pooled_by_question_not_by_averaging_their_figures(tmp_path):
    dev, a, b = tmp_path / "eval" / "questions.jsonl", tmp_path / "eval" / "blind" / "a.jsonl", tmp_path / "eval" / "blind" / "b.jsonl"
    sets = by_set([(dev, _run([1, 2], [True])), (a, _run([1], [True])), (b, _run([None, 9, 3], [False, False, False]))])
    columns = sets["columns"]
    assert sets["mode"] == "hybrid" and list(columns) == ["questions", "a", "b", POOLED]
    assert [columns[c]["blind"] for c in columns] == [False, True, True, True]
    pooled = columns[POOLED]
    assert pooled["questions"] == 8.0
    assert pooled["recall@5"] == 0.5  # 2 of 4 found in the top 5 (the mean of the two sets' figures is 0.667)
    assert pooled["abstention_rate"] == 0.25  # 1 of 4 (the mean of the two sets' figures is 0.5)
    assert columns["questions"]["recall@5"] == 1.0 and columns["b"]["false_abstention_rate"] == 0.0
    table = sets_table(sets)
    assert table.splitlines()[0] == f"| metric | questions | a (blind) | b (blind) | {POOLED} |"
    assert "| abstention, all unanswerable | 1.000 | 1.000 | 0.000 | 0.250 |" in table


def test_without_blind_sets_there_is_no_pooled_column_and_same_names_stay_apart(tmp_path):
    first, second = tmp_path / "x" / "set.jsonl", tmp_path / "y" / "set.jsonl"
    columns = by_set([(first, _run([1], [])), (second, _run([None], []))])["columns"]
    assert list(columns) == [str(first), str(second)]
    assert columns[str(first)]["abstention_rate"] is None  # no unanswerable question


@pytest.mark.parametrize("path, blind", [
    ("eval/blind/2026-12-05-a.jsonl", True), ("eval/questions.jsonl", False), ("blind/a.jsonl", False),
    ("eval/blind/old/a.jsonl", False),
])
def test_blind_sets_are_the_files_under_eval_blind(path, blind):
    assert is_blind(Path(path)) is blind
