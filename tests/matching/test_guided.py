"""The chat's guided policy matching, through PolicyBot.ask as the web chat will call it."""

import re
from datetime import date

import pytest

from bot.answering.pipeline import Conversation
from bot.answering.question import extract_facts
from bot.errors import ProfileError
from bot.matching.groups import question_groups, read_group
from bot.matching.guided import (
    GuidedMatch,
    field_value,
    reply_fields,
    seed,
    step,
    wants_matching,
)
from bot.matching.profile import parse_profile
from bot.text.facts import facts

BASE = {"as_of": "2026-12-06"}


@pytest.mark.parametrize(
    "message,wanted",
    [("我们公司能享受哪些政策？", True), ("有什么政策适合我们", False), ("适合我们的政策有哪些", True), ("帮我做个政策匹配", True), ("研发费用加计扣除比例是多少", False)],
)
def test_a_matching_request_is_recognised(message, wanted):
    assert wants_matching(message) is wanted


@pytest.mark.parametrize("name,reply,wanted", [
    ("revenue_wan", "200", {"revenue_wan": 200}),  # a bare figure is in the unit asked
    ("tech_transfer_income_wan", "0", {"tech_transfer_income_wan": 0}),
    ("revenue_wan", "1.5亿", {"revenue_wan": 15000}),
    ("revenue_wan", "大概2000万元吧", {"revenue_wan": 2000}),
    ("rd_intensity", "15%", {"rd_intensity": 15}),
    ("employees", "两百人左右", {"employees": 200}),
    ("taxable_income_wan", "亏损320万", {"taxable_income_wan": -320}),
    ("tech_transfer_income_wan", "没有", {"tech_transfer_income_wan": 0}),
    ("registered_years", "18个月", {"registered_years": 1.5}),
    ("registered_years", "2019年3月成立的", {"registration_date": date(2019, 3, 31)}),  # the latest day it allows
    ("talents", "有一位63岁的德国专家", {"talents": [{"age": 63, "nationality": "德国"}]}),
    ("talents", "没有", {"talents": []}),
    ("excluded_industry", "不属于", {"excluded_industry": False}),
    ("is_hightech", "有，证书2023年拿的", {"is_hightech": True}),
    ("needs_talent_housing", "需要", {"needs_talent_housing": True}),
    ("needs_talent_housing", "不需要", {"needs_talent_housing": False}),
    ("restricted_industry", "不是", {"restricted_industry": False}),
    ("has_unrecovered_losses", "我们没有", {"has_unrecovered_losses": False}),
    ("zone", "在贵阳国家高新区", {"zone": {"name": "在贵阳国家高新区", "level": "national"}}),
    ("zone", "不在高新区", {"zone": {"level": "none"}}),  # answered: not left unknown
    ("province", "遵义，在贵阳国家高新区有分部", {"province": "贵州", "zone": {"name": "遵义，在贵阳国家高新区有分部",
                                                                        "level": "national"}}),
    ("province", "贵州省遵义市，不在高新区", {"province": "贵州", "zone": {"level": "none"}}),
    ("ip", "发明专利2件，软著15件", {"ip": {"invention_patents": 2, "software_copyrights": 15}}),
    ("ip", "没有", {"ip": {}}),
    ("listing_status", "正在准备上市", {"listing_status": "preparing"}),
    ("listing_status", "没有上市计划", {"listing_status": "unlisted"}),
    ("zone", "贵阳高新区", {"zone": {"name": "贵阳高新区", "level": "national"}}),  # national by the gazetteer
])
def test_ordinary_replies_become_profile_values(name, reply, wanted):
    assert reply_fields(name, reply) == wanted
    parse_profile({**BASE, **wanted})  # and the profile takes them


@pytest.mark.parametrize("name,reply", [("revenue_wan", "挺多的"), ("is_hightech", "这个嘛"), ("province", "是")])
def test_a_reply_without_the_fact_is_refused_in_chinese(name, reply):
    with pytest.raises(ProfileError) as caught:
        reply_fields(name, reply)
    assert re.search(r"[\u4e00-\u9fff]", caught.value.reason)


def test_an_unreadable_reply_is_asked_again_in_chinese_without_field_keys(by_id):
    guided, answers = run([by_id["gz-star-market-listing-cultivation"]], "0.05",
                          data={"province": "贵州", "zone": {"level": "national"}, "revenue_wan": 40000,
                                "is_tech_enterprise": True, "listing_status": "unlisted"})
    assert guided.pending == "rd_intensity" and answers[-1].text.startswith("没能读懂这个回答：研发投入强度：应填百分数")
    assert not re.search(r"[A-Za-z_]{4,}", answers[-1].text)


