"""The web app in a real browser: Debian's Chromium driven by Playwright against `python app.py`.

The app serves a temporary copy of the corpus and of the session's index, with an admin token, so
the upload test never touches the repository's corpus/ or index/. Each tab is saved as a screenshot
under screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from ..webapp import web_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "screenshots"
TOKEN = "browser-test-token"
WAIT_MS = 60_000  # the machine may be loaded: answers and re-indexing get a generous minute
NEW_POLICY = (
    "标题: 丙市数字经济促进办法\n文号: 丙数发〔2025〕2号\n成文日期: 2025-01-10\n\n丙市数字经济促进办法\n\n"
    "一、算力支持\n\n(一)算力券。对租用算力的中小企业发放算力券,最高50万元。(责任单位:市大数据局)\n"
)


@pytest.fixture(scope="module")
def served(corpus_index_dir, tmp_path_factory):
    """(url, data dir) of an app over copies of the corpus and index, uploads enabled."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk fonts-noto-color-emoji")
    work = tmp_path_factory.mktemp("browser-app")
    shutil.copytree(ROOT / "corpus", work / "corpus")
    shutil.copytree(corpus_index_dir, work / "index")
    with web_app(work / "index", work / "app.log", POLICYBOT_CORPUS_DIR=str(work / "corpus"),
                 POLICYBOT_DATA_DIR=str(work / "data"), POLICYBOT_ADMIN_TOKEN=TOKEN) as url:
        yield url, work


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, served):
    url, _ = served
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    page.get_by_role("tab", name="政策问答").wait_for()
    yield page
    context.close()


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def ask(page, question: str):
    """Ask in the chat; the new reply once its streaming has finished (the 提问 box is cleared)."""
    from playwright.sync_api import expect

    replies = page.locator("#pb-chat .pb-answer, #pb-chat .pb-no-basis")
    before = replies.count()
    page.locator("#pb-question textarea").fill(question)
    page.locator("#pb-ask").click()
    expect(replies).to_have_count(before + 1)
    expect(page.locator("#pb-question textarea")).to_have_value("")
    expect(page.locator("#pb-chat .pb-streaming")).to_have_count(0)
    return replies.nth(before)


def test_a_question_gets_a_cited_answer_whose_footnote_expands_to_the_clause(page):
    answer = ask(page, "科技成果转化项目最多能拿多少支持？")
    footnote = page.locator("#pb-chat details.pb-footnote").first
    footnote.wait_for()
    assert "1000万元" in answer.inner_text() and "有条款依据" in answer.inner_text()
    assert "四、（八）" in footnote.locator("summary").inner_text()
    clause = footnote.locator("blockquote.pb-clause")
    assert not clause.is_visible()
    footnote.locator("summary").click()
    assert clause.is_visible() and "引进转化落地" in clause.inner_text()
    assert "省科技厅" in footnote.inner_text()  # 责任单位
    screenshot(page, "1-chat")


def test_a_no_basis_answer_looks_different_from_a_cited_one(page):
    cited = ask(page, "科技成果转化项目最多能拿多少支持？")
    page.locator("#pb-chat details.pb-footnote").first.wait_for()
    abstained = ask(page, "公司想注册商标，流程是怎样的？")
    assert "pb-no-basis" in abstained.get_attribute("class")
    assert "无条款依据" in abstained.inner_text() and "有条款依据" not in abstained.inner_text()

    def look(el) -> tuple:
        return el.evaluate("e => { const s = getComputedStyle(e); return [s.backgroundColor, s.borderLeftColor, s.color]; }")

    assert look(abstained) != look(cited)
    screenshot(page, "2-no-basis")


def test_an_example_question_asks_on_one_click_and_feedback_with_a_comment_is_stored(page, served):
    from playwright.sync_api import expect

    _, work = served
    page.locator(".pb-example", has_text="研发费用加计扣除比例是多少？").click()
    expect(page.locator("#pb-chat details.pb-footnote")).not_to_have_count(0)
    expect(page.locator("#pb-chat .pb-streaming")).to_have_count(0)
    page.locator("#pb-comment textarea").fill("比例已经变了，回答提示得很清楚")
    page.locator("#pb-down").click()
    page.locator("#pb-feedback-note").get_by_text("已记录反馈").wait_for()
    with sqlite3.connect(work / "data" / "feedback.sqlite3") as conn:
        rows = conn.execute("SELECT question, answer, citations, rating, comment FROM feedback").fetchall()
    question, answer, citations, rating, comment = rows[-1]
    assert question == "研发费用加计扣除比例是多少？" and rating == "down" and comment.startswith("比例已经变了")
    assert "加计扣除" in answer and json.loads(citations)[0]["clause_id"]
    assert "127.0.0.1" not in json.dumps(rows, ensure_ascii=False)


