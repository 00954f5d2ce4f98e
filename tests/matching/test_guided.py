"""The chat's guided policy matching, through PolicyBot.ask as the web chat will call it."""

import pytest

from bot.answering.question import extract_facts
from bot.matching.guided import field_value, seed, wants_matching
from bot.answering.pipeline import Conversation


@pytest.mark.parametrize(
    "message,wanted",
    [("我们公司能享受哪些政策？", True), ("有什么政策适合我们", False), ("适合我们的政策有哪些", True), ("帮我做个政策匹配", True), ("研发费用加计扣除比例是多少", False)],
)
def test_a_matching_request_is_recognised(message, wanted):
    assert wants_matching(message) is wanted


def test_chat_replies_become_profile_values():
    assert field_value("zone", "在贵阳国家高新区") == {"name": "在贵阳国家高新区", "level": "national"}
    assert field_value("zone", "不在高新区") is None
    assert field_value("talents", "有一位63岁的德国专家") == [{"age": 63}]
    assert field_value("province", "贵州省") == "贵州"


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
    assert "科技型企业科创板上市培育" in first.text.split("? 还需补充信息")[0]  # 6% > 5%, 4亿 > 3亿, in a zone
    assert "依据：《关于推进全省高新技术产业开发区高质量发展的实施方案》" in first.text
    assert len(asked) == len(set(asked))  # never the same question twice


@pytest.mark.slow
def test_an_unreadable_reply_is_asked_again_and_a_new_question_leaves_the_exchange(corpus_bot):
    chat = Conversation()
    corpus_bot.ask("我们公司能享受哪些政策？", conversation=chat)
    assert chat.guided.pending == "province"  # nothing known yet: where the enterprise is comes first
    again = corpus_bot.ask("是", conversation=chat)
    assert again.text.startswith("没能读懂这个回答") and chat.guided.pending == "province"
    answer = corpus_bot.ask("科技成果转化项目最多能拿多少支持？这个我也想问一下", conversation=chat)
    assert "1000万元" in answer.text and chat.guided is None
