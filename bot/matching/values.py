"""The value types of an enterprise profile: strict about what a value means, lenient about how it
is written, and bounded.

Money is in 万元 (a string such as "3亿元" or "5000万元" is converted), percentages are percent
(6 means 6%; 0.06 is refused, not guessed at), counts are whole numbers, booleans may be written
是/否. Numbers must be finite and within bounds far above any real enterprise (MAX_WAN, …). A
refused value is echoed at most SHOWN_CHARS long (`short_value`).
"""

from __future__ import annotations

import reprlib
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from bot.text.units import parse_money
from bot.text.width import fold

_ZONE_ALIASES = {"国家级": "national", "国家": "national", "国家高新区": "national", "国家级高新区": "national",
                 "省级": "provincial", "省": "provincial", "省级高新区": "provincial",
                 "无": "none", "否": "none", "不在高新区": "none"}
_LISTING_ALIASES = {"未上市": "unlisted", "筹备上市": "preparing", "拟上市": "preparing", "已上市": "listed",
                    "上市": "listed"}
# Bounds far above any real enterprise: a value beyond them is a typo, a unit slip or a probe, and
# would otherwise flow into comparisons and reports as 1e308 or inf.
MAX_WAN = 1e12  # 万元 (10^16 元)
MAX_PERCENT = 1000.0
MAX_COUNT = 10_000_000  # people or patents
MAX_YEARS = 500.0
SHOWN_CHARS = 40  # an offending value is echoed at most this long: a 1 MB value must not make a 1 MB reply
_TRUE = {"是", "有", "对", "true", "yes", "y", "1"}
_FALSE = {"否", "无", "没有", "不是", "false", "no", "n", "0"}


def _not_bool(value: Any) -> Any:
    """YAML reads yes/true as a boolean; a number field must not take it as 1."""
    if isinstance(value, bool):
        raise ValueError(f"应为数字，收到 {value}")  # noqa: TRY004 (pydantic turns only ValueError into a field error)
    return value


def _percent(value: Any) -> Any:
    """6 or "6%" -> 6.0; 0.06 (a fraction, not a percent) is refused."""
    _not_bool(value)
    if isinstance(value, str):
        text = fold(value).strip()
        if text.endswith("%"):
            try:
                return float(text[:-1])
            except ValueError:
                raise ValueError(f"应为百分数，如 6 表示 6%，收到 {short_value(value)}") from None
        value = text
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value  # let the float check name the type
    if 0 < number < 1:
        shown = short_text(str(value))
        raise ValueError(f"应填百分数，如 6 表示 6%，收到 {shown}（若指 {number * 100:g}%，请填 {number * 100:g}；"
                         f"若确为 {shown}%，请写成 \"{shown}%\"）")
    return value


def _at_most(limit: float, unit: str):
    """A check that a finite value lies within ±limit; the message names the bound and the unit."""
    def check(value: float) -> float:
        if abs(value) > limit:
            bound = f"下限 -{limit:g}" if value < 0 else f"上限 {limit:g}"
            raise ValueError(f"数值超出合理范围（{bound}{unit}），收到 {short_value(value)}")
        return value
    return check


def _money(value: Any) -> Any:
    """Amounts in 万元: "3亿元" -> 30000, "5000万" -> 5000, "4个亿", "三千万", "500000元" -> 50; numbers
    pass through; any other string is left for the float check to name."""
    if not isinstance(value, str):
        _not_bool(value)
        return value
    wan = parse_money(value)
    return value if wan is None else wan


def _yes_no(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return value


def _alias(table: dict[str, str]):
    def convert(value: Any) -> Any:
        return table.get(value.strip(), value.strip()) if isinstance(value, str) else value
    return convert


# allow_inf_nan=False: NaN and ±inf are refused as not finite (NaN is not "negative", inf not a number).
_FINITE = Field(allow_inf_nan=False)
Percent = Annotated[float, BeforeValidator(_percent), _FINITE, Field(ge=0), AfterValidator(_at_most(MAX_PERCENT, "%"))]
Share = Annotated[float, BeforeValidator(_percent), _FINITE, Field(ge=0, le=100)]
Money = Annotated[float, BeforeValidator(_money), _FINITE, Field(ge=0), AfterValidator(_at_most(MAX_WAN, " 万元"))]
# taxable income is negative in a loss year
SignedMoney = Annotated[float, BeforeValidator(_money), _FINITE, AfterValidator(_at_most(MAX_WAN, " 万元"))]
Count = Annotated[int, BeforeValidator(_not_bool), Field(ge=0), AfterValidator(_at_most(MAX_COUNT, ""))]
Years = Annotated[float, BeforeValidator(_not_bool), _FINITE, Field(ge=0), AfterValidator(_at_most(MAX_YEARS, " 年"))]
YesNo = Annotated[bool, BeforeValidator(_yes_no)]
Age = Annotated[int, BeforeValidator(_not_bool), Field(ge=16, le=100)]
ZoneLevel = Annotated[Literal["national", "provincial", "none"], BeforeValidator(_alias(_ZONE_ALIASES))]
ListingStatus = Annotated[Literal["unlisted", "preparing", "listed"], BeforeValidator(_alias(_LISTING_ALIASES))]


# ---- echoing a refused value ----

_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxdict, _SHORT.maxlist, _SHORT.maxstring, _SHORT.maxother = 2, 4, 4, SHOWN_CHARS, SHOWN_CHARS


def short_text(text: str, size: int = SHOWN_CHARS) -> str:
    return text if len(text) <= size else text[:size] + "…"


def short_value(value: Any) -> str:
    """A value as shown in a message, about SHOWN_CHARS characters at most: never a huge input whole."""
    if isinstance(value, str):
        return repr(short_text(value))
    try:
        return short_text(_SHORT.repr(value))  # bounded work even for a huge or deeply nested container
    except ValueError:  # an int too long to turn into digits
        return "（过长的数字）"
