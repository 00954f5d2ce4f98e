"""`policybot eval` scores what ships: the abstention score is that of the evidence the answer was decided on."""

import json
from pathlib import Path

import pytest

from bot.answering.abstention import AbstentionModel
from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def corpus_env(corpus_index_dir, monkeypatch):
    monkeypatch.setenv("POLICYBOT_INDEX_DIR", str(corpus_index_dir))
    monkeypatch.chdir(ROOT)  # the default --profiles and --expected are relative to the checkout


@pytest.mark.slow
def test_a_question_the_second_look_answers_is_scored_by_that_look(corpus_env, tmp_path, capsys):
    """高企 is not the corpus's word: read as asked the evidence says "no basis", read as 高新技术企业
    it answers. The score reported must be the one the answer rested on, below the threshold."""
    questions = tmp_path / "q.jsonl"
    question = {"id": "c1", "question": "高企申报是在哪个网站上提交？", "answerable": True,
                "gold_quotes": ["高新技术企业认定管理工作网"], "category": "procedure"}
    questions.write_text(json.dumps(question, ensure_ascii=False) + "\n", encoding="utf-8")

    assert main(["eval", "--questions", str(questions), "--mode", "bm25", "--json", "--quiet"]) == 0
    (scored,) = json.loads(capsys.readouterr().out)["abstention_scores"]

    assert scored["abstained"] is False
    assert scored["score"] < AbstentionModel.load().threshold
