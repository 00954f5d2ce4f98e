"""The evaluation report as the 评测 tab's users read it: in Chinese, with Chinese metric, category and
retrieval-mode names (bot/evaluation/labels.py). The CLI's report.md (bot/evaluation/report.py) stays
the developers' English one; both are drawn from the same metrics.json.
"""

from __future__ import annotations

from typing import Sequence

from bot.evaluation.labels import METRICS, category_name, mode_name
from bot.evaluation.report import RECALL_CHART, SCORES_CHART, summary_table

CATEGORY_HEADERS = ["类别", "问题数", METRICS["recall@5"], METRICS["mrr"], METRICS["ndcg@5"], METRICS["must_mention_recall"],
                    METRICS["citation_precision"], METRICS["citation_recall"], METRICS["abstention_rate"],
                    METRICS["false_abstention_rate"]]
MODE_HEADERS = ["检索方式", "问题数", METRICS["recall@1"], METRICS["recall@3"], METRICS["recall@5"], METRICS["mrr"],
                METRICS["ndcg@5"], "耗时 p50（毫秒）", "耗时 p95（毫秒）"]


def _cell(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def category_rows(metrics: dict, mode: str) -> list[list[str]]:
    """One row per category: retrieval of `mode` next to the answer metrics."""
    retrieval = metrics.get("retrieval_by_category", {}).get(mode, {})
    answers = metrics.get("answers_by_category", {})
    rows = []
    for cat in sorted(set(retrieval) | set(answers)):
        r, a = retrieval.get(cat, {}), answers.get(cat, {})
        n = int(a.get("questions") or r.get("questions") or 0)
        rows.append([category_name(cat), str(n), _cell(r.get("recall@5")), _cell(r.get("mrr")), _cell(r.get("ndcg@5")),
                     _cell(a.get("must_mention_recall")), _cell(a.get("citation_precision")), _cell(a.get("citation_recall")),
                     _cell(a.get("abstention_rate")), _cell(a.get("false_abstention_rate"))])
    return rows


def counts_line(meta: dict, answers: bool) -> str:
    """How many questions were put, and how many turns answered unless only retrieval ran."""
    told = f"多轮 {meta.get('multi_turn_questions', 0)} 个，共回答 {meta.get('turns_scored', 0)} 轮" if answers else "仅评测检索，未生成回答"
    return f"**{meta.get('questions', 0)} 个问题**（{told}），用时 {meta.get('seconds', 0)} 秒。多轮问题的检索指标只看第一轮。"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers), *("| " + " | ".join(r) + " |" for r in rows)]


def _matching(matching: dict) -> list[str]:
    from bot.matching.engine import STATUS_LABELS

    profile = matching.get("profile_names", {})
    rule = matching.get("rule_names", {})
    lines = [f"按 {int(matching['profiles'])} 个企业画像核对 {int(matching['verdicts'])} 项预期结论，"
             f"{METRICS['accuracy']} {matching['accuracy']:.3f}。", ""]
    lines += _table(["企业画像", "核对项数", "准确率"],
                    [[profile.get(name, name), str(int(p["checked"])), _cell(p["accuracy"])]
                     for name, p in matching["by_profile"].items()])
    if matching["mismatches"]:
        lines += ["", "不一致的结论：", ""]
        lines += _table(["企业画像", "政策", "预期", "实际"],
                        [[profile.get(m["profile"], m["profile"]), rule.get(m["rule"], m["rule"]),
                          STATUS_LABELS.get(m["expected"], m["expected"]), STATUS_LABELS.get(m["got"], m["got"])]
                         for m in matching["mismatches"]])
    return lines


def render_chinese(metrics: dict, charts: Sequence[str] = ()) -> str:
    """report.md for the 评测 tab's download: summary, retrieval by mode and by category, matching."""
    meta = metrics.get("meta", {})
    answers = "answers" in metrics
    retrieval = metrics.get("retrieval", {})
    modes = list(retrieval)
    lines = ["# PolicyBot 评测报告", "", f"问题集 {meta.get('questions_file', '')}，评测于 {meta.get('date', '').replace('T', ' ')}。", "",
             counts_line(meta, answers), "", summary_table(metrics, chinese=True), "",
             "## 检索", "", f"按 {meta.get('retrieval_questions', 0)} 个附有标准原文（gold_quotes）的可回答问题计算："
             "检索到的段落包含某段标准原文（忽略空白），或连续包含其 60% 以上，即视为相关。", ""]
    lines += _table(MODE_HEADERS, [[mode_name(mode), str(int(m["questions"])), *(_cell(m[k]) for k in ("recall@1", "recall@3", "recall@5", "mrr", "ndcg@5")),
                                    _cell(m["p50_ms"], 1), _cell(m["p95_ms"], 1)] for mode, m in retrieval.items()])
    if RECALL_CHART in charts:
        lines += ["", f"![各类问题的检索召回率]({RECALL_CHART})"]
    if modes:
        lines += ["", f"## 分类指标（{mode_name(modes[0])}）", "", *_table(CATEGORY_HEADERS, category_rows(metrics, modes[0]))]
    if answers and SCORES_CHART in charts:
        lines += ["", "## 拒答", "", "拒答分数高于阈值时，机器人回答“没有找到政策依据”（问题点名具体条款或罕见专有名词时除外）。",
                  "", f"![拒答分数分布]({SCORES_CHART})"]
    if "matching" in metrics:
        lines += ["", "## 政策匹配", "", *_matching(metrics["matching"])]
    return "\n".join(lines) + "\n"
