"""The web UI's formatting: pure functions over domain records, no Gradio, no index."""

from __future__ import annotations

import dataclasses

import pytest

from bot.web import format as ui
from bot.matching.engine import ConditionResult, Verdict
from bot.records import Amendment, Answer, Citation, Clause, Hit

PLAN = "guizhou-hitech-zones-plan-2021"
TEXT = "重点支持重大科技成果项目引进转化落地,按“一事一议”方式给予不超过1000万元支持。(责任单位:省科技厅、省教育厅)"
CLAUSE = Clause(id=f"{PLAN}#四.(八)", doc_slug=PLAN, path="四.(八)", kind="item", heading="加快科技成果转移转化",
                parents=("四",), text=TEXT, start=0, end=len(TEXT), responsible_units=("省科技厅", "省教育厅"))
LINE = "《关于推进全省高新技术产业开发区高质量发展的实施方案》（黔科领发〔2021〕1号）四、（八）加快科技成果转移转化"
CITATION = Citation(n=1, clause_id=CLAUSE.id, doc_title="实施方案", path="四.(八)", citation=LINE,
                    quote="给予不超过1000万元支持", responsible_units=CLAUSE.responsible_units)
HIT = Hit(clause=CLAUSE, doc_title="实施方案", score=0.3)


def answer(**changes) -> Answer:
    base = dict(question="科技成果转化项目最多能拿多少支持？",
                text=f"答：依据[1]，给予不超过1000万元支持。\n出处：\n[1] {LINE}",
                abstained=False, citations=(CITATION,), hits=(HIT,))
    return Answer(**{**base, **changes})


def test_answer_markdown_numbers_footnotes_expandable_to_the_whole_clause():
    md = ui.answer_markdown(answer())
    assert "1000万元" in md
    assert "<details" in md and f"<summary>[1] {LINE}</summary>" in md
    assert ui.esc(TEXT) in md  # the whole clause, not just the quote
    assert "《实施方案》四、（八）" in md and "责任单位：</b>省科技厅、省教育厅" in md and PLAN not in md
    assert md.count(LINE) == 1  # the plain 出处 block is replaced by the footnotes


def test_answer_markdown_prefers_the_index_clause_over_the_quote():
    md = ui.answer_markdown(answer(hits=()), clauses={CLAUSE.id: CLAUSE})
    assert "引进转化落地" in md
    md = ui.answer_markdown(answer(hits=()))
    assert "引进转化落地" not in md and "给予不超过1000万元支持" in md


def test_no_basis_answer_is_styled_apart():
    md = ui.answer_markdown(answer(text="语料库中没有找到能回答这个问题的条款依据。", abstained=True, citations=()))
    assert md.startswith(f'<div class="{ui.NO_BASIS_CLASS}">{ui.NO_BASIS_PREFIX}')
    assert ui.NO_BASIS_CLASS not in ui.answer_markdown(answer())


def test_a_partial_answer_says_the_clauses_do_not_state_what_was_asked():
    md = ui.answer_markdown(answer(text="答：相关条款没有规定具体金额。\n以下条款与问题的主题相关", abstained=True,
                                   citations=(), lead="相关条款没有规定具体金额。"))
    assert md.startswith(f'<div class="{ui.NO_BASIS_CLASS}">{ui.PARTIAL_PREFIX}') and "无条款依据" not in md


def test_corpus_text_is_html_escaped():
    evil = dataclasses.replace(CLAUSE, text="<script>alert(1)</script> & 研发")
    md = ui.answer_markdown(answer(hits=(Hit(evil, "实施方案", 0.1),)))
    assert "<script>" not in md and "&lt;script&gt;" in md
    html = ui.hits_markdown([Hit(evil, "t", 0.1)], ["研发"], ["<b>引用</b>"])
    assert "<script>" not in html and "<b>引用</b>" not in html and "<mark>研发</mark>" in html


