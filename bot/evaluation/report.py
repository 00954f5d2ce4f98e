"""The evaluation report: report.md (summary table first), metrics.json and two PNG charts.

matplotlib is imported only when a chart is drawn (Agg backend), so the CLI and the web app do
not pay for it otherwise. Chinese labels are drawn in the font bot/fonts.py registers (shipped with
the Python install); without one the charts are drawn anyway with a warning (labels as boxes).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Sequence

from bot.evaluation.labels import METRICS, category_name, mode_name
from bot.evaluation.metrics import answer_table
from bot.evaluation.regressions import Change, changes_table, metric_changes

RECALL_CHART = "recall_by_category.png"
SCORES_CHART = "abstention_scores.png"

# The summary table, section by section of metrics.json: (label, metric, Chinese label's key in
# labels.METRICS) rows. Retrieval rows are of the summary mode (hybrid when it ran); a metric ending in
# _ms is a latency; a|b puts two metrics in one row.
SUMMARY = {
    "retrieval": [("Recall@1", "recall@1"), ("Recall@5", "recall@5"), ("MRR", "mrr"), ("nDCG@5", "ndcg@5"),
                  ("search p95", "p95_ms", "search_ms")],
    "answers": [("must_mention recall", "must_mention_recall"), ("citation precision", "citation_precision"),
                ("citation recall", "citation_recall"), ("abstention on unanswerable", "abstention_rate"),
                ("false abstention on answerable", "false_abstention_rate"), ("exact-quote rate", "exact_quote_rate"),
                ("answer p50 / p95", "p50_ms|p95_ms", "answer_ms")],
    "matching": [("matching accuracy", "accuracy")],
}


def summary_rows(mode: str, chinese: bool = False) -> list[tuple[str, list[str]]]:
    """(label, paths in metrics.json) of each summary row: ("Recall@1 (hybrid)", ["retrieval.hybrid.recall@1"]),
    or with `chinese` ("前 1 条召回率 Recall@1（混合检索）", [...])."""
    rows = []
    for section, metrics in SUMMARY.items():
        where = f"{section}.{mode}" if section == "retrieval" else section
        suffix = "" if section != "retrieval" else f"（{mode_name(mode)}）" if chinese else f" ({mode})"
        for label, metric, *key in metrics:
            shown = METRICS[key[0] if key else metric] if chinese else label
            rows.append((shown + suffix, [f"{where}.{name}" for name in metric.split("|")]))
    return rows


def _get(metrics: dict, dotted: str):
    node = metrics
    for part in _split(dotted):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _split(dotted: str) -> list[str]:
    """retrieval.hybrid.recall@1 -> parts; metric names hold no dots."""
    return dotted.split(".")


def _fmt(value, kind: str = "rate") -> str:
    if value is None:
        return "–"
    if kind in ("ms", "毫秒"):
        return f"{value:.1f} {kind}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def summary_mode(metrics: dict) -> str:
    modes = list(metrics.get("retrieval", {}))
    return "hybrid" if "hybrid" in modes else (modes[0] if modes else "hybrid")


def summary_table(metrics: dict, changes: Sequence[Change] = (), chinese: bool = False) -> str:
    mode = summary_mode(metrics)
    by_name = {c.metric: c for c in changes}
    head = ("| 指标 | 数值 |" if chinese else "| metric | value |") + ((" 之前 | |" if chinese else " before | |") if changes else "")
    rows = [head, "|---|---|" + ("---|---|" if changes else "")]
    for label, paths in summary_rows(mode, chinese):
        kind = ("毫秒" if chinese else "ms") if paths[0].endswith("_ms") else "rate"
        values = [_get(metrics, p) for p in paths]
        if all(v is None for v in values):
            continue
        row = f"| {label} | {' / '.join(_fmt(v, kind) for v in values)} |"
        if changes:
            old = [by_name[p].old if p in by_name else None for p in paths]
            marks = "".join(by_name[p].mark for p in paths if p in by_name)
            row += f" {' / '.join(_fmt(v, kind) for v in old)} | {marks} |"
        rows.append(row)
    return "\n".join(rows)


def category_retrieval_table(metrics: dict) -> str:
    per_mode = metrics.get("retrieval_by_category", {})
    modes = list(per_mode)
    cats = sorted({c for m in per_mode.values() for c in m})
    head = ["| category | n | " + " | ".join(f"{m} R@1 | {m} R@5 | {m} MRR | {m} nDCG@5" for m in modes) + " | p95 ms |",
            "|---|---|" + "---|" * (4 * len(modes)) + "---|"]
    rows = []
    for cat in cats:
        cells = []
        n = 0
        for m in modes:
            v = per_mode[m].get(cat, {})
            n = int(v.get("questions", 0)) or n
            cells += [_fmt(v.get("recall@1")), _fmt(v.get("recall@5")), _fmt(v.get("mrr")), _fmt(v.get("ndcg@5"))]
        p95 = per_mode[modes[0]].get(cat, {}).get("p95_ms") if modes else None
        rows.append(f"| {cat} | {n} | " + " | ".join(cells) + f" | {_fmt(p95, 'ms')} |")
    return "\n".join(head + rows)


def retrieval_modes_table(metrics: dict) -> str:
    rows = ["| mode | n | Recall@1 | Recall@3 | Recall@5 | MRR | nDCG@5 | p50 ms | p95 ms |", "|---|---|---|---|---|---|---|---|---|"]
    for mode, m in metrics.get("retrieval", {}).items():
        rows.append(f"| {mode} | {int(m['questions'])} | {m['recall@1']:.3f} | {m['recall@3']:.3f} | {m['recall@5']:.3f} "
                    f"| {m['mrr']:.3f} | {m['ndcg@5']:.3f} | {m['p50_ms']:.1f} | {m['p95_ms']:.1f} |")
    return "\n".join(rows)


def answers_table(metrics: dict) -> str:
    return answer_table(metrics["answers"], metrics.get("answers_by_category", {}), latency=True)


def matching_section(matching: dict) -> list[str]:
    lines = [f"{int(matching['verdicts'])} expected verdicts over {int(matching['profiles'])} profiles "
             f"(eval/profile_verdicts.yaml); accuracy {matching['accuracy']:.3f}.", "",
             "| profile | verdicts | accuracy |", "|---|---|---|"]
    lines += [f"| {name} | {int(p['checked'])} | {p['accuracy']:.3f} |" for name, p in matching["by_profile"].items()]
    if matching["mismatches"]:
        lines += ["", "Mismatches:", "", "| profile | rule | expected | got |", "|---|---|---|---|"]
        lines += [f"| {m['profile']} | {m['rule']} | {m['expected']} | {m['got']} |" for m in matching["mismatches"]]
    if matching.get("unscored_profiles"):
        lines += ["", "Profiles without expected verdicts (not scored): " + ", ".join(matching["unscored_profiles"])]
    return lines


def render_markdown(metrics: dict, changes: Sequence[Change] = (), charts: Sequence[str] = ()) -> str:
    meta = metrics.get("meta", {})
    lines = [
        "# PolicyBot evaluation report",
        "",
        f"{meta.get('source', '')} on `{meta.get('questions_file', '')}`: {meta.get('questions', 0)} questions "
        f"({meta.get('multi_turn_questions', 0)} multi-turn, {meta.get('turns_scored', 0)} turns answered), "
        f"{meta.get('date', '')}, {meta.get('seconds', 0)} s.",
        "",
        summary_table(metrics, changes),
        "",
    ]
    if "by_set" in metrics:
        from bot.evaluation.sets import sets_table

        lines += ["## Development and blind sets", "", "Each question set run on its own; the blind sets (eval/blind/) "
                  f"also pooled. The sections below are of the first set, `{meta.get('questions_file', '')}`.", "",
                  sets_table(metrics["by_set"]), ""]
    worse = [c for c in changes if c.worse]
    if changes:
        lines += ["## Regressions against the earlier report", "",
                  f"{len(worse)} metric(s) fell beyond the tolerance (▼)." if worse else "No metric fell beyond the tolerance.",
                  "", changes_table(worse if worse else changes), ""]
    lines += ["## Retrieval", "", f"Scored on {meta.get('retrieval_questions', 0)} answerable questions with gold quotes; "
              f"{meta.get('retrieval_note', '')}. A passage is relevant when it contains a gold quote (whitespace "
              "ignored) or 60% of one as a contiguous run; nDCG@5 counts each gold quote once.", "",
              retrieval_modes_table(metrics), "", "### Per category", "", category_retrieval_table(metrics), ""]
    if RECALL_CHART in charts:
        lines += [f"![Recall@5 per category]({RECALL_CHART})", ""]
    if "answers" in metrics:
        lines += ["## Answers", "", "Every turn of a multi-turn question is asked in one conversation and scored like a "
                  "single question.", "", answers_table(metrics), ""]
        if SCORES_CHART in charts:
            lines += ["Abstention score (the abstention model's P(no basis); the bot abstains above its threshold "
                      "unless the question names a clause or a rare exact term):", "", f"![Abstention scores]({SCORES_CHART})", ""]
    if meta.get("missing_outputs"):
        lines += [f"Outputs missing for {len(meta['missing_outputs'])} question(s): {', '.join(meta['missing_outputs'][:20])}", ""]
    if "matching" in metrics:
        lines += ["## Policy matching", "", *matching_section(metrics["matching"]), ""]
    return "\n".join(lines)


def draw_charts(metrics: dict, out_dir: Path) -> list[str]:
    """Recall@5 per category per mode, and the abstention-score histogram; returns the file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bot.fonts import matplotlib_cjk_family

    font = matplotlib_cjk_family()
    if font is None:
        warnings.warn("没有找到中文字体（请安装 paperang-p2-fonts-cjk），图中的中文可能显示为方框", stacklevel=2)
    rc = {"font.family": "sans-serif", "font.sans-serif": [font, "DejaVu Sans"] if font else ["DejaVu Sans"],
          "axes.unicode_minus": False}
    names = []
    with plt.rc_context(rc):
        per_mode = metrics.get("retrieval_by_category", {})
        cats = sorted({c for m in per_mode.values() for c in m})
        if cats:
            fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(cats) + 2), 4))
            width = 0.8 / max(1, len(per_mode))
            for i, (mode, by_cat) in enumerate(per_mode.items()):
                xs = [j + i * width for j in range(len(cats))]
                ax.bar(xs, [by_cat.get(c, {}).get("recall@5", 0.0) for c in cats], width, label=mode_name(mode))
            ax.set_xticks([j + width * (len(per_mode) - 1) / 2 for j in range(len(cats))], [category_name(c) for c in cats])
            ax.set_ylim(0, 1.2)
            ax.set_ylabel(METRICS["recall@5"])
            ax.set_title("各类问题的检索召回率（前 5 条）")
            ax.legend(loc="upper center", ncol=len(per_mode))
            fig.tight_layout()
            fig.savefig(out_dir / RECALL_CHART, dpi=110)
            plt.close(fig)
            names.append(RECALL_CHART)
        scores = metrics.get("abstention_scores", [])
        if scores:
            from bot.answering.abstention import AbstentionModel

            threshold = AbstentionModel.load().threshold
            fig, ax = plt.subplots(figsize=(7, 4))
            bins = [i / 20 for i in range(21)]
            ax.hist([s["score"] for s in scores if s["answerable"]], bins=bins, alpha=0.6, label="可回答的问题")
            ax.hist([s["score"] for s in scores if not s["answerable"]], bins=bins, alpha=0.6, label="不可回答的问题")
            ax.axvline(threshold, color="black", linestyle="--", label=f"拒答阈值 {threshold:.2f}")
            ax.set_xlabel("拒答分数（判断为无政策依据的概率）")
            ax.set_ylabel("问题数")
            ax.set_title("可回答与不可回答问题的拒答分数分布")
            ax.legend()
            fig.tight_layout()
            fig.savefig(out_dir / SCORES_CHART, dpi=110)
            plt.close(fig)
            names.append(SCORES_CHART)
    return names


def load_metrics(report_dir: Path) -> dict:
    from bot.errors import QuestionSetError

    path = Path(report_dir) / "metrics.json" if Path(report_dir).is_dir() else Path(report_dir)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise QuestionSetError(f"{path}：无法读取之前的评测结果（{type(exc).__name__}）") from None


def write_report(metrics: dict, out_dir: Path, previous: dict | None = None, charts: bool = True,
                 chinese: bool = False) -> Path:
    """Write metrics.json, the charts and report.md (with `chinese`, the 评测 tab's Chinese one) into
    out_dir; returns report.md's path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    changes = metric_changes(previous, metrics) if previous is not None else []
    if previous is not None:
        metrics = {**metrics, "regressions": [c.metric for c in changes if c.worse]}
    (out_dir / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    names = draw_charts(metrics, out_dir) if charts else []
    report = out_dir / "report.md"
    if chinese:
        from bot.evaluation.user_report import render_chinese

        report.write_text(render_chinese(metrics, names), encoding="utf-8")
    else:
        report.write_text(render_markdown(metrics, changes, names) + "\n", encoding="utf-8")
    return report