def run(rules, *replies: str, opener: str = "我们公司能享受哪些政策？", data=None):
    """A guided exchange over `rules`: the answers and the state after each reply."""
    guided = GuidedMatch(data=dict(data or {}))
    answers = [step(guided, opener, {}, rules, str)]
    for reply in replies:
        answers.append(step(guided, reply, {}, rules, str))
    return guided, answers


def test_it_asks_first_the_related_facts_that_settle_most_verdicts_together(rules):
    # In a Guizhou zone with nothing else known: the zone's four project policies each wait on a fact of
    # their own; asked together as one checklist they settle four verdicts with one question.
    guided, answers = run(rules, data={"province": "贵州", "zone": {"level": "national"}, "name": "贵阳示例有限公司"})
    assert guided.pending == "projects" and len(guided.pending_facts) == 4
    assert answers[0].text.endswith("\n".join(f"{i}. {question_groups()['projects'].items[n]}"
                                               for i, n in enumerate(guided.pending_facts, 1)))


def test_a_single_fact_is_asked_alone_when_it_is_the_only_one_of_its_group_that_matters(by_id):
    rules = [by_id["gz-new-rd-institution"], by_id["gz-major-st-achievement-conversion"]]  # 不超过1000万元
    guided, answers = run(rules, data={"province": "贵州", "zone": {"level": "national"}})
    assert guided.pending == "has_major_achievement_project"  # of two single facts, the bigger benefit first
    assert answers[0].text.endswith(facts()["has_major_achievement_project"].question)


def test_outside_any_zone_no_zone_policy_is_asked_about(rules):
    guided = GuidedMatch(data={"province": "贵州", **BASE})
    step(guided, "我们公司能享受哪些政策？", {}, rules, str)
    while guided.pending:
        step(guided, "不在高新区" if guided.pending == "zone" else "不清楚", {}, rules, str)
    zone_facts = {"needs_talent_housing", "has_hightech_industry_project", "is_leading_enterprise", "is_high_growth",
                  "ip", "talents"}
    after = guided.asked[guided.asked.index("zone") + 1:]  # once the zone is known to be none
    assert guided.data["zone"] == {"level": "none"} and after and not zone_facts & set(after)


@pytest.mark.parametrize("group,names,reply,values,unknown,unread", [
    ("finance", 3, "1.2亿，260万，700万", {"revenue_wan": 12000, "taxable_income_wan": 260, "rd_expense_wan": 700}, (), ()),
    ("finance", 3, "营收1.2亿，研发700万", {"revenue_wan": 12000, "rd_expense_wan": 700}, (), ("taxable_income_wan",)),
    ("finance", 3, "1.2亿，第2个不清楚，700万", {"revenue_wan": 12000, "rd_expense_wan": 700}, ("taxable_income_wan",), ()),
    ("finance", 3, "1.2亿，亏损50万", {"revenue_wan": 12000, "taxable_income_wan": -50}, (), ("rd_expense_wan",)),
    ("finance", 3, "不清楚", {}, ("revenue_wan", "taxable_income_wan", "rd_expense_wan"), ()),
    ("finance", 3, "1.2亿，不清楚，700万", {"revenue_wan": 12000, "rd_expense_wan": 700}, ("taxable_income_wan",), ()),
    ("finance", 3, "营收1.2亿，研发不清楚", {"revenue_wan": 12000}, ("rd_expense_wan",), ("taxable_income_wan",)),
    ("finance", 3, "1.2亿，挺多的，700万", {"revenue_wan": 12000, "rd_expense_wan": 700}, (), ("taxable_income_wan",)),
    ("shares", 2, "4.6%，4.8%", {"rd_intensity": 4.6, "rd_share_3y": 4.8}, (), ()),
    ("status", 4, "1 3", {"is_hightech": True, "is_st_sme": False, "is_high_growth": True,
                         "is_leading_enterprise": False}, (), ()),
    ("status", 4, "13", {"is_hightech": True, "is_st_sme": False, "is_high_growth": True,
                        "is_leading_enterprise": False}, (), ()),
    ("status", 4, "都没有", dict.fromkeys(["is_hightech", "is_st_sme", "is_high_growth", "is_leading_enterprise"], False),
     (), ()),
    ("status", 3, "1，第2个不清楚", {"is_hightech": True, "is_high_growth": False}, ("is_st_sme",), ()),
    ("status", 3, "第2个不清楚", {"is_hightech": False, "is_high_growth": False}, ("is_st_sme",), ()),
    ("status", 2, "都是", {"is_hightech": True, "is_st_sme": True}, (), ()),
])
def test_a_reply_to_related_facts_is_read_item_by_item(group, names, reply, values, unknown, unread):
    group = question_groups()[group]
    read = read_group(group, tuple(group.items)[:names], reply, field_value)
    assert (read.values, read.unknown, read.unread) == (values, unknown, unread)


