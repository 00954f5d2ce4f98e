"""eval/check_questions.py, run as a script on small sets: DESIGN.md's categories, superseded figures
checked against corpus/amendments.yaml, blind sets' own ids, and nothing of a blind set printed."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTDATED = "按照研究开发费用的50%加计扣除"  # 实施条例 第九十五条, amended: 100% since 2023 (财政部 税务总局公告2023年第7号)
IN_FORCE = "给予不超过1000万元省级重大科技成果转化项目支持"  # a clause no later document changed


def line(qid, category="superseded", gold=OUTDATED, mention=("100%",), **extra):
    return {"id": qid, "question": extra.pop("question", "研发费用现在能加计扣除多少？"), "answerable": True,
            "gold_quotes": [gold], "must_mention": list(mention), "category": category, "note": "n"}


def check(path: Path, lines: list[dict]) -> subprocess.CompletedProcess:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in lines) + "\n", encoding="utf-8")
    return subprocess.run([sys.executable, str(ROOT / "eval" / "check_questions.py"), str(path)], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)


def test_superseded_and_multi_doc_questions_pass_with_the_current_figure_from_the_amendment(tmp_path):
    done = check(tmp_path / "set.jsonl", [
        line("bb001", mention=("100%", "财政部 税务总局公告2023年第7号")),  # the note's figure, the amending document
        line("bb002", mention=("100%", "50%")),  # the outdated figure may be named beside it, from the clause
        line("bc01", category="multi_doc", gold=IN_FORCE, mention=("1000万元",), question="成果转化最多支持多少？"),
    ])
    assert done.returncode == 0, done.stdout
    assert done.stdout.rstrip().endswith("PASS: all hard checks passed")


def test_a_superseded_question_without_the_current_figure_or_an_amended_clause_fails_by_name(tmp_path):
    done = check(tmp_path / "set.jsonl", [
        line("bb001", mention=("50%",)),  # only the clause's own, outdated figure
        line("bb002", gold=IN_FORCE, mention=("1000万元",)),  # the clause was never amended
    ])
    assert done.returncode == 1
    assert "bb001: superseded without a must_mention from the amendment" in done.stdout
    assert "bb002: superseded without an amended gold clause" in done.stdout


def test_development_ids_are_still_checked_for_q001_order(tmp_path):
    done = check(tmp_path / "set.jsonl", [line("q001", mention=("100%",)), line("q003", mention=("100%",))])
    assert done.returncode == 1 and "ids: not q001, q002, ... in file order" in done.stdout


def test_a_blind_set_failing_a_check_shows_only_its_id_and_the_checks_name(tmp_path):
    secret = line("bb007", category="amount", gold=IN_FORCE, mention=("2000万元",), question="保密的问题文本？")
    done = check(tmp_path / "eval" / "blind" / "2026-12-07-c.jsonl", [line("bb001"), secret])
    assert done.returncode == 1
    assert "  bb007: must_mention not in gold quote's file\n" in done.stdout and "FAIL" in done.stdout
    for text in ("保密的问题文本", "2000万元", IN_FORCE, OUTDATED):
        assert text not in done.stdout + done.stderr
