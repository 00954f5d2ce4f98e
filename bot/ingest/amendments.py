"""Validity notes: clauses that later documents amended or repealed (corpus/amendments.yaml)."""

from __future__ import annotations

from pathlib import Path

from bot.errors import DocumentError
from bot.records import Amendment

_FIELDS = ("clause_id", "status", "by_title", "by_number", "by_date", "note")
STATUSES = {"amended": "已被修改", "repealed": "已废止"}


def load_amendments(path: Path) -> dict[str, Amendment]:
    """Parse and check the file; a malformed entry is an error naming the entry and field."""
    import yaml

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (OSError, yaml.YAMLError) as exc:
        raise DocumentError(path, f"无法解析：{str(exc).splitlines()[0]}") from None
    if not isinstance(raw, list):
        raise DocumentError(path, "应为条目列表")
    out: dict[str, Amendment] = {}
    for n, entry in enumerate(raw, 1):
        if not isinstance(entry, dict):
            raise DocumentError(path, f"第 {n} 条不是映射")
        missing = [f for f in _FIELDS if not str(entry.get(f) or "").strip()]
        if missing:
            raise DocumentError(path, f"第 {n} 条缺少字段：{', '.join(missing)}")
        if entry["status"] not in STATUSES:
            raise DocumentError(path, f"第 {n} 条 status 应为 {'/'.join(STATUSES)}，实际为 {entry['status']!r}")
        out[str(entry["clause_id"])] = Amendment(**{f: str(entry[f]).strip() for f in _FIELDS})
    return out


def status_line(amendment: Amendment | None) -> str:
    """The mark shown next to a clause: in force as written, or changed by which document."""
    if amendment is None:
        return "现行有效（以语料文本为准）"
    return f"{STATUSES[amendment.status]}：{amendment.by_number}《{amendment.by_title}》（{amendment.by_date}）"


def editor_note(amendment: Amendment) -> str:
    """Always labelled: this sentence is ours, not a quote from any document."""
    return f"【编者注】{amendment.note}（依据 {amendment.by_number}；该文件不在本语料库中）"
