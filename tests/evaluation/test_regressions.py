"""Regressions: a metric is flagged only when it moved the wrong way beyond the tolerance."""

from bot.evaluation.regressions import metric_changes


def test_regressions_are_flagged_beyond_the_tolerance_only():
    old = {"retrieval": {"hybrid": {"recall@5": 0.90, "mrr": 0.80, "p95_ms": 20.0, "questions": 90}},
           "answers": {"false_abstention_rate": 0.02, "citation_recall": 0.70}}
    new = {"retrieval": {"hybrid": {"recall@5": 0.895, "mrr": 0.70, "p95_ms": 45.0, "questions": 80}},
           "answers": {"false_abstention_rate": 0.05, "citation_recall": 0.75}}
    flags = {c.metric: c.mark for c in metric_changes(old, new)}
    assert flags["retrieval.hybrid.recall@5"] == ""  # -0.005: within the tolerance
    assert [c.metric for c in metric_changes(old, new) if c.worse] == [
        "retrieval.hybrid.mrr", "retrieval.hybrid.p95_ms", "answers.false_abstention_rate"]
    assert flags["answers.citation_recall"] == "▲"
    assert "retrieval.hybrid.questions" not in flags
    faster = {c.metric: c.mark for c in metric_changes(new, old)}  # the same change read backwards
    assert faster["retrieval.hybrid.p95_ms"] == "▲" and faster["answers.false_abstention_rate"] == "▲"
