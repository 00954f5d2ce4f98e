"""`policybot match` as a user runs it: from a folder of their own, before any `ingest` (citation lines
come from the rules and the corpus files), judged on the day `--as-of` names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMALL_FIRM = {"name": "贵阳示例小型软件有限公司", "province": "贵州", "industry": "软件和信息技术服务业",
              "industrial_enterprise": False, "restricted_industry": False,
              "taxable_income_wan": 25, "staff_quarterly_avg": 60, "total_assets_wan": 900}


def policybot_match(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """The real CLI in `cwd`, with an index folder that does not exist."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POLICYBOT_INDEX_DIR": str(cwd / "no-index")}
    return subprocess.run([sys.executable, "-m", "bot.cli", "match", *args], capture_output=True, text=True,
                          check=False, cwd=cwd, env=env, timeout=120, stdin=subprocess.DEVNULL)


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    """A folder with no corpus/, no rules and no index in it; the profile lives there."""
    (tmp_path / "p.json").write_text(json.dumps(SMALL_FIRM, ensure_ascii=False), encoding="utf-8")
    return tmp_path


def test_match_runs_from_any_folder_without_an_index_and_cites_from_the_corpus(elsewhere):
    done = policybot_match(elsewhere, "--profile", "p.json", "--as-of", "2027-12-31")
    assert done.returncode == 0, done.stderr
    assert "【符合条件】小型微利企业减按20%税率征收企业所得税" in done.stdout
    assert "依据：《中华人民共和国企业所得税法》（中华人民共和国主席令第六十三号）第二十八条" in done.stdout
    assert "《高新技术企业认定管理办法》（国科发火〔2016〕32号）第十一条" in done.stdout
    assert not (elsewhere / "no-index").exists()  # nothing was built


def test_as_of_after_the_amendment_ends_judges_by_the_clause_thresholds(elsewhere):
    before = json.loads(policybot_match(elsewhere, "--profile", "p.json", "--json", "--as-of", "2027-12-31").stdout)
    after = json.loads(policybot_match(elsewhere, "--profile", "p.json", "--json", "--as-of", "2028-01-01").stdout)
    small = [next(v for v in run["verdicts"] if v["rule_id"] == "small-low-profit-enterprise-rate")
             for run in (before, after)]
    assert [v["status"] for v in small] == ["eligible", "eligible"]
    assert "5%" in small[0]["current_benefit"] and small[1]["current_benefit"] is None
    wordings = [c["wording"] for c in small[1]["conditions"]]
    assert "其他企业，从业人数不超过80人" in wordings and "年度应纳税所得额不超过30万元" in wordings
    assert small[1]["citation_lines"][1] == "《中华人民共和国企业所得税法实施条例》（中华人民共和国国务院令第512号）第九十二条"


@pytest.mark.parametrize("day", ["2028-02-30", "2028/01/01", "明年", "20280101", ""])
def test_a_bad_as_of_is_one_chinese_line(elsewhere, day):
    done = policybot_match(elsewhere, "--profile", "p.json", "--as-of", day)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("错误：--as-of 应为有效日期") and done.stderr.count("\n") == 1, done.stderr
