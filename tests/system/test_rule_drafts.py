"""Rules drafted for a new policy: written at ingest, never matched until an admin accepts them.

The ingest is the real CLI (`policybot ingest`, hash embedder) or the real upload handler; review goes
through the 文档管理 panel's handlers (bot/web/drafts_tab.py); matching through PolicyBot.match."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import gradio as gr
import pytest
import yaml

from bot.cli import main
from bot.matching.profile import parse_profile
from bot.service import PolicyBot
from bot.settings import Settings
from bot.web.admin import DocumentAdmin
from bot.web.drafts_tab import DraftReview
from tests.web.test_admin import TOKEN, no_progress, upload_file

ROOT = Path(__file__).resolve().parents[2]
SUBSIDY = (
    "标题: 丁市企业研发奖励办法\n成文日期: 2025-02-01\n\n丁市企业研发奖励办法\n\n"
    "第一条 为鼓励企业研发，制定本办法。\n\n"
    "第二条 营业收入超过1000万元且技术合同成交额超过500万元的企业，给予不超过50万元奖励。\n\n"
    "第三条 对首次认定的国家高新技术企业，给予一次性奖励20万元。\n"
)


LEADERS = (
    "标题: 戊市领军企业奖励办法\n成文日期: 2025-03-01\n\n戊市领军企业奖励办法\n\n"
    "第一条 为培育领军企业，制定本办法。\n\n"
    "第二条 申请领军企业奖励的企业，须同时满足以下条件：\n（一）在本市注册的居民企业；\n"
    "（二）拥有核心知识产权的所有权；\n（三）申请前一年内未发生重大安全、重大质量事故；\n"
    "（四）位于国家级高新区；\n（五）设有市级以上研发机构。经审核符合条件的，给予一次性奖励30万元。\n\n"
    "第三条 从事国家限制或禁止行业的企业，不享受本办法规定的奖励。\n"
)


# a granting list, an exclusion naming the benefits it holds for (企业所得税优惠, not 本办法 or 本条) and a
# condition list of alternatives (工业企业…其他企业…)
TAX_RELIEF = (
    "标题: 己市企业所得税优惠办法\n成文日期: 2025-04-01\n\n己市企业所得税优惠办法\n\n"
    "第一条 企业的下列所得，可以免征、减征企业所得税：\n（一）从事农、林、牧、渔业项目的所得；\n"
    "（二）符合条件的技术转让所得。\n\n"
    "第二条 对营业收入超过1000万元的企业，给予一次性奖励10万元。\n\n"
    "第三条 企业同时从事适用不同企业所得税待遇的项目的，其优惠项目应当单独计算所得，并合理分摊企业的期间费用；"
    "没有单独计算的，不得享受企业所得税优惠。\n\n"
    "第四条 本办法所称小型微利企业，是指符合下列条件的企业：\n（一）工业企业，年度应纳税所得额不超过30万元；\n"
    "（二）其他企业，年度应纳税所得额不超过20万元。\n"
)

# what a status takes, said in clauses of their own: its definition, validity and cancellation
STATUS = (
    "标题: 庚市高新技术企业扶持办法\n成文日期: 2025-05-01\n\n庚市高新技术企业扶持办法\n\n"
    "第一条 本办法所称的高新技术企业是指：拥有核心自主知识产权，在中国境内注册的居民企业。\n\n"
    "第二条 通过认定的高新技术企业，其资格自颁发证书之日起有效期为三年。\n\n"
    "第三条 对高新技术企业，给予一次性奖励20万元。\n\n"
    "第四条 对研发投入强度超过5%的企业，给予不超过100万元补助。\n\n"
    "第五条 认定为高新技术企业须同时满足以下条件：\n（一）企业申请认定时须注册成立一年以上；\n"
    "（二）企业从事研发和相关技术创新活动的科技人员占企业当年职工总数的比例不低于10%。\n\n"
    "第六条 已认定的高新技术企业有下列行为之一的，由认定机构取消其高新技术企业资格：\n"
    "（一）在申请认定过程中存在严重弄虚作假行为的；\n（二）发生重大安全、重大质量事故或有严重环境违法行为的。\n"
)


def ingested(tmp_path, corpus: Path, monkeypatch, capsys, **documents: str) -> tuple[PolicyBot, str]:
    """corpus plus the documents (slug=text), ingested by the real CLI: a bot over it with the admin
    token, and what the CLI printed."""
    for slug, text in documents.items():
        (corpus / f"{slug.replace('_', '-')}.txt").write_text(text, encoding="utf-8")
    monkeypatch.setenv("POLICYBOT_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("POLICYBOT_EMBEDDER", "hash")
    assert main(["ingest"]) == 0
    return PolicyBot(Settings.from_env({}, index_dir=tmp_path / "index", corpus_dir=corpus, embedder="hash",
                                       admin_token=TOKEN, data_dir=tmp_path / "data")), capsys.readouterr().out


@pytest.fixture
def drafted(tmp_path, small_corpus, monkeypatch, capsys) -> tuple[PolicyBot, str]:
    """small_corpus plus SUBSIDY and LEADERS, ingested."""
    return ingested(tmp_path, small_corpus, monkeypatch, capsys, subsidy_d=SUBSIDY, leaders_e=LEADERS)


@pytest.fixture
def across(tmp_path, small_corpus, monkeypatch, capsys) -> PolicyBot:
    """small_corpus plus TAX_RELIEF and STATUS, ingested."""
    return ingested(tmp_path, small_corpus, monkeypatch, capsys, relief_f=TAX_RELIEF, status_g=STATUS)[0]


def drafts(bot: PolicyBot) -> Path:
    return bot.settings.corpus_dir / "rules" / "drafts"


def test_ingest_drafts_threshold_and_benefit_and_notes_what_fails_validation(drafted):
    bot, out = drafted
    plan = (drafts(bot) / "plan-a.yaml").read_text(encoding="utf-8")
    # 对研发投入强度超过5%的企业,给予不超过200万元补助: the threshold is the condition, the sum the benefit
    assert "field: rd_intensity" in plan and "op: '>'" in plan and "value: 5\n" in plan
    assert "amount: 不超过200万元" in plan
    assert "未通过校验" not in plan
    subsidy = (drafts(bot) / "subsidy-d.yaml").read_text(encoding="utf-8")
    assert "field: revenue_wan" in subsidy and "value: 1000\n" in subsidy
    # 技术合同成交额 is no fact of the vocabulary: written, with why it cannot load yet
    assert "# 未通过校验：" in subsidy and "技术合同成交额超过500万元" in subsidy
    # 对首次认定的国家高新技术企业，给予一次性奖励20万元: who qualifies is a yes/no condition
    assert "field: is_hightech\n    op: ==\n    value: true\n    wording: 首次认定的国家高新技术企业" in subsidy
    assert "amount: 20万元" in subsidy
    assert "规则草稿 subsidy-d：已起草规则 2 条，其中 1 条未通过校验" in out


def test_each_item_of_a_condition_list_becomes_a_yes_no_condition_with_its_polarity(drafted):
    bot, out = drafted
    text = (drafts(bot) / "leaders-e.yaml").read_text(encoding="utf-8")
    [rule] = yaml.safe_load(text)
    conditions = {(c["field"], c["value"]): c for c in rule["conditions"]}
    assert set(conditions) == {("resident_enterprise", True), ("owns_core_ip", True), ("major_incident_last_year", False),
                               ("zone_level", "national"), ("restricted_industry", False), ("待定", True)}
    # 未发生… is false; 国家级高新区 is a choice of zone_level; an item naming no fact is kept as its text
    # for the admin, and says why it cannot load
    assert conditions[("major_incident_last_year", False)]["clause"] == "leaders-e#第二条"
    assert conditions[("待定", True)]["wording"] == "设有市级以上研发机构"
    assert "# 未通过校验：conditions[4]（待定）的字段 待定 不是企业画像中的字段" in text
    # …的企业，不享受本办法规定的奖励 shuts that kind out of every benefit of the document, citing where
    assert conditions[("restricted_industry", False)]["clause"] == "leaders-e#第三条"
    assert rule["clauses"] == ["leaders-e#第二条", "leaders-e#第三条"] and rule["benefit"]["amount"] == "30万元"
    assert "规则草稿 leaders-e：已起草规则 1 条，其中 1 条未通过校验" in out


def test_a_mapped_condition_list_matches_only_who_meets_every_item(drafted):
    bot, _ = drafted
    review = DraftReview(DocumentAdmin(bot))
    [rule] = yaml.safe_load(review.open(TOKEN, "leaders-e"))
    rule["conditions"] = [c for c in rule["conditions"] if c["field"] != "待定"]  # the admin drops what no fact holds
    message, *_ = review.accept(TOKEN, "leaders-e", yaml.safe_dump([rule], allow_unicode=True))
    assert message.startswith("✓ 已接受 1 条规则")
    meets = {"resident_enterprise": True, "owns_core_ip": True, "major_incident_last_year": False,
             "restricted_industry": False, "zone": {"name": "戊市国家高新区", "level": "national"}}
    status = {name: next(v.status for v in bot.match(parse_profile(profile)) if v.rule_id == rule["id"])
              for name, profile in (("meets", meets), ("incident", {**meets, "major_incident_last_year": True}),
                                    ("restricted", {**meets, "restricted_industry": True}),
                                    ("provincial", {**meets, "zone": {"name": "戊市高新区", "level": "provincial"}}))}
    assert status == {"meets": "eligible", "incident": "not_eligible", "restricted": "not_eligible",
                      "provincial": "not_eligible"}


def test_a_draft_is_not_matched_until_accepted_through_the_panel(drafted):
    bot, _ = drafted
    profile = parse_profile({"rd_intensity": 6})
    assert not [v for v in bot.match(profile) if v.rule_id.startswith("plan-a")]
    review = DraftReview(DocumentAdmin(bot))
    picker, table = review.listing(TOKEN)
    assert picker["choices"] == ["leaders-e", "plan-a", "subsidy-d"] and "| plan-a | 2 | 0 |" in table
    text = review.open(TOKEN, "plan-a")
    message, *_ = review.accept(TOKEN, "plan-a", text)
    assert message.startswith("✓ 已接受 2 条规则")
    assert (bot.settings.corpus_dir / "rules" / "plan-a.yaml").is_file()
    assert not (drafts(bot) / "plan-a.yaml").exists()
    verdicts = {v.rule_id: v for v in bot.match(profile)}
    assert verdicts["plan-a-1"].status == "eligible" and verdicts["plan-a-1"].amount == "不超过200万元"
    assert bot.rule_set().refused == ()


def test_an_invalid_edit_is_refused_and_both_files_stay_as_they_were(drafted):
    bot, _ = drafted
    review = DraftReview(DocumentAdmin(bot))
    draft = drafts(bot) / "plan-a.yaml"
    before = draft.read_bytes()
    wrong = before.decode().replace("op: '>'", "op: '<'")  # the clause says 超过, not 低于
    with pytest.raises(gr.Error, match=r"未接受：规则 plan-a-1：conditions\[0\]（rd_intensity）的 op < 与措辞"):
        review.accept(TOKEN, "plan-a", wrong)
    with pytest.raises(gr.Error, match="未接受：.*YAML 无法解析"):
        review.accept(TOKEN, "plan-a", "- id: [")
    # a draft still failing validation cannot be accepted as it stands either
    with pytest.raises(gr.Error, match="未接受：规则 subsidy-d-1：.*待定 不是企业画像中的字段"):
        review.accept(TOKEN, "subsidy-d", review.open(TOKEN, "subsidy-d"))
    assert draft.read_bytes() == before
    assert not (bot.settings.corpus_dir / "rules" / "plan-a.yaml").exists()
    assert sorted(p.name for p in drafts(bot).iterdir()) == ["leaders-e.yaml", "plan-a.yaml", "subsidy-d.yaml"]


def test_the_panel_needs_the_token_and_a_listed_draft(drafted):
    bot, _ = drafted
    review = DraftReview(DocumentAdmin(bot))
    with pytest.raises(gr.Error, match="管理口令不正确"):
        review.listing("wrong")
    with pytest.raises(gr.Error, match="管理口令不正确"):
        review.discard("wrong", "plan-a")
    with pytest.raises(gr.Error, match="请先选择一个规则草稿"):
        review.accept(TOKEN, "../plan-a", "")
    message, *_ = review.discard(TOKEN, "plan-a")
    assert message == "已丢弃草稿 plan-a。" and not (drafts(bot) / "plan-a.yaml").exists()


def test_a_new_ingest_keeps_an_edited_draft(drafted):
    bot, _ = drafted
    draft = drafts(bot) / "plan-a.yaml"
    draft.write_text(draft.read_text(encoding="utf-8") + "# 已核对\n", encoding="utf-8")
    (bot.settings.corpus_dir / "plan-a.txt").write_text(
        (bot.settings.corpus_dir / "plan-a.txt").read_text(encoding="utf-8") + "\n(四)附则。本办法自发布之日起施行。\n",
        encoding="utf-8")
    assert main(["ingest"]) == 0
    assert draft.read_text(encoding="utf-8").endswith("# 已核对\n")


@pytest.mark.slow
def test_an_uploaded_policy_gets_a_draft(tmp_path, small_corpus):
    bot = PolicyBot(Settings.from_env({}, index_dir=tmp_path / "index", corpus_dir=small_corpus, embedder="hash",
                                      admin_token=TOKEN, data_dir=tmp_path / "data"))
    bot.ingest()
    summary, _ = DocumentAdmin(bot).upload(TOKEN, [upload_file(bot, "丁市研发奖励.txt", SUBSIDY.encode())], no_progress)
    assert "已导入" in summary and "规则草稿 丁市研发奖励：已起草规则 2 条" in summary
    assert (small_corpus / "rules" / "drafts" / "丁市研发奖励.yaml").is_file()


def test_drafts_recover_most_hand_written_conditions_of_the_shipped_corpus():
    """Issue 17's bar: 70% of ALL the hand-written conditions, yes/no ones included, not only thresholds."""
    out = subprocess.run([sys.executable, "eval/drafts_recall.py"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    shipped = out.split("\n\n")[0]
    found, total = map(int, re.search(r"all conditions recovered: (\d+)/(\d+)", shipped).groups())
    assert total >= 40 and found / total >= 0.7, out
    found, total = map(int, re.search(r"threshold conditions recovered: (\d+)/(\d+)", shipped).groups())
    assert found / total >= 0.9, out


def by_clause(bot: PolicyBot, slug: str) -> dict[str, dict]:
    """The drafts of a document by the clause (and list item) their name starts with: 第一条（二）."""
    rules = yaml.safe_load((drafts(bot) / f"{slug}.yaml").read_text(encoding="utf-8"))
    return {rule["name"].split("：")[0]: rule for rule in rules}


def conditions(rule: dict) -> set[tuple]:
    return {(c["field"], c["value"], c["clause"].split("#")[1]) for c in rule.get("conditions", [])}


def test_each_item_of_a_granting_list_is_a_draft_and_an_exclusion_holds_for_the_benefits_it_names(across):
    rules = by_clause(across, "relief-f")
    # 企业的下列所得，可以免征、减征企业所得税：…（二）符合条件的技术转让所得: the item is who qualifies;
    # 没有单独计算的，不得享受企业所得税优惠 (第三条) holds for this tax relief, not for 第二条's cash reward;
    # item （一） names no fact of the vocabulary and drafts nothing
    assert set(rules) == {"第一条（二）", "第二条", "第四条"}
    relief = rules["第一条（二）"]
    assert relief["benefit"]["text"] == "企业的下列所得，可以免征、减征企业所得税：符合条件的技术转让所得"
    assert conditions(relief) == {("has_tech_transfer_income", True, "第一条"),
                                  ("preferential_income_separate", True, "第三条")}
    assert relief["clauses"] == ["relief-f#第一条", "relief-f#第三条"]
    assert conditions(rules["第二条"]) == {("revenue_wan", 1000, "第二条")}
    # （一）工业企业，…（二）其他企业，…: alternatives, so being an industrial enterprise is no condition
    assert "industrial_enterprise" not in {field for field, _, _ in conditions(rules["第四条"])}


def test_what_a_document_says_of_a_status_elsewhere_holds_for_the_drafts_relying_on_it(across):
    rules = by_clause(across, "status-g")
    # 对高新技术企业，给予…: the definition (第一条), the three-year validity (第二条) and the grounds
    # for cancelling the status (第六条) are its conditions too
    assert conditions(rules["第三条"]) == {
        ("is_hightech", True, "第三条"), ("owns_core_ip", True, "第一条"), ("resident_enterprise", True, "第一条"),
        ("hightech_certificate_valid", True, "第二条"), ("hightech_revocation_grounds", False, "第六条")}
    # a benefit not relying on the status gets none of them
    assert conditions(rules["第四条"]) == {("rd_intensity", 5, "第四条")}
    # becoming one (认定为高新技术企业) takes the definition, not a certificate it cannot hold yet
    assert {(f, v, c) for f, v, c in conditions(rules["第五条"]) if c != "第五条"} == {
        ("owns_core_ip", True, "第一条"), ("resident_enterprise", True, "第一条")}


def test_accepted_drafts_turn_down_who_fails_a_condition_set_in_another_clause(across):
    review = DraftReview(DocumentAdmin(across))
    ids = {}
    for slug, clause in (("status-g", "第三条"), ("relief-f", "第一条（二）")):
        ids[slug] = by_clause(across, slug)[clause]["id"]
        message, *_ = review.accept(TOKEN, slug, review.open(TOKEN, slug))
        assert message.startswith("✓ 已接受")
    certified = {"is_hightech": True, "owns_core_ip": True, "resident_enterprise": True,
                 "hightech_certified_years": 1, "hightech_revocation_grounds": False}
    transfers = {"tech_transfer_income_wan": 300, "preferential_income_separate": True}
    cases = {"certified": ("status-g", certified), "expired": ("status-g", {**certified, "hightech_certified_years": 4}),
             "revoked": ("status-g", {**certified, "hightech_revocation_grounds": True}),
             "separate": ("relief-f", transfers),
             "not separate": ("relief-f", {**transfers, "preferential_income_separate": False})}
    status = {name: next(v.status for v in across.match(parse_profile(profile)) if v.rule_id == ids[slug])
              for name, (slug, profile) in cases.items()}
    assert status == {"certified": "eligible", "expired": "not_eligible", "revoked": "not_eligible",
                      "separate": "eligible", "not separate": "not_eligible"}
