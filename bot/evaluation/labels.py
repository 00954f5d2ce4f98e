"""The Chinese names a person reads for the evaluation's metrics, question categories and retrieval
modes (the 评测 tab, its report and the charts); metrics.json keeps the English keys programs read."""

from __future__ import annotations

METRICS = {
    "recall@1": "前 1 条召回率 Recall@1",
    "recall@3": "前 3 条召回率 Recall@3",
    "recall@5": "前 5 条召回率 Recall@5",
    "mrr": "平均倒数排名 MRR",
    "ndcg@5": "排序质量 nDCG@5",
    "must_mention_recall": "关键事实召回率",
    "lead_must_mention_recall": "首句关键事实召回率",
    "citation_precision": "引用精确率",
    "citation_recall": "引用召回率",
    "abstention_rate": "不可答问题的拒答率",
    "false_abstention_rate": "可答问题的误拒率",
    "exact_quote_rate": "原文引用准确率",
    "accuracy": "政策匹配准确率",
    "search_ms": "检索耗时 p95",  # the summary's latency rows
    "answer_ms": "回答耗时 p50 / p95",
}
CATEGORIES = {
    "amount": "金额",
    "eligibility": "资格判断",
    "lookup": "条款查找",
    "procedure": "办理流程",
    "responsibility": "责任单位",
    "superseded": "修订后的规定",
    "target": "支持对象",
    "trap": "易混淆问题",
    "multi_doc": "跨文件问题",
    "out_of_scope": "超出政策范围",
    "": "未分类",
}
MODES = {"hybrid": "混合检索", "dense": "向量检索", "bm25": "关键词检索", "system": "外部系统的回答"}


def category_name(category: str) -> str:
    """A category as a person reads it; a set's own category without a Chinese name as written."""
    return CATEGORIES.get(category, category)


def mode_name(mode: str) -> str:
    return MODES.get(mode, mode)
