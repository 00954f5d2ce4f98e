"""The 评测 tab's report is read by people: its 政策匹配 section names companies and policies in Chinese."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.evaluation.run import evaluate_matching
from bot.evaluation.user_report import render_chinese
from bot.matching.rules import load_corpus_rules

ROOT = Path(__file__).resolve().parents[2]


def test_the_matching_section_names_profiles_policies_and_verdicts_in_chinese(tmp_path):
    expected = yaml.safe_load((ROOT / "eval/profile_verdicts.yaml").read_text(encoding="utf-8"))
    first = next(iter(expected))
    rule, status = next(iter(expected[first]["verdicts"].items()))
    wrong = "eligible" if status != "eligible" else "not_eligible"
    expected[first]["verdicts"][rule] = wrong  # one deliberate mismatch, so the table of them is drawn
    changed = tmp_path / "verdicts.yaml"
    changed.write_text(yaml.safe_dump(expected, allow_unicode=True), encoding="utf-8")
    rules = load_corpus_rules(ROOT / "corpus").rules
    matching = evaluate_matching(rules, ROOT / "eval/profiles", changed)
    section = render_chinese({"matching": matching}).split("## 政策匹配")[1]
    assert "示例·" in section and {r.id: r.name for r in rules}[rule] in section
    assert not re.search(r"\.yaml|eligible|needs_info|[a-z]+-[a-z]+", section), section