@pytest.mark.parametrize("text, terms, expected", [
    ("研发费用加计扣除", ["研发费用"], "<mark>研发费用</mark>加计扣除"),
    ("研发费用加计扣除", ["研发", "研发费用"], "<mark>研发费用</mark>加计扣除"),
    ("a<b 研发", ["研发"], "a&lt;b <mark>研发</mark>"),
    ("没有命中", ["研发"], "没有命中"),
    ("没有词", [], "没有词"),
])
def test_highlight_marks_query_words(text, terms, expected):
    assert ui.highlight(text, terms) == expected


def test_query_terms_drop_punctuation_and_single_characters():
    terms = ui.query_terms("研发费用的加计扣除？")
    assert "？" not in terms and "的" not in terms
    assert any("研发" in t for t in terms)


def test_hits_markdown_gives_each_hit_a_citation_line():
    amended = Hit(CLAUSE, "实施方案", 0.2, amendment=Amendment(CLAUSE.id, "amended", "新文件", "某号", "2023-01-01", "改了"))
    html = ui.hits_markdown([HIT, amended], ["科技成果"], [LINE, LINE])
    assert html.count(f"<b>1. {LINE}</b>") == 1 and html.count(f'data-cite="{LINE}"') == 2
    assert "<mark>科技成果</mark>" in html and "已被后续文件修改" in html
    assert "没有找到" in ui.hits_markdown([], [], [])


def test_a_compounds_parts_are_marked_only_where_the_whole_is_missing():
    assert ui.present_terms("据实扣除的基础上加计扣除", ["加计扣除", "加计", "扣除"]) == ["加计扣除"]
    assert ui.present_terms("据实扣除", ["加计扣除", "加计", "扣除"]) == ["加计扣除", "加计", "扣除"]
    assert ui.query_terms("第二条") == ["第二条"]


def test_hit_dict_has_the_cli_json_fields():
    d = ui.hit_dict(HIT, LINE)
    assert d["clause_id"] == CLAUSE.id and d["clause_path"] == "四.(八)" and d["citation"] == LINE
    assert d["status"] == "in_force" and d["responsible_units"] == ["省科技厅", "省教育厅"]


def test_answer_dict_lists_citations_with_id_path_quote():
    d = ui.answer_dict(answer())
    assert d["abstained"] is False
    assert d["citations"][0]["clause_id"] == CLAUSE.id
    assert d["citations"][0]["clause_path"] == "四.(八)" and d["citations"][0]["quote"] == "给予不超过1000万元支持"


def _keys(node) -> set:
    """Every dict key at any depth of a JSON-like value."""
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    return {k for v in node for k in _keys(v)} if isinstance(node, (list, tuple)) else set()


def test_no_api_dict_has_a_path_key_that_gradio_client_would_fetch_as_a_file():
    """gradio_client takes any dict with a "path" key for a file to download: the clause path is `clause_path`."""
    amended = dataclasses.replace(HIT, amendment=Amendment(CLAUSE.id, "amended", "某公告", "某号", "2023-01-01", "现行100%"))
    for d in (ui.answer_dict(answer()), ui.hit_dict(amended, LINE), ui.verdict_dict(verdict("eligible", [cond("met", 7.5)]))):
        assert "path" not in _keys(d)


def test_clause_markdown_shows_status_note_units_and_text():
    from bot.service import ClauseView

    view = ClauseView(CLAUSE, "实施方案", LINE, "现行有效（以语料文本为准）", "【编者注】<改>")
    md = ui.clause_markdown(view)
    assert LINE in md and "现行有效" in md and "省科技厅、省教育厅" in md and "引进转化落地" in md
    assert "&lt;改&gt;" in md


def cond(status, actual=None):
    return ConditionResult(field="rd_intensity", label="研发投入强度", op=">", threshold=5, unit="%",
                           wording="超过5%", clause_id=CLAUSE.id, status=status, actual=actual)


def verdict(status, conditions, **kw):
    return Verdict(rule_id=f"r-{status}", name=f"政策-{status}", kind="benefit", status=status,
                   conditions=tuple(conditions), citations=(CLAUSE.id,), benefit="给予补助", **kw)


