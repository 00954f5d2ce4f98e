"""Numbers as Chinese texts write them: 四亿, 1.5亿, 三千万, 百分之五, 二〇二五, 一百零五, 第九十五条.

`parse_number` reads one numeral (Chinese, Arabic or mixed) as a Decimal; `to_chinese_numeral` goes
back (95 -> 九十五) for clause references; `numbers` finds every figure in a text with its unit and
a value that is the same however it is written (1000万元 = 一千万元 = 1,000万元, 50% = 百分之五十,
三年 = 3年), leaving out Chinese numerals that are not quantities (十四五, 千亿级, 第一, 一事一议,
一家企业, 统一); `written_values` is the lenient reading a rule validator wants ("is 3 written here?");
`iso_date` reads 2021年11月13日 and 二〇二一年十一月十三日.
"""

from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .width import GROUPED_DIGITS, compact, fold

DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
# Characters of article and item numbers (第…条, （…）, …、): a regex character class's contents.
NUMERAL_CHARS = "零〇一二两三四五六七八九十百千"
# One Chinese numeral in running text: 三千万, 二〇二五, 一点五.
CN_NUM = r"[零〇一二两三四五六七八九十百千][零〇一二两三四五六七八九十百千万亿]*(?:点[零〇一二三四五六七八九]+)?"
MULTIPLIERS = {"万亿": 10**12, "千万": 10**7, "百万": 10**6, "十万": 10**5, "亿": 10**8, "万": 10**4, "千": 10**3}

_PLAIN = re.compile(r"-?\d+(?:\.\d+)?")
_TOKEN = re.compile(r"\d+(?:\.\d+)?|.")


# ---------------------------------------------------------------- one numeral


def parse_number(text: str) -> Decimal | None:
    """The value of one numeral, or None if `text` is not one: 四亿 -> 400000000, 1.5亿, 三千万,
    1,000万, 1亿5000万, 二〇二五 -> 2025, 十四 -> 14, 一百零五 -> 105, 两千, 一万五 -> 15000 (the
    spoken elision), 一点五 -> 1.5. A percentage gives its percent points: 百分之五 = 5% -> 5, 5‰ -> 0.5.
    Not numbers: 十四五 (a plan's name), 万 alone, 十百."""
    s = compact(text)
    scale = Decimal(1)
    if s.startswith("百分之"):
        s = s[3:]
    elif s.endswith("%"):
        s = s[:-1]
    elif s.endswith("‰"):
        s, scale = s[:-1], Decimal("0.1")
    sign = -1 if s.startswith("-") else 1
    value = _big(s.removeprefix("-"))
    return None if value is None else sign * value * scale


def _big(s: str) -> Decimal | None:
    """Split at 亿, then at 万: each side is a smaller numeral (三千五百万 = 三千五百 x 万)."""
    for mark, factor in (("亿", 10**8), ("万", 10**4)):
        if mark in s:
            high_text, low_text = s.split(mark, 1)
            high = _big(high_text) if high_text else None  # 万 alone is no number
            if high is None:
                return None
            if low_text in DIGITS or (len(low_text) == 1 and low_text.isdigit()):
                low: Decimal | None = _small(low_text) * factor / 10  # 一万五 = 15000
            else:
                low = _big(low_text) if low_text else Decimal(0)
            if low is None or low >= factor:
                return None
            return high * factor + low
    return _small(s)


def _small(s: str) -> Decimal | None:
    """A numeral below 10000: 二〇二五, 一百零五, 三千五 (= 3500), 5千, 1.5, 三点一四."""
    if not s:
        return None
    whole, point, frac = s.partition("点")
    if point:
        if not frac or any(c not in DIGITS for c in frac):
            return None
        head = _small(whole) if whole else None
        return None if head is None else head + Decimal("0." + "".join(str(DIGITS[c]) for c in frac))
    if _PLAIN.fullmatch(s):
        return Decimal(s)
    if len(s) > 1 and all(c in DIGITS for c in s):  # 二〇二五
        return Decimal("".join(str(DIGITS[c]) for c in s))
    total, pending, last_unit, zero = Decimal(0), None, None, False
    for token in _TOKEN.findall(s):
        if token in SMALL_UNITS:
            unit = SMALL_UNITS[token]
            if last_unit is not None and unit >= last_unit:
                return None  # 十百
            total += (Decimal(1) if pending is None else pending) * unit
            pending, last_unit, zero = None, unit, False
        elif token in "零〇○":
            zero = True
        elif token in DIGITS or token[0].isdigit():
            if pending is not None:
                return None  # 十四五: two digits with no unit between
            pending = Decimal(token) if token[0].isdigit() else Decimal(DIGITS[token])
        else:
            return None
    if pending is not None:
        if last_unit in (100, 1000) and not zero and pending < 10:
            pending *= last_unit // 10  # 三千五 = 3500, 一百五 = 150
        total += pending
    return total


