"""Rule files an admin may edit in the corpus: a file whose rule the corpus does not bear out is
refused alone, named with its rule and field, while the other files' rules still match."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
PROFILE = ROOT / "eval" / "profiles" / "guiyang-software-hightech.yaml"


@pytest.fixture
def corpus_with_a_bad_rule_file(tmp_path) -> Path:
    """The shipped corpus with two rule files: hitech-enterprise.yaml as shipped, and tax.yaml whose
    taxable-income limit says 500 where the wording it quotes says 300."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("rules"))
    (corpus / "rules").mkdir()
    shutil.copy(CORPUS / "rules" / "hitech-enterprise.yaml", corpus / "rules")
    tax = (CORPUS / "rules" / "enterprise-income-tax.yaml").read_text(encoding="utf-8")
    assert "年度应纳税所得额不超过300万元" in tax
    (corpus / "rules" / "tax.yaml").write_text(tax.replace("value: 300", "value: 500", 1), encoding="utf-8")
    return corpus


@pytest.mark.slow
def test_a_bad_rule_file_is_refused_by_name_and_the_good_one_still_matches(
        corpus_with_a_bad_rule_file, corpus_index_dir, monkeypatch, capsys):
    monkeypatch.setenv("POLICYBOT_INDEX_DIR", str(corpus_index_dir))
    monkeypatch.setenv("POLICYBOT_CORPUS_DIR", str(corpus_with_a_bad_rule_file))
    assert main(["match", "--json", "--profile", str(PROFILE)]) == 0
    captured = capsys.readouterr()
    verdicts = json.loads(captured.out)["verdicts"]
    assert [v["rule_id"] for v in verdicts] == [
        "hitech-enterprise-recognition", "hitech-enterprise-tax-rate", "hitech-enterprise-annual-report"]
    assert verdicts[0]["status"] == "eligible"
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("注意：规则文件 tax.yaml 未载入："), lines[0]
    for named in ("small-low-profit-enterprise-rate", "conditions[1]（taxable_income_wan）", "500"):
        assert named in lines[0], lines[0]
