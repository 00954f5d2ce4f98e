"""The 政策问答 and 条款检索 tabs as a person meets them in Chromium, at a phone's size (390×844) and a
laptop's (1366×850): where a new answer is shown, citations, search, feedback, a refused request.

Every tab is saved as a screenshot at both sizes under the test's tmp dir and /tmp/shots-ui/ for a
person to look at.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from ..webapp import web_app
from .test_browser import WAIT_MS, ask, browser  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 850}
SIZES = pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
TABS = ["政策问答", "条款检索", "政策匹配", "文档管理", "评测"]
REVIEW_SHOTS = Path("/tmp/shots-ui")
# ASCII words a Chinese user may read: document formats, units, the product's name.
ALLOWED_WORDS = {"PolicyBot", "PDF", "DOCX", "TXT", "HTML", "ID", "PNG", "CSV", "TSV", "JSON", "JSONL", "YAML", "API",
                 "LLM", "Recall", "MRR", "nDCG"}  # file formats, and metric abbreviations beside their Chinese names
# Not labels: a file's own name (a corpus file in the 文件名 column, report.md in a download) and the
# environment variable an admin sets.
NOT_LABELS = re.compile(r"[\w.-]*\.(?:txt|pdf|docx|html?|md|json|jsonl|yaml|zip|png)\b|POLICYBOT_[A-Z_]+")
SLUG = re.compile(r"[a-z]+(?:-[a-z0-9]+){2,}")  # guizhou-hitech-zones-plan-2021


@pytest.fixture(scope="module")
def served(corpus_index_dir, tmp_path_factory):
    """(url, data dir's parent) of an app over the session's index, with no rate limit: these tests
    send more than a person would in a minute (the refusal has its own app below)."""
    work = tmp_path_factory.mktemp("browser-ui-app")
    with web_app(corpus_index_dir, work / "app.log", POLICYBOT_DATA_DIR=str(work / "data"), POLICYBOT_RATE_LIMIT="0") as url:
        yield url, work


def open_page(browser, url: str, size: dict):
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)  # the machine may be loaded
    context = browser.new_context(viewport=size, locale="zh-CN", has_touch=size is PHONE, is_mobile=size is PHONE)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(url, wait_until="load")
    page.wait_for_selector("textarea")
    return context, page


@pytest.fixture(params=[PHONE, DESKTOP], ids=["phone", "desktop"])
def sized(request, browser, served):
    """(page, size) at each of the two sizes."""
    context, page = open_page(browser, served[0], request.param)
    yield page, request.param
    context.close()


@pytest.fixture
def page(browser, served):
    context, page = open_page(browser, served[0], DESKTOP)
    yield page
    context.close()


def shoot(page, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    REVIEW_SHOTS.mkdir(exist_ok=True)
    shutil.copy(folder / f"{name}.png", REVIEW_SHOTS / f"{name}.png")


def english_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[A-Za-z][A-Za-z_]+", text) if w not in ALLOWED_WORDS}


def ask_cited(page, question: str):
    """ask(), and wait for the reply's footnotes: they come with its last update, which also makes it
    the answer the rating buttons rate (ask returns once streaming has begun)."""
    from playwright.sync_api import expect

    notes = page.locator("#pb-chat .pb-footnotes")
    before = notes.count()
    reply = ask(page, question)
    expect(notes).to_have_count(before + 1)
    return reply


def search(page, query: str, k: int = 5) -> None:
    page.get_by_role("tab", name="条款检索").click()
    page.locator("#pb-query textarea").fill(query)
    page.get_by_label("条数").fill(str(k))
    page.locator("#pb-search").click()
    page.locator("#pb-results .pb-hit, #pb-results .pb-error").first.wait_for()


def test_a_long_answer_is_shown_from_its_lead_and_label(sized):
    page, size = sized
    ask_cited(page, "科技成果转化项目最多能拿多少支持？")
    answer = ask_cited(page, "高新技术企业认定需要满足哪些条件？")
    label = answer.locator(".pb-label")
    page.wait_for_timeout(2000)  # whatever scrolling follows the last update has happened
    box = answer.evaluate("""a => { let p = a.parentElement;  // the chat's scrolling box
        while (p.id !== 'pb-chat' && !['auto', 'scroll'].includes(getComputedStyle(p).overflowY)) p = p.parentElement;
        const r = p.getBoundingClientRect(); return [r.top, r.bottom]; }""")
    top, bottom = max(box[0], 0), min(box[1], size["height"])
    if size is PHONE:  # no shipped answer is taller than the 520 px chat box at a desktop's width
        assert answer.bounding_box()["height"] > bottom - top, "the answer must be longer than the chat box"
    label_box = label.bounding_box()
    assert top - 1 <= label_box["y"] and label_box["y"] + label_box["height"] <= bottom, (label_box, box)
    assert label.inner_text().startswith("✓") and answer.inner_text().split("\n")[1].startswith("答：")




def test_every_tab_fits_the_screen_reads_in_chinese_and_is_saved(sized, tmp_path):
    page, size = sized
    name = "phone" if size is PHONE else "desktop"
    ask_cited(page, "研发费用加计扣除比例是多少？")
    problems = []
    for n, tab in enumerate(TABS, 1):
        button = page.get_by_role("tab", name=tab)
        assert button.is_visible(), f"{tab} is hidden in a menu at {name} size"
        button.click()
        if tab == "条款检索":
            search(page, "加计扣除")
        page.wait_for_timeout(500)
        shoot(page, tmp_path, f"{name}-{n}-{tab}")
        width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        if width[0] > width[1]:
            problems.append(f"{tab}: page {width[0]} px wide in a {width[1]} px window")
        text = NOT_LABELS.sub(" ", page.evaluate("document.body.innerText"))
        english = english_words(text) | set(SLUG.findall(text))
        if english:
            where = [text[max(0, text.find(w) - 30):text.find(w) + 30] for w in sorted(english)]
            problems.append(f"{tab}: English {sorted(english)} in {where}")
    assert not problems, problems


def test_a_citation_marker_opens_its_footnote_which_names_the_clause_and_its_status(page):
    answer = ask_cited(page, "研发费用加计扣除比例是多少？")
    marker = answer.locator("a.pb-cite").first
    footnote = page.locator("#pb-chat details.pb-footnote").last
    assert not footnote.locator("blockquote").is_visible()
    marker.click()
    assert footnote.evaluate("d => d.open") and footnote.locator("blockquote").is_visible()
    text = footnote.inner_text()
    assert "《企业所得税法实施条例》第九十五条" in text and not SLUG.search(text)
    assert "已被修改" in text and "【编者注】" in text  # amended: its status and the editor's note


def test_possibly_related_clauses_of_a_no_basis_answer_expand(page):
    answer = ask(page, "公司想注册商标，流程是怎样的？")
    related = answer.locator("details.pb-related")
    related.first.wait_for()  # with the reply's last update
    related.first.locator("summary").click()
    assert related.first.locator("blockquote").is_visible() and "现行有效" in related.first.inner_text()


def test_a_keyword_search_lists_the_clauses_holding_it_first_and_says_where_they_end(page):
    search(page, "加计扣除")
    hits = page.locator("#pb-results .pb-hit")
    ids = [hits.nth(i).get_attribute("data-clause") for i in range(hits.count())]
    assert ids[0].endswith("#第九十五条") and ids[1].endswith("#第九十六条")  # the defining clause first
    holding = [hits.nth(i).locator(".pb-hit-text").inner_text() for i in range(hits.count())]
    first_lacking = next((i for i, text in enumerate(holding) if "加计扣除" not in text), None)
    assert first_lacking is None or all("加计扣除" in t for t in holding[:first_lacking])
    if first_lacking is not None:
        note = page.locator("#pb-results .pb-lacking")
        assert note.inner_text().startswith("以下条款不含“加计扣除”")
        assert note.evaluate("(n, h) => !!(n.compareDocumentPosition(h) & Node.DOCUMENT_POSITION_FOLLOWING)",
                             hits.nth(first_lacking).element_handle())
    assert "《企业所得税法实施条例》第九十五条" in hits.first.inner_text()
    assert not SLUG.search(page.locator("#pb-results").inner_text())


def test_highlights_are_whole_query_words(page):
    search(page, "第二条", k=10)  # enough results that some hold 第二条 only as text
    marks = page.locator("#pb-results mark").all_inner_texts()
    assert marks and set(marks) == {"第二条"}  # never 二条 inside 第十二条


def test_on_a_phone_a_results_text_and_copy_button_sit_under_it(browser, served):
    context, page = open_page(browser, served[0], PHONE)
    try:
        search(page, "加计扣除")
        first, second = page.locator("#pb-results .pb-hit").nth(0), page.locator("#pb-results .pb-hit").nth(1)
        copy = first.locator(".pb-copy-hit")
        assert copy.bounding_box()["y"] < second.bounding_box()["y"]
        copy.click()
        assert page.evaluate("window.pbCopied").startswith("《中华人民共和国企业所得税法实施条例》")
        assert first.locator("button").inner_text() == "已复制"
    finally:
        context.close()


def test_the_desktop_clause_panel_stays_beside_the_selected_result(page):
    search(page, "技术转让所得")
    hits = page.locator("#pb-results .pb-hit")
    page.locator("#pb-clause-panel input").first.click()
    page.get_by_role("option").nth(4).click()
    chosen = hits.nth(4)
    page.locator("#pb-results .pb-hit-selected").wait_for()
    assert "pb-hit-selected" in chosen.get_attribute("class")
    panel, hit = page.locator("#pb-clause-view").bounding_box(), chosen.bounding_box()
    assert panel["x"] > hit["x"] + hit["width"] - 1  # beside it
    assert panel["y"] < hit["y"] + hit["height"] and hit["y"] < panel["y"] + panel["height"]  # at its height
    assert 0 <= hit["y"] < DESKTOP["height"] and 0 <= panel["y"] < DESKTOP["height"]


def test_rating_one_answer_twice_keeps_the_last_choice_once_and_shows_it(page, served):
    _, work = served
    answer = ask_cited(page, "外籍专家63岁还能办工作许可吗？")
    up, down = page.locator("#pb-up"), page.locator("#pb-down")
    note = page.locator("#pb-feedback-note")
    up.click()
    note.get_by_text("已记录反馈").wait_for()
    page.wait_for_function("document.querySelector('#pb-up').innerText.includes('已选')")
    for _ in range(2):
        down.click()
        page.wait_for_function("document.querySelector('#pb-down').innerText.includes('已选')")
    page.wait_for_timeout(1000)
    assert "已选" not in up.inner_text() and "已选" in down.inner_text()
    with sqlite3.connect(work / "data" / "feedback.sqlite3") as conn:
        rows = conn.execute("SELECT rating FROM feedback WHERE question = ?", ("外籍专家63岁还能办工作许可吗？",)).fetchall()
    assert rows == [("down",)]
    assert answer.is_visible()
    ask_cited(page, "高新区人才用房政策由哪个部门负责？")
    page.wait_for_function("!document.querySelector('#pb-down').innerText.includes('已选')")  # a new answer, unrated


@pytest.fixture(scope="module")
def limited(corpus_index_dir, tmp_path_factory):
    """An app that allows a client two requests at once and then one a minute."""
    work = tmp_path_factory.mktemp("limited-app")
    with web_app(corpus_index_dir, work / "app.log", POLICYBOT_RATE_LIMIT="1", POLICYBOT_RATE_LIMIT_BURST="2") as url:
        yield url


def test_a_refused_search_shows_one_message_in_place_of_the_old_results(browser, limited):
    context, page = open_page(browser, limited, DESKTOP)
    try:
        search(page, "加计扣除")
        page.locator("#pb-query textarea").fill("技术转让所得")
        page.locator("#pb-search").click()
        page.locator("#pb-results .pb-hit", has_text="技术转让所得").first.wait_for()
        for query in ("第二条", "高新技术企业", "研发费用"):
            page.locator("#pb-query textarea").fill(query)
            page.locator("#pb-search").click()
        page.locator("#pb-results .pb-limited").wait_for()
        page.wait_for_timeout(1500)
        assert page.locator("#pb-results .pb-hit").count() == 0  # the old results are gone
        assert page.locator("#pb-clause-view").inner_text().strip() == ""
        assert "请求过于频繁" in page.locator("#pb-results").inner_text()
        assert page.get_by_text("请求过于频繁").count() == 1  # one message, no toasts stacked on it
        page.get_by_role("tab", name="政策问答").click()
        for question in ("研发费用加计扣除比例是多少？", "高新技术企业认定需要满足哪些条件？"):
            page.locator("#pb-question textarea").fill(question)
            page.locator("#pb-ask").click()
            page.locator("#pb-chat-note .pb-limited").wait_for()
            page.wait_for_timeout(1000)
        assert page.locator("#pb-chat-note").inner_text().startswith("⚠ 请求过于频繁")
        assert page.locator("#pb-question textarea").input_value() == "高新技术企业认定需要满足哪些条件？"  # to resend
        assert sum(t.is_visible() for t in page.get_by_text("请求过于频繁").all()) == 1  # no toast beside it
    finally:
        context.close()