@pytest.mark.parametrize("group,reply", [("finance", "这个嘛"), ("status", "有高企证书"), ("status", "7")])
def test_a_reply_that_answers_no_item_is_refused_in_chinese(group, reply):
    names = tuple(question_groups()[group].items)[:2]
    with pytest.raises(ProfileError) as caught:
        read_group(question_groups()[group], names, reply, field_value)
    assert re.search(r"[\u4e00-\u9fff]", caught.value.reason) and not re.search(r"[A-Za-z_]{4,}", caught.value.reason)


def test_a_labelled_reply_to_a_group_question_is_a_reply_not_a_new_question(rules):
    chat = Conversation(guided=GuidedMatch(data={"province": "贵州"}))
    step(chat.guided, "我们公司能享受哪些政策？", {}, rules, str)
    chat.guided.pending, chat.guided.pending_facts = "finance", tuple(question_groups()["finance"].items)
    reply = "营收2.4亿，应纳税所得额1200万，研发费用1100万，技术转让所得0"
    assert len(reply) > 24 and chat.replying_to_guided(reply)
    step(chat.guided, reply, {}, rules, str)
    assert {k: chat.guided.data[k] for k in question_groups()["finance"].items} == {
        "revenue_wan": 24000, "taxable_income_wan": 1200, "rd_expense_wan": 1100, "tech_transfer_income_wan": 0}


def test_a_fact_not_read_from_a_group_reply_is_asked_again_alone_later(by_id):
    guided = GuidedMatch(data={"province": "贵州"})
    rules = [by_id["small-low-profit-enterprise-rate"]]
    step(guided, "我们公司能享受哪些政策？", {}, rules, str)
    assert guided.pending == "scale" and guided.pending_facts == ("staff_quarterly_avg", "total_assets_wan")
    warning = step(guided, "260，挺多的", {}, rules, str).text
    assert warning.startswith("以下几项没能从回答中读出，稍后单独再问：资产总额") and guided.data["staff_quarterly_avg"] == 260
    asked = []
    while guided.pending:
        asked.append(guided.pending_facts)
        step(guided, "不清楚", {}, rules, str)
    assert ("total_assets_wan",) in asked


def test_it_stops_when_nothing_more_can_change_a_verdict(by_id):
    rules = [by_id["hitech-enterprise-tax-rate"], by_id["hitech-enterprise-annual-report"]]
    # The 15% rate also rests on the certificate's three years (第九条) and no ground of 第十九条.
    guided, answers = run(rules, "是", "1", "没有", data={"name": "贵阳示例软件有限公司"})  # a company: 第一条 is met
    assert guided.asked == ["is_hightech", "hightech_certified_years", "hightech_revocation_grounds"]
    assert guided.pending is None
    assert answers[-1].text.startswith("政策匹配结果") and "| 高新技术企业减按15%税率征收企业所得税 | ✔ 符合条件 |" in answers[-1].text


def test_dont_know_leaves_the_verdicts_open_says_what_to_find_out_and_is_not_asked_again(by_id):
    rules = [by_id["gz-ip-pledge-financing"], by_id["loss-carryforward-five-years"]]
    rule_of = {"ip": "高新区知识产权质押融资", "has_unrecovered_losses": "亏损结转弥补（最长五年）"}
    guided, answers = run(rules, "不清楚", "没有", data={"province": "贵州", "zone": {"level": "national"},
                                                              "sole_or_partnership": False})
    unknown, answered = guided.asked  # whichever was asked first got 不清楚
    assert {unknown, answered} == set(rule_of)
    result = answers[-1].text
    assert f"| {rule_of[unknown]} | ？ 需补充信息 |" in result and f"| {rule_of[answered]} | ？" not in result
    assert result.split("待查明")[1].strip().endswith(facts()[unknown].question)


