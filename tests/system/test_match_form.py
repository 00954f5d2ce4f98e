"""The 政策匹配 tab as an enterprise meets it at a real `python app.py`: a form that asks every fact a
rule reads (grouped, with units and periods, no JSON box), errors that name the field in Chinese,
verdicts as cards on a phone with the clauses under the policy's name, and a PDF report to take home
(from the tab and from `policybot match --report`)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot.matching.rules import load_corpus_rules
from bot.service import PolicyBot
from bot.settings import Settings
from bot.web.match_form import GROUPS, form_fields

from ..webapp import ROOT, web_app
from .websec import file_data, outcome, run_event, upload

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path("/tmp/shots-form")
PROFILE = ROOT / "eval" / "profiles" / "anshun-equipment-boundaries.yaml"
# A typical Guiyang software company, every form field filled: what its owner would write.
TYPICAL = {
    "province": "贵州", "zone.name": "贵阳国家高新区", "zone_level": "national", "registered_years": "6",
    "listing_status": "unlisted", "restricted_industry": "否", "excluded_industry": "否", "resident_enterprise": "是",
    "revenue_wan": "1.2亿元", "taxable_income_wan": "260", "total_assets_wan": "4800", "tech_transfer_income_wan": "0",
    "is_venture_capital": "否", "vc_target_unlisted_sme_hightech": "否", "vc_holding_years": "0",
    "has_unrecovered_losses": "否", "rd_expense_wan": "700", "rd_intensity": "5.8", "rd_share_3y": "5.2",
    "domestic_rd_share": "95", "hightech_income_share": "70", "innovation_assessment_ok": "是",
    "ip.invention_patents": "3", "ip.utility_models": "8", "ip.design_patents": "0", "ip.software_copyrights": "12",
    "ip.other": "0", "owns_core_ip": "是", "in_key_hitech_field": "是", "has_major_achievement_project": "否",
    "has_hightech_industry_project": "是", "converted_service_achievement": "是", "has_reward_agreement": "是",
    "employees": "180", "staff_quarterly_avg": "175", "sole_or_partnership": "否", "st_staff": "40", "needs_talent_housing": "是", "talents": "有",
    "major_incident_last_year": "否", "is_hightech": "是", "is_st_sme": "否", "is_tech_enterprise": "是",
    "is_high_growth": "否", "is_leading_enterprise": "否",
    "hightech_certified_years": "2", "hightech_revocation_grounds": "否", "preferential_income_separate": "是",
}
TALENTS = {"headers": ["姓名", "年龄（岁）", "国籍或地区", "职位", "境外高端人才（是/否）"],
           "data": [["汉斯", "58", "德国", "首席工程师", "是"]], "metadata": None}


def fields():
    return [f for _, group in form_fields(load_corpus_rules(ROOT / "corpus").rules) for f in group]


def form(**changes) -> list:
    """The match event's inputs as the page sends them: no upload, the talents table, every field."""
    values = {**TYPICAL, **changes}
    return [None, TALENTS, *(values.get(f.key, "") for f in fields())]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory, fake_embedder) -> Path:
    """The shipped corpus under the hash embedder: these tests judge matching, not retrieval."""
    index = tmp_path_factory.mktemp("form-index")
    PolicyBot(Settings.from_env({}, index_dir=index, corpus_dir=ROOT / "corpus", embedder="hash"), fake_embedder).ingest()
    return index


@pytest.fixture(scope="module")
def app(index_dir, tmp_path_factory) -> str:
    work = tmp_path_factory.mktemp("form-app")
    with web_app(index_dir, work / "app.log", POLICYBOT_EMBEDDER="hash", POLICYBOT_RATE_LIMIT="0",
                 POLICYBOT_CORPUS_DIR=str(ROOT / "corpus")) as url:
        yield url


def match(app: str, data: list) -> dict:
    _, messages = run_event(app, "match_ui", data)
    done = outcome(messages)
    assert done.get("success"), done
    summary, rows, cards, _, _ = done["output"]["data"]
    warnings = [m["log"] for m in messages if m.get("msg") == "log"]
    return {"summary": summary, "rows": rows["data"] if isinstance(rows, dict) else rows, "cards": cards,
            "warnings": warnings}


# ---- 1. the form asks every fact a rule needs ----

