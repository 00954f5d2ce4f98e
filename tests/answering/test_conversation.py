"""Follow-ups: keeping the subject, switching it, and the asker's facts carried through the chat."""

import pytest

from bot.answering.conversation import Conversation

PLAN = "guizhou-hitech-zones-plan-2021"
REGS = "enterprise-income-tax-law-implementing-regulations-2024"
MEASURES = "hitech-enterprise-recognition-measures-2016-32"


def _ids(answer) -> list[str]:
    return [h.clause.id for h in answer.hits]


def test_follow_ups_keep_or_switch_the_subject_by_the_terms_they_name(small_corpus, fake_bot):
    """Wiring over the hash embedder: what decides is the terms a follow-up names, not its words."""
    fake_bot.ingest([small_corpus])
    chat = Conversation()
    fake_bot.ask("研发补助最多给多少？", conversation=chat)
    switched = fake_bot.ask("那知识产权质押融资呢？", conversation=chat)  # a subject the corpus knows
    assert _ids(switched)[0] == "plan-a#二.(三)"
    assert chat.turns[-1].query.startswith("那知识产权质押融资呢？")  # with the earlier question's form
    kept = fake_bot.ask("找哪个部门？", conversation=chat)  # no subject of its own
    assert "plan-a#二.(三)" in _ids(kept)[:2]
    assert "知识产权质押融资" in chat.turns[-1].query


@pytest.mark.slow
def test_a_follow_up_without_a_subject_of_its_own_asks_about_the_previous_subject(corpus_bot):
    """The conditions of 高新技术企业, not the rate clause again; 省级高新区 is where the asker is,
    not a new subject, so the work-permit clause stays first."""
    chat = Conversation()
    corpus_bot.ask("高新技术企业所得税税率是多少？", conversation=chat)
    assert _ids(corpus_bot.ask("那需要什么条件？", conversation=chat))[0] in {f"{MEASURES}#第十一条", f"{REGS}#第九十三条"}
    chat = Conversation()
    corpus_bot.ask("我们在安顺国家高新区，想聘一位64岁的德国工程师，工作许可的年龄能放宽吗？", conversation=chat)
    assert _ids(corpus_bot.ask("省级高新区也可以吗？", conversation=chat))[0] == f"{PLAN}#八.(十九)"


@pytest.mark.slow
@pytest.mark.parametrize(
    "first,follow_up,expected",
    [
        ("我们做锂电池正极材料，贵州哪个高新区主攻这一块？", "那大数据电子信息呢？", f"{PLAN}#五.(十)"),
        ("高新技术企业所得税税率是多少？", "那外国专家呢？", f"{PLAN}#八.(十九)"),
    ],
)
def test_a_follow_up_naming_a_new_subject_retrieves_on_it(corpus_bot, first, follow_up, expected):
    """Not 省大数据局's clause, nor the tax clauses of the earlier question: the clause about the new subject."""
    chat = Conversation()
    corpus_bot.ask(first, conversation=chat)
    assert _ids(corpus_bot.ask(follow_up, conversation=chat))[0] == expected


@pytest.mark.slow
def test_what_the_asker_said_earlier_holds_for_later_questions(corpus_bot):
    chat = Conversation()
    corpus_bot.ask("我们公司去年营收1.5亿，员工80人，在贵阳国家高新区。", conversation=chat)
    answer = corpus_bot.ask("高新技术企业认定对研发费用占比有什么要求？", conversation=chat)  # a question of its own
    assert _ids(answer)[0] == f"{MEASURES}#第十一条"
    facts = chat.turns[-1].analysis.facts
    assert facts["revenue_wan"] == 15000 and facts["employees"] == 80 and facts["zone_level"] == "national"


@pytest.mark.slow
def test_a_follow_up_asking_which_tier_its_facts_fall_in_answers_from_the_tiers_just_quoted(corpus_bot):
    """"算哪档" names no subject of its own: it asks which of the previous answer's tiers the asker's
    figure is in, so it is not judged as a question on its own (no basis)."""
    chat = Conversation()
    corpus_bot.ask("认定高企时研发费用占销售收入的比例有哪些档次要求？", conversation=chat)
    answer = corpus_bot.ask("公司去年营收3个亿，算哪一档？", conversation=chat)
    assert not answer.abstained and "不低于3%" in answer.lead and "不低于5%" not in answer.lead, answer.lead
    assert answer.citations[0].clause_id == f"{MEASURES}#第十一条"