def to_chinese_numeral(n: int) -> str:
    """95 -> 九十五, 10 -> 十, 105 -> 一百零五, 110 -> 一百一十, 1259 -> 一千二百五十九: as legal texts
    number their articles (第一千二百五十九条)."""
    if n < 0:
        raise ValueError(f"no Chinese numeral for {n}")
    if n == 0:
        return "零"
    text = _grouped(n)
    return text[1:] if text.startswith("一十") else text


def _grouped(n: int) -> str:
    for mark, factor in (("亿", 10**8), ("万", 10**4)):
        if n >= factor:
            high, low = divmod(n, factor)
            tail = "" if low == 0 else ("零" if low < factor // 10 else "") + _grouped(low)
            return _grouped(high) + mark + tail
    out, gap = "", False
    for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // unit % 10
        if digit:
            out += ("零" if gap and out else "") + "零一二三四五六七八九"[digit] + name
            gap = False
        else:
            gap = True
    return out


def clause_numeral(raw: str) -> str:
    """An article or item number as the clause path writes it: 95 -> 九十五; 九十五 and 0 stay."""
    return to_chinese_numeral(int(raw)) if raw.isdigit() and int(raw) > 0 else raw


# ---------------------------------------------------------------- figures in text

# Units a figure may carry, longest first. Arabic figures may also carry 月 and 号 (11月, 32号).
UNITS = (
    "个百分点|个工作日|个会计年度|个纳税年度|个年度|个月|工作日|会计年度|纳税年度|年度|周年|周岁|小时|季度"
    "|年|日|天|周|倍|元|人|名|家|项|件|个|岁|亩"
)
_COUNT_WORDS = {"个", "项", "家", "名", "人"}  # 一家企业, 一个团队: "a", not a figure
_REF_UNITS = "条款项章节目"
_SCALE = r"万亿|千万|百万|亿|万"

_PERCENT_CN = re.compile(rf"百分之\s*({CN_NUM}|\d+(?:\.\d+)?)")
_REF = re.compile(rf"第\s*({CN_NUM}|\d+)\s*([{_REF_UNITS}])")
_NOT_AFTER = "统唯同逐单专划归合进"  # 统一, 唯一, 同一, 逐一…: a word, not a figure
_CN_QUANTITY = re.compile(
    rf"(?<![{_NOT_AFTER}])({CN_NUM})(?:[ \t]*个[ \t]*多?[ \t]*({_SCALE})(?:[ \t]*({UNITS}))?|[ \t]*({UNITS}))")
# 三千万 with no unit (a sum); not 千亿级, 万分之, nor 千万 alone ("千万不要": no digit, see numbers()).
_CN_SCALED = re.compile(rf"(?<![{_NOT_AFTER}])((?>{CN_NUM}))(?![级分])")
_ARABIC = re.compile(
    rf"(?<![A-Za-z0-9.])({GROUPED_DIGITS}(?:\.\d+)?|\d+(?:\.\d+)?)"
    rf"(?:[ \t]*(?:个[ \t]*多?[ \t]*)?({_SCALE}|千)(?:(?<=亿)[ \t]*(\d+(?:\.\d+)?)[ \t]*万)?)?"
    rf"(?:[ \t]*([%‰])|[ \t]*({UNITS}|月|号))?"
)


@dataclass(frozen=True)
class Number:
    """A figure in a text: as written (`text`, at `start`:`end` of the text given), its kind
    (amount | percent | ref), its value (money in 元, a percent in percent points, a ref its number)
    and its unit word (元, 年, 个月, 人, %, 条…; "" if none)."""

    text: str
    kind: str
    value: Decimal
    unit: str = ""
    start: int = 0
    end: int = 0
    scaled: bool = False  # written with 万/亿 (3亿, 三千万): money when it has no other unit

    @property
    def key(self) -> tuple[str, Decimal]:
        """What two figures must share to be the same figure."""
        return (self.kind, self.value)

    @property
    def is_money(self) -> bool:
        return self.kind == "amount" and (self.unit == "元" or (self.scaled and not self.unit))


def numbers(text: str) -> list[Number]:
    """Every figure in `text`, left to right. Read in this order, an earlier reading claiming its
    span: 百分之…, 第…条, Chinese numerals with a unit (or with 万/亿), Arabic figures."""
    return list(_numbers(text))


@lru_cache(maxsize=8192)
def _numbers(text: str) -> tuple[Number, ...]:
    """Cached: an ask reads the same clause sentences as the asks before it."""
    folded = fold(text)
    taken: list[tuple[int, int]] = []
    found: list[Number] = []

    def add(m: re.Match[str], kind: str, value: Decimal | None, unit: str, scaled: bool = False) -> None:
        if all(m.end() <= s or m.start() >= e for s, e in taken):
            taken.append((m.start(), m.end()))
            if value is not None:
                found.append(Number(text[m.start():m.end()], kind, value, unit, m.start(), m.end(), scaled))

    for m in _PERCENT_CN.finditer(folded):
        add(m, "percent", parse_number(m.group(1)), "%")
    for m in _REF.finditer(folded):
        add(m, "ref", parse_number(m.group(1)), m.group(2))
    for m in _CN_QUANTITY.finditer(folded):
        numeral, scale, unit = m.group(1), m.group(2), m.group(3) or m.group(4) or ""
        value = parse_number(numeral)
        if value is not None and scale:
            value *= MULTIPLIERS[scale]
        skip = numeral == "一" and unit in _COUNT_WORDS and not scale
        add(m, "amount", None if skip else value, unit, bool(scale) or _scaled(numeral))
    for m in _CN_SCALED.finditer(folded):
        numeral = m.group(1)
        if numeral[-1] in "万亿" and any(c in "一二两三四五六七八九" for c in numeral):
            add(m, "amount", parse_number(numeral), "", True)
    for m in _ARABIC.finditer(folded):
        value = Decimal(m.group(1).replace(",", "").replace("，", ""))
        scale, rest, percent, unit = m.group(2), m.group(3), m.group(4), m.group(5) or ""
        if scale:
            value = value * MULTIPLIERS[scale] + (Decimal(rest) * 10**4 if rest else 0)
        if percent:
            add(m, "percent", value / 10 if percent == "‰" else value, "%")
        else:
            add(m, "amount", value, unit, scale not in (None, "千"))
    return tuple(sorted(found, key=lambda n: n.start))


def _scaled(numeral: str) -> bool:
    return "万" in numeral or "亿" in numeral


_CN_RUN = re.compile(r"[零〇一二两三四五六七八九十百千]+")
_ARABIC_RUN = re.compile(r"\d+(?:\.\d+)?")


def written_values(text: str) -> set[float]:
    """Every number as the text writes it, unit aside: 5,000万元 -> 5000, 百分之五十 -> 50, 一年 -> 1,
    and an amount in 亿 also in 万 (3亿元 -> 3 and 30000), so a rule's threshold in either unit is found."""
    s = compact(text)
    found: set[float] = set()
    s = _PERCENT_RUN.sub(lambda m: _arabic(m.group(1)) + "%", s)
    for rx in (_ARABIC_RUN, _CN_RUN):
        for m in rx.finditer(s):
            value = parse_number(m.group(0))
            if value is not None:
                found.add(float(value))
                if s.startswith("亿", m.end()):
                    found.add(float(value) * 10000)
    return found


_PERCENT_RUN = re.compile(rf"百分之({_CN_RUN.pattern})")


def _arabic(run: str) -> str:
    value = parse_number(run)
    return run if value is None else format(value, "f")


# ---------------------------------------------------------------- dates

_DATE = re.compile(r"(\d{4})\s*[年\-./]\s*(\d{1,2})\s*[月\-./]\s*(\d{1,2})\s*日?")
_CN_DATE = re.compile(r"([〇零○一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日")


def iso_date(text: str, whole: bool = False) -> str:
    """yyyy-mm-dd of the first date in `text` (2021-11-13, 2021年11月13日, 2021.11.13,
    二〇二一年十一月十三日); "" if none or not a calendar day. `whole`: only if `text` is just the date."""
    value = fold(text).strip()
    for rx in (_DATE, _CN_DATE):
        m = rx.fullmatch(value) if whole else rx.search(value)
        if m:
            year, month, day = (int(parse_number(g) or 0) for g in m.groups())
            try:
                return date(year, month, day).isoformat()
            except ValueError:
                return ""
    return ""


_PERIOD = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*(?:年|[-./])\s*(?:(\d{1,2})\s*(?:月|[-./])?\s*(?:(\d{1,2})\s*[日号]?)?)?")


def latest_day(text: str) -> date | None:
    """The last day a date as people write it allows: 2019年3月5日 -> 2019-03-05, 2019年3月 ->
    2019-03-31, 2019年 -> 2019-12-31 (so a "满一年" counted from it is never claimed early); None if
    there is no calendar year in `text`."""
    m = _PERIOD.search(fold(text))
    if not m:
        return None
    year, month, day = int(m.group(1)), int(m.group(2) or 12), m.group(3)
    if not 1 <= month <= 12:
        return None
    last = (date(year + month // 12, month % 12 + 1, 1) - date.resolution)
    try:
        return date(year, month, int(day)) if day else last
    except ValueError:
        return None
