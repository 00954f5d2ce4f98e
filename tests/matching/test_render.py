"""Verdicts as people read them: a condition whose value was given but whose threshold waits on another
fact, and the policies an enterprise is closest to, shown alike by the chat, the tab and `policybot match`."""

from __future__ import annotations

import json
from datetime import date

from bot.matching.engine import match
from bot.matching.profile import parse_profile
from bot.matching.render import condition_line

from .test_match_cli import SMALL_FIRM, policybot_match

SMALL_LOW_PROFIT = "small-low-profit-enterprise-rate"


def test_a_given_value_whose_threshold_waits_on_another_fact_is_shown_with_what_is_missing(by_id):
    # After 2027 the statutory bands apply: 工业企业 100人 / 其他 80人; whether it is industrial is unknown.
    profile = parse_profile({"province": "贵州", "staff_quarterly_avg": 60, "total_assets_wan": 900, "taxable_income_wan": 25,
                             "restricted_industry": False})
    verdict, = match(profile, [by_id[SMALL_LOW_PROFIT]], today=date(2028, 1, 2))
    lines = [condition_line(c) for c in verdict.conditions if c.field in ("staff_quarterly_avg", "total_assets_wan")]
    assert lines[0].startswith("? 从业人数（全年季度平均值）：60人（还需了解：工业企业） —— 条件：")
    assert lines[1].startswith("? 资产总额（全年季度平均值）：900万元（还需了解：工业企业） —— 条件：")
    assert not any("未提供" in line for line in lines)


def test_match_lists_the_closest_policies_in_its_text_and_json(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps({**SMALL_FIRM, "staff_quarterly_avg": 320}, ensure_ascii=False), encoding="utf-8")
    text = policybot_match(tmp_path, "--profile", "p.json", "--as-of", "2026-12-06")
    assert text.returncode == 0, text.stderr
    tail = text.stdout.split("最接近的政策（差距最小的不符合项）：")[1]
    assert "- 小型微利企业减按20%税率征收企业所得税：从业人数（全年季度平均值）需不超过300人，目前320人，超出20人" in tail
    as_json = policybot_match(tmp_path, "--profile", "p.json", "--as-of", "2026-12-06", "--json")
    near = json.loads(as_json.stdout)["closest"]
    assert near[0] == {"name": "小型微利企业减按20%税率征收企业所得税", "distance": "从业人数（全年季度平均值）需不超过300人，目前320人，超出20人"}
