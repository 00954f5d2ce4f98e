"""The shipped rules, parsed straight from corpus/ (no index, no embedder), shared by the matcher's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.ingest.amendments import load_amendments
from bot.matching.rules import Rule, corpus_clauses, load_rules

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


@pytest.fixture(scope="module")
def rules(clauses, amendments) -> tuple[Rule, ...]:
    loaded = load_rules(CORPUS / "rules", clauses, amendments)
    assert loaded.refused == ()
    return loaded.rules


@pytest.fixture(scope="module")
def by_id(rules) -> dict[str, Rule]:
    return {r.id: r for r in rules}


@pytest.fixture(scope="module")
def clauses():
    return corpus_clauses(CORPUS)


@pytest.fixture(scope="module")
def amendments():
    return load_amendments(CORPUS / "amendments.yaml")
