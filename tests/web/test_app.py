"""The web handlers over the real corpus index: the chat stream (with and without an LLM) and the search filters."""

from __future__ import annotations

import pytest

from bot.web import format as ui
from bot.service import PolicyBot
from bot.web.app import WebApp

from ..openai_stub import OpenAIStub

QUESTION = "科技成果转化项目最多能拿多少支持？"
REPLY = "按“一事一议”方式，最多给予不超过1000万元的省级重大科技成果转化项目支持[1]。"

pytestmark = pytest.mark.slow


def replies(updates) -> list[str]:
    """The assistant message of each update that changed the chat."""
    return [u[1][-1]["content"] for u in updates if u[1] and u[1][-1]["role"] == "assistant"]


def test_an_extractive_answer_streams_line_by_line_then_gets_its_footnotes(corpus_bot):
    updates = list(WebApp(corpus_bot).chat(QUESTION, [], None))
    shown = replies(updates)
    assert len(shown) >= 3 and "<details" not in shown[0] and "<details" in shown[-1]
    assert "1000万元" in shown[0]  # the lead line comes first
    assert len(shown[0]) < len(shown[1]) < len(shown[-1])
    question_box, history, conversation, last = updates[-1]
    assert question_box == "" and last["citations"][0]["clause_path"] == "四.(八)" and len(conversation.turns) == 1


def test_an_llm_answer_streams_token_by_token_and_is_verified_at_the_end(corpus_bot):
    with OpenAIStub(rule=lambda m: REPLY) as stub:
        bot = PolicyBot(corpus_bot.settings.with_(llm_url=stub.url, llm_model=stub.model), corpus_bot.embedder)
        updates = list(WebApp(bot).chat(QUESTION, [], None))
    shown = replies(updates)
    streaming = [s for s in shown if "pb-streaming" in s]
    assert len(streaming) >= 3 and all(a in b.replace("▍", "") for a, b in zip(
        [s.replace("▍</div>", "") for s in streaming], streaming[1:]))
    final = updates[-1]
    assert "pb-streaming" not in shown[-1] and "<details" in shown[-1] and "一事一议" in shown[-1]
    assert final[3]["answerer"] == "llm" and final[2].turns[-1].answer.answerer == "llm"


def test_an_llm_answer_that_fails_verification_ends_as_the_extractive_one(corpus_bot):
    with OpenAIStub(rule=lambda m: "最多给予不超过2000万元支持[1]。") as stub:
        bot = PolicyBot(corpus_bot.settings.with_(llm_url=stub.url, llm_model=stub.model), corpus_bot.embedder)
        updates = list(WebApp(bot).chat(QUESTION, [], None))
    final = replies(updates)[-1]
    assert "2000万元" not in final and "1000万元" in final and "大模型回答未通过核验" in final
    assert updates[-1][3]["answerer"] == "extractive"


def test_a_no_basis_answer_is_rendered_apart(corpus_bot):
    updates = list(WebApp(corpus_bot).chat("公司想注册商标，流程是怎样的？", [], None))
    final = replies(updates)[-1]
    assert ui.NO_BASIS_CLASS in final and ui.CITED_LABEL not in final and updates[-1][3]["abstained"] is True


def test_search_filters_keep_only_the_chosen_document_and_section(corpus_bot):
    app = WebApp(corpus_bot)
    plan = "guizhou-hitech-zones-plan-2021"
    everywhere = app._search("研发费用", 10)
    assert len({h.clause.doc_slug for h in everywhere}) > 1
    in_plan = app._search("研发费用", 10, doc_slug=plan)
    assert in_plan and all(h.clause.doc_slug == plan for h in in_plan)
    in_section = app._search("高新区", 10, doc_slug=plan, section="四、")
    assert in_section and all(h.clause.path.split(".")[0] == "四" for h in in_section)


def test_a_document_filter_finds_its_clauses_even_when_other_documents_fill_the_top_hundred(corpus_bot):
    question, law = "重大科技成果转化项目那个1000万的支持，是哪个部门牵头管？", "enterprise-income-tax-law-2018"
    assert law not in {h.clause.doc_slug for h in corpus_bot.search(question, 100)}
    hits = WebApp(corpus_bot)._search(question, 3, doc_slug=law)
    assert len(hits) == 3 and {h.clause.doc_slug for h in hits} == {law}
    one_section = WebApp(corpus_bot)._search(question, 50, doc_slug=law, section="第四章")
    assert one_section and all(h.clause.doc_slug == law and ui.in_section(h.clause, "第四章") for h in one_section)
    assert len(one_section) < len(WebApp(corpus_bot)._search(question, 50, doc_slug=law))


def test_an_item_number_is_the_first_hit_and_opens_in_the_clause_panel(corpus_bot):
    html, picker, view, line = WebApp(corpus_bot).search_ui("（八）", "", "", 5)
    assert picker["value"] == "guizhou-hitech-zones-plan-2021#四.(八)"
    assert line.startswith("《关于推进全省高新技术产业开发区高质量发展的实施方案》（黔科领发〔2021〕1号）四、（八）")
    assert "加快科技成果转移转化" in view
