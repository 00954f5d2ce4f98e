import pytest

from bot.retrieval.search import clause_refs

PLAN = "guizhou-hitech-zones-plan-2021"
REGS = "enterprise-income-tax-law-implementing-regulations-2024"
LAW = "enterprise-income-tax-law-2018"
MEASURES = "hitech-enterprise-recognition-measures-2016-32"

pytestmark = pytest.mark.slow  # uses the session index of the shipped corpus


@pytest.mark.parametrize(
    "question,expected",
    [
        ("科技成果转化项目最多能拿多少支持？", f"{PLAN}#四.(八)"),
        ("外籍专家63岁还能办工作许可吗", f"{PLAN}#八.(十九)"),
        ("贵州的方案对专利贷款怎么支持", f"{PLAN}#六.(十二)"),
        ("实施条例里研发费用怎么扣", f"{REGS}#第九十五条"),
        ("研发费用加计扣除比例是多少", f"{REGS}#第九十五条"),
        ("高新技术企业所得税税率", f"{LAW}#第二十八条"),
        ("这个方案的文号是什么", f"{PLAN}#文首"),
    ],
)
def test_questions_in_users_own_words_find_their_clause_in_the_top_three(corpus_bot, question, expected):
    assert expected in [h.clause.id for h in corpus_bot.search(question, k=3)]


@pytest.mark.parametrize(
    "query,expected",
    [
        ("实施条例第九十五条", f"{REGS}#第九十五条"),
        ("实施条例第95条讲的什么", f"{REGS}#第九十五条"),
        ("企业所得税法第二十八条", f"{LAW}#第二十八条"),
        ("认定办法第十一条", f"{MEASURES}#第十一条"),
        ("方案（八）", f"{PLAN}#四.(八)"),
        ("(十九)", f"{PLAN}#八.(十九)"),
        ("实施方案第八条", f"{PLAN}#四.(八)"),
    ],
)
def test_a_query_that_names_a_clause_puts_that_clause_first(corpus_bot, query, expected):
    assert corpus_bot.search(query, k=5)[0].clause.id == expected


def test_an_unqualified_article_number_lists_that_article_of_each_document_first(corpus_bot):
    top = [h.clause.id for h in corpus_bot.search("第十二条", k=10)]
    with_12 = {f"{slug}#第十二条" for slug in (LAW, REGS, MEASURES, "promoting-sci-tech-achievements-transformation-law-2015", "sci-tech-progress-law-2021")}
    assert set(top[: len(with_12)]) == with_12


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_every_mode_returns_k_distinct_clauses_best_first(corpus_bot, mode):
    hits = corpus_bot.search("知识产权质押融资", k=5, mode=mode)
    assert len(hits) == 5 and len({h.clause.id for h in hits}) == 5
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert "知识产权质押" in hits[0].clause.text


def test_a_hit_on_an_amended_clause_carries_the_editors_note(corpus_bot):
    hit = next(h for h in corpus_bot.search("研发费用加计扣除50%", k=5) if h.clause.id == f"{REGS}#第九十五条")
    assert hit.amendment is not None and "2023年第7号" in hit.amendment.by_number
    assert "100%" in hit.amendment.note


def test_synonyms_bring_corpus_wording_to_the_lexical_half(corpus_bot):
    hits = corpus_bot.search("老外专家工作证年龄", k=3, mode="bm25")
    assert hits[0].clause.id == f"{PLAN}#八.(十九)"


@pytest.mark.parametrize("n,numeral", [(1, "一"), (10, "十"), (12, "十二"), (20, "二十"), (95, "九十五"), (100, "一百"), (105, "一百零五"), (110, "一百一十"), (132, "一百三十二"), (1259, "一千二百五十九")])
def test_arabic_article_numbers_read_as_legal_numerals(n, numeral):
    assert [r.numeral for r in clause_refs(f"第{n}条")] == [numeral]


def test_clause_refs_keep_the_words_before_the_number_as_qualifier():
    refs = clause_refs("请问实施条例第95条和方案(八)")
    assert [(r.kind, r.numeral, r.qualifier[-4:]) for r in refs] == [("article", "九十五", "实施条例"), ("item", "八", "95条和方案"[-4:])]


def test_a_filter_too_wide_for_one_chroma_query_ranks_all_and_keeps_the_same_hits(corpus_bot, monkeypatch):
    from bot.index import store as index_module

    law = {c for c, clause in corpus_bot.index.store.clauses.items() if clause.doc_slug == "enterprise-income-tax-law-2018"}
    filtered = [h.clause.id for h in corpus_bot.search("研发费用加计扣除", 5, mode="dense", among=law)]
    monkeypatch.setattr(index_module, "MAX_FILTER_IDS", 1)  # every filter now too wide for one query
    ranked_all = [h.clause.id for h in corpus_bot.search("研发费用加计扣除", 5, mode="dense", among=law)]
    assert len(filtered) == 5 and set(filtered) <= law and ranked_all == filtered