def test_an_item_number_goes_straight_to_its_clause_and_its_citation_copies(page):
    page.get_by_role("tab", name="条款检索").click()
    page.locator("#pb-query textarea").fill("（八）")
    page.locator("#pb-search").click()
    view = page.locator("#pb-clause-view")
    view.get_by_text("加快科技成果转移转化").first.wait_for()
    assert "四、（八）" in view.inner_text() and "1000万元" in view.inner_text()
    first = page.locator("#pb-results .pb-hit").first.inner_text()
    assert first.startswith("1. 《关于推进全省高新技术产业开发区高质量发展的实施方案》") and "四、（八）" in first.splitlines()[0]
    assert "条款：《实施方案》四、（八）" in first and "guizhou-hitech" not in first
    page.locator("#pb-copy").click()
    page.locator("#pb-copy-note").get_by_text("已复制").wait_for()
    copied = page.evaluate("window.pbCopied")
    assert copied.startswith("《关于推进全省高新技术产业开发区高质量发展的实施方案》") and "四、（八）" in copied
    assert page.evaluate("navigator.clipboard.readText()") == copied
    screenshot(page, "3-clause-lookup")


def test_search_highlights_the_query_words(page):
    page.get_by_role("tab", name="条款检索").click()
    page.locator("#pb-query textarea").fill("研发费用加计扣除")
    page.locator("#pb-search").click()
    page.locator("#pb-results mark").first.wait_for()
    marks = page.locator("#pb-results mark").all_inner_texts()
    assert any("研发" in m or "加计扣除" in m for m in marks)


def test_the_matching_form_shows_verdicts_and_a_row_opens_its_clause(page):
    page.get_by_role("tab", name="政策匹配").click()
    page.locator("#pb-zone-name input, #pb-zone-name textarea").first.fill("贵阳国家高新区")
    page.locator("#pb-revenue_wan textarea, #pb-revenue_wan input").first.fill("5000")
    page.locator("#pb-is_hightech").get_by_text("是", exact=True).click()
    page.locator("#pb-match").click()
    page.locator("#pb-match-summary").get_by_text("符合条件").wait_for()
    table = page.locator("#pb-verdicts")
    # the annual-report obligation needs only 高新技术企业; the 15% rate also asks for the certificate's date
    row = table.locator(".virtual-row[role=row]", has_text="年度发展情况报表").first
    row.wait_for()
    assert "适用" in row.inner_text() and "✓" in row.inner_text()
    assert "不符合条件" in table.inner_text() or "需补充信息" in table.inner_text()  # the other policies
    row.locator("[role=gridcell]").first.click()
    page.locator("#pb-verdict-clause blockquote.pb-clause").first.wait_for()
    assert "第十三条" in page.locator("#pb-verdict-clause").inner_text()
    screenshot(page, "4-matching")


def test_an_admin_uploads_a_policy_and_it_is_indexed(page, served, tmp_path):
    _, work = served
    page.get_by_role("tab", name="文档管理").click()
    upload = tmp_path / "丙市数字经济.txt"
    upload.write_text(NEW_POLICY, encoding="utf-8")
    page.locator("#pb-admin-token input").fill(TOKEN)
    page.locator("#pb-admin-files input[type=file]").set_input_files(str(upload))
    page.locator("#pb-admin-upload").click()
    page.locator("#pb-admin-summary").get_by_text("已导入").wait_for(timeout=3 * WAIT_MS)
    assert "丙市数字经济.txt" in page.locator("#pb-admin-summary").inner_text()
    assert (work / "corpus" / "丙市数字经济.txt").exists()
    assert "丙市数字经济" in page.locator("#pb-admin-docs").inner_text()
    screenshot(page, "5-admin")
    page.get_by_role("tab", name="条款检索").click()
    page.locator("#pb-query textarea").fill("算力券")
    page.locator("#pb-search").click()
    page.locator("#pb-results").get_by_text("丙市数字经济促进办法").first.wait_for()
    assert not (ROOT / "corpus" / "丙市数字经济.txt").exists()


def test_an_evaluator_runs_an_uploaded_question_set_and_gets_metrics_charts_and_a_report(page, tmp_path):
    questions = tmp_path / "mine.jsonl"
    questions.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in [
        {"id": "e1", "question": "科技成果转化项目最多能拿多少支持？", "answerable": True,
         "gold_quotes": ["给予不超过1000万元省级重大科技成果转化项目支持"], "must_mention": ["1000万元"], "category": "amount"},
        {"id": "e2", "question": "公司想注册商标，流程是怎样的？", "answerable": False, "category": "out_of_scope"},
    ]) + "\n", encoding="utf-8")
    page.get_by_role("tab", name="评测").click()
    page.locator("#pb-eval-file input[type=file]").set_input_files(str(questions))
    page.locator("#pb-eval-run").click()
    summary = page.locator("#pb-eval-summary")
    summary.get_by_text("关键事实召回率").first.wait_for(timeout=3 * WAIT_MS)
    text = summary.inner_text()
    assert "2 个问题" in text  # the uploaded set, not the shipped one
    rows = {cells[0].strip(): cells[1].strip() for cells in
            (line.split("\t") for line in summary.locator("table tr").all_inner_texts()) if len(cells) >= 2}
    answered_right = (rows.get("关键事实召回率"), rows.get("不可答问题的拒答率"), rows.get("可答问题的误拒率"))
    assert answered_right == ("1.000", "1.000", "0.000"), rows  # the amount named, the trademark question declined
    page.locator("#pb-eval-charts img").nth(1).wait_for()  # per-category recall and the score histogram
    link = page.locator("#pb-eval-download a").first
    link.wait_for()
    assert ".zip" in (link.get_attribute("href") or "") + link.inner_text()
    screenshot(page, "6-eval")