def test_every_fact_the_rules_read_has_a_grouped_field_with_its_unit_and_period():
    groups = form_fields(load_corpus_rules(ROOT / "corpus").rules)
    assert [name for name, _ in groups] == list(GROUPS)  # nothing falls into 其他: facts.yaml groups them all
    by_key = {f.key: f for _, group in groups for f in group}
    assert set(by_key) == set(TYPICAL)  # a new rule's fact without a field (or a value here) fails this
    for key in ("revenue_wan", "taxable_income_wan", "rd_expense_wan", "employees", "staff_quarterly_avg"):
        assert "上一纳税年度" in by_key[key].info
    assert "季度平均" in by_key["staff_quarterly_avg"].label and "季度平均" not in by_key["employees"].label
    assert "季度平均" in by_key["total_assets_wan"].label + by_key["total_assets_wan"].info
    assert "近三个会计年度" in by_key["rd_share_3y"].info and "高企" in by_key["rd_share_3y"].label
    assert "内部研发投入强度" in by_key["rd_intensity"].label
    assert "万元" in by_key["revenue_wan"].label and "%" in by_key["hightech_income_share"].label
    assert {f.kind for f in by_key.values() if f.key.startswith(("is_", "has_"))} == {"yes_no"}


def test_a_typical_company_that_fills_every_field_gets_a_verdict_on_every_policy(app):
    result = match(app, form())
    open_rows = [r[0] for r in result["rows"] if "需补充信息" in r[1]]
    print(f"open after filling every field: {len(open_rows)} of {len(result['rows'])}: {open_rows}")
    assert len(result["rows"]) == 18 and open_rows == []  # the old form left 12 of 18 open
    assert "符合条件" in result["summary"] and not result["warnings"]


def test_unsure_answers_stay_open_and_no_talents_settles_the_talent_policy(app):
    result = match(app, form(is_hightech="不清楚", talents="没有"))
    status = {r[0]: r[1] for r in result["rows"]}
    assert any("需补充信息" in s for s in status.values())  # 不清楚 is an answer that leaves a verdict open
    talent_rule = next(name for name in status if "外籍" in name or "境外" in name)
    assert "不符合条件" in status[talent_rule]


@pytest.mark.parametrize("key, value, label", [("revenue_wan", "很多", "营业收入"), ("st_staff", "500", "科技人员数")])
def test_a_wrong_value_is_named_by_its_chinese_label(app, key, value, label):
    result = match(app, form(**{key: value}))
    assert result["warnings"] and label in result["warnings"][0]
    assert not re.search(r"[a-z]+_[a-z_]+", result["warnings"][0] + result["summary"])  # no revenue_wan, st_staff


def test_a_profile_file_can_be_imported_instead_of_typing(app):
    stored = upload(app, "企业画像.yaml", PROFILE.read_bytes()).json()
    blank = [None] * len(fields())
    result = match(app, [file_data(stored[0]), None, *blank])
    assert not result["warnings"] and len(result["rows"]) == 18
    assert sum("符合条件" == r[1].split()[-1] for r in result["rows"]) >= 1


# ---- 2 and 3 in a browser: cards on a phone, clauses under a heading, the report download ----

@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def fill_and_match(browser, app: str, width: int, height: int):
    page = browser.new_context(viewport={"width": 1366, "height": height}, locale="zh-CN").new_page()
    page.set_default_timeout(60_000)
    page.goto(app, wait_until="load")
    # Opened on a wide screen, then narrowed: how the tab bar reaches 政策匹配 on a phone is the
    # phone-layout work's (Gradio folds the tabs into a menu there); this test is about the verdicts.
    page.get_by_role("tab", name="政策匹配").click()
    page.set_viewport_size({"width": width, "height": height})
    page.locator("#pb-province").scroll_into_view_if_needed()
    shot(page, f"form-{width}")
    page.locator("#pb-zone-name textarea, #pb-zone-name input").first.fill("贵阳国家高新区")
    page.locator("#pb-revenue_wan textarea, #pb-revenue_wan input").first.fill("12000")
    page.locator("#pb-is_hightech").get_by_text("是", exact=True).click()
    page.locator("#pb-match").click()
    page.locator("#pb-match-summary").get_by_text("符合条件").wait_for()
    return page


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


@pytest.mark.browser
def test_on_a_phone_each_verdict_is_a_readable_card_status_first(browser, app):
    page = fill_and_match(browser, app, 390, 844)
    assert not page.locator("#pb-verdicts").is_visible()
    card = page.locator("#pb-verdict-cards .pb-card").first
    card.wait_for()
    card.scroll_into_view_if_needed()
    shot(page, "phone-390-cards")
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # no sideways scrolling
    lines = card.inner_text().splitlines()
    assert lines[0].split()[-1] in ("符合条件", "需补充信息", "不符合条件", "适用", "不适用")  # status first
    status = card.locator(".pb-card-status").bounding_box()
    assert status["width"] > 100 and status["height"] < 40  # one line, not a character a line
    name = card.locator(".pb-card-name").inner_text()
    card.locator("summary").click()
    heading = card.locator(".pb-clauses-heading")
    assert name in heading.inner_text() and "依据的条款" in heading.inner_text()
    card.locator("blockquote.pb-clause").first.wait_for()
    heading.scroll_into_view_if_needed()
    shot(page, "phone-390-card-clauses")
    page.context.close()