def test_an_answered_no_is_never_asked_again_nor_listed_as_missing(by_id):
    rules = [by_id["gz-talent-housing"], by_id["gz-ip-pledge-financing"]]
    guided, answers = run(rules, "不在高新区", "结束", data={"province": "贵州"})
    result = answers[-1].text
    assert guided.asked == ["zone"] and facts()["zone"].question not in result
    assert "| 高新区人才用房 | ✘ 不符合条件 |" in result


def test_the_result_is_the_verdict_table_eligible_first(rules):
    guided, answers = run(rules, "结束", data={"province": "贵州", "is_hightech": True, "zone": {"level": "none"}})
    rows = [line for line in answers[-1].text.splitlines() if line.startswith("| ")]
    assert rows[0] == "| 政策 | 结论 | 条件（✓ 满足 ✗ 不满足 ? 待补充） | 支持内容 | 依据条款 |"
    order = [next(s for s in ("✔", "？", "✘") if f"| {s} " in row) for row in rows[1:]]
    assert order == sorted(order, key="✔？✘".index) and order[0] == "✔" and len(rows) == 1 + len(rules)


def test_the_chat_shows_the_table_as_markdown_with_every_cell_escaped():
    from bot.records import Answer
    from bot.web.format import answer_markdown

    text = "政策匹配结果：\n\n| 政策 | 结论 |\n|---|---|\n| <img src=x onerror=alert(1)> | ✔ 符合条件<br>[链接](javascript:x) |"
    shown = answer_markdown(Answer(question="q", text=text, abstained=False, intent="match"))
    assert "\n| 政策 | 结论 |\n|---|---|\n" in shown and "<br>" in shown
    assert "<img" not in shown and "&lt;img" in shown and "\\[链接\\]\\(javascript:x\\)" in shown


def test_facts_stated_in_a_question_seed_the_profile():
    facts = extract_facts("我们在贵阳国家高新区，成立两年，营收4个亿，研发投入占营收6%，外籍专家63岁")
    assert seed(facts) == {"revenue_wan": 40000.0, "rd_intensity": 6.0, "registered_years": 2.0,
                           "zone": {"name": "贵阳国家高新区", "level": "national"}, "talents": [{"age": 63}]}


@pytest.mark.slow
def test_matching_reuses_earlier_facts_asks_for_the_rest_and_lists_verdicts(corpus_bot):
    chat = Conversation()
    corpus_bot.ask("我们在贵阳国家高新区，研发投入占营收6%，营收4个亿", conversation=chat)
    first = corpus_bot.ask("我们公司能享受哪些政策？", conversation=chat)
    assert first.text.startswith("为判断贵公司能享受哪些政策")
    assert "营业收入" not in first.text and "研发投入" not in first.text  # already told
    asked = []
    for _ in range(12):
        if "政策匹配结果" in first.text:
            break
        question = first.text.splitlines()[-1]
        asked.append(question)
        reply = "是" if "是否" in question else "正在筹备上市" if "上市" in question else "跳过"
        first = corpus_bot.ask(reply, conversation=chat)
    else:
        first = corpus_bot.ask("直接看结果", conversation=chat)
    assert "政策匹配结果" in first.text
    assert "| 科技型企业科创板上市培育 | ✔ 符合条件 |" in first.text  # 6% > 5%, 4亿 > 3亿, in a zone
    assert "《关于推进全省高新技术产业开发区高质量发展的实施方案》" in first.text
    assert len(asked) == len(set(asked))  # never the same question twice


@pytest.mark.slow
def test_an_unreadable_reply_is_asked_again_and_a_new_question_leaves_the_exchange(corpus_bot):
    chat = Conversation()
    corpus_bot.ask("我们公司能享受哪些政策？", conversation=chat)
    assert chat.guided.pending == "tax"  # nothing known yet: the checklist every income tax rule waits on
    corpus_bot.ask("1", conversation=chat)  # 居民企业, a company
    assert chat.guided.pending == "province"  # then where the enterprise is
    again = corpus_bot.ask("是", conversation=chat)
    assert again.text.startswith("没能读懂这个回答") and chat.guided.pending == "province"
    answer = corpus_bot.ask("科技成果转化项目最多能拿多少支持？这个我也想问一下", conversation=chat)
    assert "1000万元" in answer.text and chat.guided is None
