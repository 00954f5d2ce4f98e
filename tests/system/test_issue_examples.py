"""Issue 16's "Tried as a new user would" list, asked as that user asked: through a running `python app.py`'s
/ask API (a default gradio_client), over a copy of the shipped corpus into which a local policy was
ingested with the real CLI and the real embedder, as in the issue's session. Follow-ups go through
`ask --questions` with a line of turns, one conversation per line.

Each example is held to the lead the issue names as right (the 答： line a person reads first).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..leads import LAW, MEASURES, PLAN, REG, TRANSFER_LAW, lists_every_item, states_the_current_rule
from ..webapp import web_app

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
UPLOADED_SLUG = "guiyang-hitech-zone-rd-subsidy-2024"
UPLOADED = """标题: 贵阳国家高新区企业研发投入补助实施办法（试行）
文号: 筑高新管发〔2024〕12号
发布机关: 贵阳国家高新技术产业开发区管理委员会
成文日期: 2024-03-15

贵阳国家高新区企业研发投入补助实施办法（试行）

第一条 为引导企业加大研发投入，提升自主创新能力，结合高新区实际，制定本办法。

第二条 本办法适用于在贵阳国家高新区注册登记、具有独立法人资格、依法纳税的企业。

第三条 上一年度研发投入超过500万元，且研发投入占营业收入比例不低于3%的企业，可以申请研发投入补助。

第四条 研发投入补助按企业上一年度研发投入增量部分的10%给予补助，单个企业每年补助金额最高不超过200万元。

第五条 企业应当在每年6月30日前向高新区科技创新局提交补助申请及研发费用专项审计报告。

第六条 本办法由高新区科技创新局负责解释，自发布之日起施行，有效期三年。
"""
CONVERSATIONS = {
    "same-subject": ["高新技术企业所得税税率是多少？", "那需要什么条件？"],
    "provincial-zone": ["在国家高新区工作的外籍专家，工作许可年龄能放宽到多少岁？", "省级高新区也可以吗？"],
    "subject-switch": ["做锂电池的企业适合去贵州哪个高新区？", "那大数据电子信息呢？"],
}
RECOGNITION_CONDITIONS = ["注册成立一年以上", "知识产权", "高新技术领域", "不低于10%", "研究开发费用", "不低于60%", "创新能力",
                          "环境违法"]


def cli(work: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """`policybot …` as a user runs it on `work`'s index and data folders, with the real embedder."""
    env = {k: v for k, v in os.environ.items() if k not in ("POLICYBOT_EMBEDDER", "POLICYBOT_CHROMA_URL")}
    env.update(POLICYBOT_INDEX_DIR=str(work / "index"), POLICYBOT_DATA_DIR=str(work / "data"))
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def session(corpus_index_dir, tmp_path_factory) -> Path:
    """A copy of the corpus and its index, with the issue's local policy added and ingested by the CLI."""
    work = tmp_path_factory.mktemp("issue-16")
    shutil.copytree(ROOT / "corpus", work / "corpus")
    shutil.copytree(corpus_index_dir, work / "index")
    (work / "corpus" / f"{UPLOADED_SLUG}.txt").write_text(UPLOADED, encoding="utf-8")
    done = cli(work, "ingest", "--quiet", str(work / "corpus"))
    assert done.returncode == 0 and "文档 7 篇" in done.stdout, done.stdout + done.stderr
    return work


@pytest.fixture(scope="module")
def ask(session):
    """Ask the running app's /ask API as a program would; the API's answer dict."""
    from gradio_client import Client

    with web_app(session / "index", session / "app.log", POLICYBOT_CORPUS_DIR=str(session / "corpus"),
                 POLICYBOT_RATE_LIMIT="0") as url:  # one client asks every example in a row
        client = Client(url, verbose=False)
        yield lambda question: client.predict(question, api_name="/ask")


@pytest.fixture(scope="module")
def conversations(session, tmp_path_factory) -> dict[str, list[dict]]:
    """Each conversation's `ask --questions --json` results, one per turn, by conversation id."""
    questions = tmp_path_factory.mktemp("turns") / "conversations.jsonl"
    questions.write_text("".join(
        json.dumps({"id": cid, "turns": [{"question": q} for q in turns]}, ensure_ascii=False) + "\n"
        for cid, turns in CONVERSATIONS.items()), encoding="utf-8")
    done = cli(session, "ask", "--questions", str(questions), "--json")
    assert done.returncode == 0, done.stderr
    results: dict[str, list[dict]] = {}
    for line in done.stdout.splitlines():
        row = json.loads(line)
        results.setdefault(row["id"].split("#")[0], []).append(row)
    return results


def cited(answer: dict) -> list[str]:
    return [c["clause_id"] for c in answer["citations"]]


