"""Everyday names, keyword queries and definitions: what retrieval finds for how people ask."""

from pathlib import Path

import pytest

from bot.index.lexical import synonym_table
from bot.retrieval.terms import definitions
from tests.conftest import CORPUS

REGS = "enterprise-income-tax-law-implementing-regulations-2024"
MEASURES = "hitech-enterprise-recognition-measures-2016-32"
TRANSFER_LAW = "promoting-sci-tech-achievements-transformation-law-2015"


def test_every_everyday_name_maps_to_wording_the_corpus_uses():
    corpus = "".join(p.read_text(encoding="utf-8") for p in Path(CORPUS).glob("*.txt"))
    unknown = {name: t for name, targets in synonym_table().items() for t in targets if t not in corpus}
    assert unknown == {}


def test_the_terms_clauses_define_are_read_from_their_text(small_corpus, fake_bot):
    (small_corpus / "rules-c.txt").write_text(
        "标题: 丙省技术市场条例\n成文日期: 2023-06-01\n\n丙省技术市场条例\n\n"
        "第一条 本条例所称技术合同，是指当事人就技术开发、转让订立的合同。\n\n"
        "第二条 技术交易应当登记。登记机构，是指省科技厅指定的机构。\n\n"
        "第三条 技术合同成交额超过100万元的，给予奖励。\n",
        encoding="utf-8",
    )
    fake_bot.ingest([small_corpus])
    found = {(d.term, d.clause_id.split("#")[1]) for d in definitions(fake_bot.index.store.clauses.values())}
    assert found == {("技术合同", "第一条"), ("登记机构", "第二条")}
    # Asked either way, the defining clause comes first, although 第三条 also names 技术合同.
    assert fake_bot.search("什么是技术合同", k=3)[0].clause.id == "rules-c#第一条"
    assert fake_bot.search("登记机构指的是什么？", k=3)[0].clause.id == "rules-c#第二条"
    assert fake_bot.search("技术合同成交额有什么奖励", k=3)[0].clause.id != "rules-c#第一条"  # not a definition question


@pytest.mark.slow
@pytest.mark.parametrize(
    "query,expected",
    [
        ("小微 标准", f"{REGS}#第九十二条"),  # 小微 = 小型微利企业
        ("高企 管几年", f"{MEASURES}#第九条"),  # 高企 = 高新技术企业, 管几年 = 有效期
    ],
)
def test_abbreviations_find_the_clause_of_the_term_they_stand_for(corpus_bot, query, expected):
    assert corpus_bot.search(query, k=5)[0].clause.id == expected


@pytest.mark.slow
@pytest.mark.parametrize(
    "query,expected",
    [("高企认定条件", f"{MEASURES}#第十一条"), ("高企认定流程", f"{MEASURES}#第十二条")],
)
def test_a_keyword_query_finds_what_the_full_question_finds(corpus_bot, query, expected):
    """Typed as into a search box: 条件 means the clause that lists them (须同时满足以下条件), not
    one that mentions 认定条件 in passing; 流程 is what the corpus calls 程序."""
    assert corpus_bot.search(query, k=5)[0].clause.id == expected


@pytest.mark.slow
@pytest.mark.parametrize(
    "question,expected",
    [
        ("什么是职务科技成果", f"{TRANSFER_LAW}#第二条"),  # "。职务科技成果，是指…" mid-article
        ("无形资产指的是什么？", f"{REGS}#第六十五条"),  # "所称无形资产，是指…"
        ("什么是高企", f"{MEASURES}#第二条"),  # an everyday name for the defined term
        ("外购的软件算无形资产吗？", f"{REGS}#第六十五条"),  # whether something counts as the term
    ],
)
def test_a_question_about_what_a_term_means_gets_the_defining_clause_first(corpus_bot, question, expected):
    assert corpus_bot.search(question, k=5)[0].clause.id == expected
