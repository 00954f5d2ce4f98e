"""The guided matching exchange through the real chat handler (WebApp.chat over the shipped corpus):
three typical companies answer whatever is asked, in ordinary words (bare numbers, units, 是/没有/
不属于, one 不清楚 each), from a fixed fact sheet; after 8 questions they say 结束.

Measured on the 18 shipped rules: the Zunyi manufacturer outside any zone reaches a verdict on 14
(a 15th waits on the fact it answered 不清楚), the Guiyang high-tech-zone software company on 9, the
start-up on 8. 15 is out of reach for a company inside a zone with one fact per question: only
高新技术企业 (15% rate, annual report) and 亏损 (both carry-forward rules) settle two verdicts at once;
the zone's six policies (人才用房, 知识产权质押, 高成长, 产业项目, 龙头, 境外人才), the tax rules and the
conversion rules each wait on a fact of their own, and 高新技术企业认定 on nine. So 8 questions settle at
most 2 + 2 + 6 = 10 verdicts for the software company, whatever the order; the start-up (whose age
already rules out 认定) at most 10 less the question its 不清楚 used.
"""

from __future__ import annotations

import re

import pytest

from bot.text.facts import facts
from bot.web.app import WebApp

pytestmark = pytest.mark.slow

MAX_QUESTIONS = 8
# What all three would say alike; each sheet below adds its own figures and 不清楚.
ALIKE = {"restricted_industry": "不是", "excluded_industry": "不属于", "is_venture_capital": "不是", "talents": "没有",
         "converted_service_achievement": "没有", "major_incident_last_year": "没有", "resident_enterprise": "是",
         "is_tech_enterprise": "是", "owns_core_ip": "有", "has_major_achievement_project": "没有",
         "has_hightech_industry_project": "没有", "is_leading_enterprise": "不是", "has_reward_agreement": "没有"}
SOFTWARE_GUIYANG = {**ALIKE,  # a certified high-tech software company in 贵阳国家高新区
    "province": "贵州贵阳", "zone": "贵阳国家高新区", "is_hightech": "有，证书2023年拿的", "is_st_sme": "不是",
    "has_unrecovered_losses": "没有", "ip": "发明专利5件，软著30件", "revenue_wan": "2.4亿", "rd_intensity": "4.6%",
    "rd_expense_wan": "1100万", "employees": "180人", "st_staff": "60", "taxable_income_wan": "1200万",
    "total_assets_wan": "3亿", "listing_status": "正在筹备上市", "has_major_achievement_project": "不清楚",
    "needs_talent_housing": "需要", "is_high_growth": "是", "tech_transfer_income_wan": "0",
    "registered_years": "2016年成立", "in_key_hitech_field": "是", "rd_share_3y": "4.8%", "domestic_rd_share": "100%",
    "hightech_income_share": "85%", "innovation_assessment_ok": "能"}
MANUFACTURER_ZUNYI = {**ALIKE,  # a manufacturing SME in Zunyi, outside any high-tech zone
    "province": "贵州遵义", "zone": "不在高新区", "is_hightech": "不是", "is_st_sme": "是，去年入库的",
    "has_unrecovered_losses": "没有", "ip": "实用新型3件", "revenue_wan": "8000万元", "rd_intensity": "1.5%",
    "rd_expense_wan": "120", "employees": "260人", "st_staff": "25人", "taxable_income_wan": "150万",
    "total_assets_wan": "4000万元", "listing_status": "没有上市", "tech_transfer_income_wan": "不清楚",
    "registered_years": "12年", "in_key_hitech_field": "不清楚"}
STARTUP = {**ALIKE,  # an eight-month-old start-up in Guiyang's national high-tech zone, in loss
    "province": "贵阳", "zone": "在贵阳高新区，国家级的", "is_hightech": "没有", "is_st_sme": "不清楚",
    "has_unrecovered_losses": "有，今年亏了50万", "ip": "软著2件", "revenue_wan": "300万", "rd_intensity": "20%",
    "rd_expense_wan": "60万", "employees": "12", "st_staff": "8", "taxable_income_wan": "亏损50万",
    "total_assets_wan": "500万", "listing_status": "未上市", "needs_talent_housing": "不需要", "is_high_growth": "不是",
    "tech_transfer_income_wan": "0", "in_key_hitech_field": "是"}

COMPANIES = [
    ("我们是贵阳国家高新区的一家软件公司，能享受哪些政策？", SOFTWARE_GUIYANG, 9),
    ("我们是遵义的一家制造业中小企业，我们公司能享受哪些政策？", MANUFACTURER_ZUNYI, 14),
    ("我们是贵阳的一家初创公司，成立8个月，想看看能享受哪些政策？", STARTUP, 8),
]


def shown(markdown: str) -> str:
    """Chat markdown as read: backslash escapes and hard-break spaces dropped."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("  \n", "\n")


def exchange(app: WebApp, opener: str, sheet: dict[str, str]):
    """Answer each question from the sheet (at most MAX_QUESTIONS), then say 结束 if still asked."""
    by_question = {f.question: key for key, f in facts().items() if f.question}
    history, conversation, asked, replies = [], None, [], []
    message = opener
    while True:
        *_, (_, history, conversation, _) = WebApp.chat(app, message, history, conversation)
        reply = shown(history[-1]["content"])
        replies.append(reply)
        question = re.search(r"问题 \d+：(.+)$", reply.strip())
        if not question:
            return asked, replies
        asked.append(by_question[question.group(1)])
        message = sheet[asked[-1]] if len(asked) <= MAX_QUESTIONS else "结束"


def verdicts(table: str) -> list[str]:
    """The 结论 cell of each row of the verdict table."""
    rows = [line.split("|") for line in table.splitlines() if line.startswith("| ") and "|---" not in line]
    return [cells[2].strip() for cells in rows[1:]]


@pytest.mark.parametrize("opener,sheet,floor", COMPANIES, ids=["guiyang-software", "zunyi-manufacturer", "startup"])
def test_a_typical_company_reaches_verdicts_through_the_chat(corpus_bot, opener, sheet, floor):
    asked, replies = exchange(WebApp(corpus_bot), opener, sheet)
    result = replies[-1]
    status = verdicts(result)
    decided = sum("需补充信息" not in s for s in status)
    print(f"{opener[:12]}…: {decided}/{len(status)} decided after {min(len(asked), MAX_QUESTIONS)} questions: {asked}")
    assert len(status) == 18 and decided >= floor
    assert len(asked) == len(set(asked))  # nothing asked twice
    assert not any(r.startswith("没能读懂") for r in replies)  # every ordinary answer read, bare numbers too
    assert "| 政策 | 结论 |" in result and status == sorted(status, key=lambda s: "✔？✘".index(s[0]))
    for key in asked[:MAX_QUESTIONS]:
        if sheet[key] == "不清楚":  # answered 不清楚: what to find out is listed, nothing else answered is
            assert result.split("待查明")[1].count("？") == 1 and facts()[key].question in result.split("待查明")[1]
    answered = [k for k in asked[:MAX_QUESTIONS] if sheet[k] != "不清楚"]
    assert not any(facts()[k].question in result for k in answered)


def test_a_bare_number_is_an_answer_not_a_question_in_another_language(corpus_bot):
    app = WebApp(corpus_bot)
    _, history, conversation, _ = list(app.chat("我们公司能享受哪些政策？", [], None))[-1]
    conversation.guided.pending = "revenue_wan"
    _, history, conversation, _ = list(app.chat("200", history, conversation))[-1]
    assert conversation.guided.data["revenue_wan"] == 200 and "请用中文提问" not in history[-1]["content"]