@pytest.mark.parametrize(
    "question,stated,unstated,clause",
    [
        pytest.param("创业投资企业投资未上市的中小高新技术企业，能抵扣多少？", ["70%"], [], f"{REG}#第九十七条",
                     id="venture-capital"),
        pytest.param("科技人员转化职务成果能拿多少奖励？", ["不低于百分之五十"], [], f"{TRANSFER_LAW}#第四十五条", id="inventor-reward"),
        pytest.param("小型微利企业的标准是什么？", ["从业人数", "资产总额"], ["20%", "20％"], f"{REG}#第九十二条",
                     id="small-low-profit-criteria"),
        pytest.param("贵阳高新区研发投入补助单个企业最高多少？", ["200万元"], [], f"{UPLOADED_SLUG}#第四条", id="uploaded-cap"),
        pytest.param("公益性捐赠扣除比例", ["12[%％]"], [], None, id="keyword-rate"),
        pytest.param("电子设备折旧年限", ["3年"], [], f"{REG}#第六十条", id="keyword-duration"),
        pytest.param("什么是小型微利企业", ["非限制和禁止行业"], [], f"{REG}#第九十二条", id="what-is"),
        pytest.param("高企所得税税率", ["15％"], [], f"{LAW}#第二十八条", id="abbreviation-高企"),
        pytest.param("小微企业标准", ["从业人数", "资产总额"], ["20%", "20％"], f"{REG}#第九十二条", id="abbreviation-小微"),
        pytest.param("加计扣除怎么算", ["100%"], [], None, id="abbreviation-加计扣除"),
    ],
)
def test_an_example_leads_with_the_figure_or_condition_asked_for(ask, question, stated, unstated, clause):
    answer = ask(question)
    assert not answer["abstained"], answer["lead"]
    assert all(re.search(s, answer["lead"]) for s in stated), answer["lead"]
    assert not any(u in answer["lead"] for u in unstated), answer["lead"]
    assert clause is None or cited(answer)[0] == clause


def test_a_revenue_picks_its_tier_and_the_checklist_holds_only_that_tier(ask):
    answer = ask("研发费用占比要多少才能认定高新技术企业？我们营收1.5亿")
    assert "不低于4%" in answer["lead"] and "不低于5%" not in answer["lead"] and "不低于3%" not in answer["lead"]
    assert "✗" not in answer["answer"], answer["answer"]  # the other tiers' bounds are not checked against it
    assert cited(answer)[0] == f"{MEASURES}#第十一条"


@pytest.mark.parametrize(
    "question,clause,current,number,outdated",
    [
        ("研发费用加计扣除比例是多少？", f"{REG}#第九十五条", "100%", "2023年第7号", "50%"),
        ("研发费加计扣除比例", f"{REG}#第九十五条", "100%", "2023年第7号", "50%"),
        ("高新技术企业亏损可以结转几年？", f"{LAW}#第十八条", "10年", "财税〔2018〕76号", "五年"),
    ],
    ids=["super-deduction", "abbreviation-研发费", "loss-carry-forward"],
)
def test_an_amended_rule_leads_with_the_current_figure(ask, question, clause, current, number, outdated):
    answer = ask(question)
    assert states_the_current_rule(answer["lead"], current, number, outdated), answer["lead"]
    assert cited(answer)[0] == clause


@pytest.mark.parametrize("question", ["高新技术企业认定需要满足哪些条件？", "高新技术企业认定条件", "高企认定条件"],
                         ids=["question", "keyword", "abbreviation"])
def test_the_recognition_conditions_lead_with_all_eight_or_say_there_are_eight(ask, question):
    answer = ask(question)
    assert lists_every_item(answer["lead"], RECOGNITION_CONDITIONS), answer["lead"]
    assert cited(answer)[0] == f"{MEASURES}#第十一条"


@pytest.mark.parametrize(
    "question",
    [
        pytest.param("申请省级技术创新中心需要准备哪些材料？", id="materials"),
        pytest.param("今年的高新技术企业认定什么时候截止申报？", id="this-years-deadline"),
        pytest.param("新认定的省级技术创新中心能拿多少补助？", id="named-programme-sum"),
        pytest.param("科技成果转化项目在哪个平台申报？", id="website"),
        pytest.param("杭州高新区对高企有什么奖励？", id="another-city"),
    ],
)
def test_a_detail_the_corpus_does_not_state_is_not_answered_from_the_topics_clause(ask, question):
    answer = ask(question)
    assert answer["abstained"] is True and not answer["citations"], answer["lead"]
    assert "没有" in answer["lead"], answer["lead"]


@pytest.mark.parametrize(
    "conversation,stated,clauses",
    [
        pytest.param("same-subject", ["条件"], {f"{MEASURES}#第十一条", f"{REG}#第九十三条"}, id="same-subject"),
        pytest.param("provincial-zone", ["不能", "国家高新区"], {f"{PLAN}#八.(十九)"}, id="provincial-zone"),
        pytest.param("subject-switch", ["贵阳国家高新区", "大数据电子信息"], {f"{PLAN}#五.(十)"}, id="subject-switch"),
    ],
)
def test_a_follow_up_is_answered_about_the_subject_it_keeps_or_switches_to(conversations, conversation, stated, clauses):
    first, follow_up = conversations[conversation]
    assert follow_up["lead"] != first["lead"] and not follow_up["abstained"], follow_up["lead"]
    assert all(s in follow_up["lead"] for s in stated), follow_up["lead"]
    assert cited(follow_up)[0] in clauses