def test_verdict_rows_mark_each_condition_and_sort_eligible_first():
    verdicts = [verdict("not_eligible", [cond("not_met", 3.0)]),
                verdict("needs_info", [cond("unknown")], missing={"rd_intensity": "研发投入强度是多少？"}),
                verdict("eligible", [cond("met", 7.5)], current_benefit="现行100%")]
    rows = ui.verdict_rows(verdicts, cite=lambda cid: f"引用:{cid}")
    assert [r[0] for r in rows] == ["政策-eligible", "政策-needs_info", "政策-not_eligible"]
    assert all(len(r) == len(ui.VERDICT_HEADERS) for r in rows)
    assert rows[0][1].endswith("符合条件") and rows[0][2].startswith("✓") and "现行100%" in rows[0][3]
    assert rows[1][2].startswith("?") and "研发投入强度是多少？" in rows[1][2]
    assert rows[2][2].startswith("✗") and rows[2][4] == f"引用:{CLAUSE.id}"
    assert "符合条件 1 项" in ui.match_summary(verdicts)


def test_verdict_dict_is_json_ready():
    import json

    d = ui.verdict_dict(verdict("eligible", [cond("met", 7.5)]), cite=str)
    assert json.loads(json.dumps(d))["citation_lines"] == [CLAUSE.id]
    assert d["status_label"] == "符合条件"


def test_answer_stream_grows_line_by_line_and_ends_with_the_footnoted_answer():
    steps = ui.answer_stream(answer(), {CLAUSE.id: CLAUSE})
    assert steps[-1] == ui.answer_markdown(answer(), {CLAUSE.id: CLAUSE})
    assert "<details" not in "".join(steps[:-1])
    assert all("1000万元" in s for s in steps)
    multi = answer(text="答：依据[1]，给予不超过1000万元支持。\n条款原文：\n「给予不超过1000万元支持」[1]\n出处：\n[1] x")
    steps = ui.answer_stream(multi)
    assert len(steps) == 3 and "条款原文" not in steps[0] and "条款原文" in steps[1]


def test_cited_and_no_basis_answers_carry_different_labels():
    cited = ui.answer_markdown(answer())
    abstained = ui.answer_markdown(answer(text="语料库中没有找到依据。", abstained=True, citations=()))
    assert ui.CITED_LABEL in cited and ui.NO_BASIS_PREFIX not in cited
    assert ui.NO_BASIS_PREFIX in abstained and ui.CITED_LABEL not in abstained
    assert "<script" not in ui.streaming_markdown("<script>") and ui.streaming_markdown("答").endswith("▍</div>")


@pytest.mark.parametrize("section, inside", [
    ("四", True), ("四、", True), ("（八）", True), ("(八)", True), ("", True), ("五", False), ("（九）", False),
])
def test_in_section_reads_the_section_as_people_type_it(section, inside):
    assert ui.in_section(CLAUSE, section) is inside


@pytest.mark.parametrize("section, inside", [
    ("第四章", True), ("第四章 税收优惠", True), (" 第四章 ", True), ("第二章", False), ("第二章 应纳税所得额", False),
])
def test_in_section_finds_articles_under_their_chapter_heading(section, inside):
    article = Clause(id="law#第二十五条", doc_slug="law", path="第二十五条", kind="article", heading="",
                     parents=("第四章 税收优惠",), text="…", start=0, end=1)  # as the tax law's articles are parsed
    assert ui.in_section(article, section) is inside


def test_upload_summary_lists_each_file_and_escapes_names():
    md = ui.upload_summary([("措施.txt", True, "已索引，条款 5 条"), ("<b>.pdf", False, "类型不符")], "已建立索引 g-1")
    assert "✓ **措施.txt**：已索引，条款 5 条" in md and "✗ **&lt;b&gt;.pdf**" in md and "已建立索引 g-1" in md
