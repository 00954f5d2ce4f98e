"""A profile pydantic refused, as one ProfileError line: the field (with its label and unit from
bot/text/facts.yaml), why, and at most a short clip of the value; a close field name for a typo."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection

from pydantic import ValidationError

from bot.errors import ProfileError
from bot.matching.values import SHOWN_CHARS, short_text, short_value
from bot.text.facts import fact


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-before", "function-after") or str(part).startswith(("function-", "literal[")):
            continue
        else:
            out += ("." if out else "") + short_text(str(part))
    return out


def _label(where: str) -> str:
    key = re.sub(r"\[\d+\]", "", where)
    try:
        info = fact(key)
    except KeyError:
        return ""
    if info.key != key and "." not in key:
        return ""  # an older top-level name (age, st_share) is no profile field: 未知字段 says so
    return f"（{info.label}{'，' + info.unit if info.unit else ''}）"


def _reason(error: dict, fields: Collection[str]) -> str:
    kind, value = error["type"], error.get("input")
    ctx = error.get("ctx") or {}
    shown = short_value(value)
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "missing":
        return "必须填写"
    if kind == "extra_forbidden":
        field = error["loc"][-1] if error["loc"] else ""
        close = difflib.get_close_matches(str(field)[:SHOWN_CHARS], list(fields), n=1)
        return "未知字段" + (f"，是否想写 {close[0]}？" if close else "")
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        return "不能为负数，收到 " + shown if bound == 0 else f"应不小于 {bound}，收到 {shown}"
    if kind in ("less_than_equal", "less_than"):
        return f"应不大于 {ctx.get('le', ctx.get('lt'))}，收到 {shown}"
    if kind == "literal_error":
        if error["loc"][-1] == "level":
            return f"应为 national（国家级）/ provincial（省级）/ none（不在高新区）之一，收到 {shown}"
        if error["loc"][-1] == "listing_status":
            return f"应为 unlisted（未上市）/ preparing（筹备上市）/ listed（已上市）之一，收到 {shown}"
        return f"应为 {ctx.get('expected', '')} 之一，收到 {shown}"
    if kind == "finite_number":
        return f"应为有限的数字（不能是 NaN 或无穷大），收到 {shown}"
    if kind.startswith(("int_", "float_")):
        if kind == "int_parsing_size":
            return f"数值超出合理范围，收到 {shown}"
        if kind == "int_from_float":
            return f"应为整数，收到 {shown}"
        return f"应为数字，收到 {shown}"
    if kind.startswith("bool_"):
        return f"应为 是/否（true/false），收到 {shown}"
    if kind.startswith(("date_", "datetime_")):
        return f"应为日期，如 2019-06-01，收到 {shown}"
    if kind in ("list_type", "model_type", "dict_type", "model_attributes_type"):
        if kind == "list_type":
            return f"应为列表，收到 {shown}"
        if error["loc"] and error["loc"][-1] == "zone":
            return f"应为字段映射，如 {{name: 贵阳国家高新区, level: national}}，收到 {shown}"
        return f"应为字段映射，收到 {shown}"
    if kind.startswith("string_"):
        return f"应为文字，收到 {shown}"
    return f"取值无效（{error['msg']}），收到 {shown}"


def profile_error(exc: ValidationError, path: object, fields: Collection[str]) -> ProfileError:
    """The first problem of `exc` (and how many more); `fields`: the profile's, for 是否想写 …？"""
    errors = exc.errors(include_url=False)
    first = errors[0]
    where = _where(first["loc"])
    if where:
        message = f"企业画像字段 {where}{_label(where)}：{_reason(first, fields)}"
    else:  # a whole-profile check: its message starts with the field it names
        message = f"企业画像有误：{_reason(first, fields)}"
        where = m.group(0) if (m := re.match(r"[a-z_]+", _reason(first, fields))) else ""
    if len(errors) > 1:
        message += f"（另有 {len(errors) - 1} 处问题）"
    return ProfileError(message, field=where, path=path)