@pytest.mark.browser
def test_on_a_desktop_a_table_row_opens_its_clauses_under_the_policy_name_and_the_report_downloads(browser, app):
    page = fill_and_match(browser, app, 1366, 850)
    assert page.locator("#pb-verdicts").is_visible() and not page.locator("#pb-verdict-cards").is_visible()
    row = page.locator("#pb-verdicts .virtual-row[role=row]").first
    name = row.locator("[role=gridcell]").first.inner_text().strip()
    row.locator("[role=gridcell]").first.click()
    heading = page.locator("#pb-verdict-clause .pb-clauses-heading")
    heading.wait_for()
    assert name in heading.inner_text()
    shot(page, "desktop-1366-verdicts")
    heading.scroll_into_view_if_needed()
    shot(page, "desktop-1366-row-clauses")
    page.locator("#pb-report").click()
    link = page.locator("#pb-report-file a").first
    link.wait_for()
    pdf = httpx.get(link.get_attribute("href") if link.get_attribute("href").startswith("http")
                    else app.rstrip("/") + link.get_attribute("href"), timeout=60).content
    assert pdf.startswith(b"%PDF") and name in pdf_text(pdf)
    page.locator("#pb-report-file").scroll_into_view_if_needed()
    shot(page, "desktop-1366-report")
    page.context.close()


# ---- 3. the report from the command line ----

def pdf_text(pdf: bytes) -> str:
    """pdftotext's reading of a PDF, without the line breaks and spaces its layout adds."""
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext is missing: apt-get install -y poppler-utils")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return re.sub(r"\s", "", text)


def run_match(index_dir: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYBOT_")}
    env.update(POLICYBOT_INDEX_DIR=str(index_dir), POLICYBOT_EMBEDDER="hash")
    return subprocess.run([sys.executable, "-m", "bot.cli", "match", "--profile", str(PROFILE), *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


def test_the_cli_report_is_an_a4_pdf_with_every_verdict_citation_and_the_disclaimer(index_dir, tmp_path):
    from pypdf import PdfReader

    out = tmp_path / "报告.pdf"
    done = run_match(index_dir, tmp_path, "--json", "--report", str(out))
    assert done.returncode == 0, done.stderr
    verdicts = json.loads(done.stdout)["verdicts"]  # --json stays parseable: the report's path is on stderr
    reader = PdfReader(out)
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)  # A4
    fonts = [f for p in reader.pages for f in _fonts(p)]
    assert fonts and all("/FontFile2" in f for f in fonts if "WenQuanYi" in str(f.get("/FontName", "")))
    assert any("WenQuanYi" in str(f.get("/FontName", "")) for f in fonts)  # the CJK font is embedded
    text = pdf_text(out.read_bytes())
    for v in verdicts:
        assert re.sub(r"\s", "", v["name"]) in text
        for line in v["citation_lines"]:
            assert re.sub(r"\s", "", line) in text, line
        if v["amendment_note"]:
            assert re.sub(r"\s", "", v["amendment_note"]) in text
    assert "本报告不构成法律意见或行政认定" in text and "✓" in text and "✘" in text
    assert "示例·安顺某高端装备企业" in text and "营业收入：3亿元" in text  # the enterprise's facts
    assert "营业收入：3亿元（上一纳税年度" in text and "资产总额（全年季度平均值）：" in text  # and which year


def test_the_cli_report_can_be_a_docx_and_refuses_other_suffixes(index_dir, tmp_path):
    from docx import Document

    done = run_match(index_dir, tmp_path, "--report", str(tmp_path / "r.docx"))
    assert done.returncode == 0, done.stderr
    text = "\n".join(p.text for p in Document(tmp_path / "r.docx").paragraphs)
    assert "本报告不构成法律意见或行政认定" in text and "研发费用税前加计扣除" in text
    bad = run_match(index_dir, tmp_path, "--report", str(tmp_path / "r.txt"))
    assert bad.returncode != 0 and ".pdf 或 .docx" in bad.stderr and "Traceback" not in bad.stderr


def _fonts(page) -> list:
    out = []
    for font in (page.get("/Resources", {}).get("/Font", {}) or {}).values():
        font = font.get_object()
        for descendant in font.get("/DescendantFonts", []) or []:
            font = descendant.get_object()
        if "/FontDescriptor" in font:
            out.append(font["/FontDescriptor"].get_object())
    return out
