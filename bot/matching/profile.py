"""The enterprise profile: the facts a company gives about itself, checked once on the way in.

Money is in 万元 (a string such as "3亿元" or "5000万元" is converted), percentages are percent
(6 means 6%; 0.06 is refused, not guessed at), counts are whole numbers, booleans may be written
是/否. Numbers must be finite and within bounds far above any real enterprise (MAX_WAN, …).
Anything malformed becomes a ProfileError whose one-line Chinese message names the field and
shows at most a short clip of the value it refuses.

`EnterpriseProfile.fact(name)` is what the matcher reads: a stored field, or one derived from
others (科技人员占比 from st_staff/employees, 成立年限 from the registration date, …), together with
the fields to ask about when it is unknown. Each name's label, unit and question are in
bot/text/facts.yaml (bot.text.facts).
"""

from __future__ import annotations

import difflib
import functools
import json
import re
import reprlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from bot.errors import ProfileError
from bot.text.facts import fact
from bot.text.units import parse_money
from bot.text.width import fold


_ZONE_ALIASES = {"国家级": "national", "国家": "national", "国家高新区": "national", "国家级高新区": "national",
                 "省级": "provincial", "省": "provincial", "省级高新区": "provincial",
                 "无": "none", "否": "none", "不在高新区": "none"}
_LISTING_ALIASES = {"未上市": "unlisted", "筹备上市": "preparing", "拟上市": "preparing", "已上市": "listed",
                    "上市": "listed"}
# Places named in the Guizhou plan's zone list: a zone so named is in Guizhou.
GUIZHOU_PLACES = ("贵州", "贵阳", "安顺", "遵义", "黔南", "黔西南", "毕节", "六盘水", "碧江", "铜仁", "黔东南")
_MAINLAND = {"中国", "中华人民共和国", "中国大陆", "cn", "chn", "china", "prc"}
# Bounds far above any real enterprise: a value beyond them is a typo, a unit slip or a probe, and
# would otherwise flow into comparisons and reports as 1e308 or inf.
MAX_WAN = 1e12  # 万元 (10^16 元)
MAX_PERCENT = 1000.0
MAX_COUNT = 10_000_000  # people or patents
MAX_YEARS = 500.0
SHOWN_CHARS = 40  # an offending value is echoed at most this long: a 1 MB value must not make a 1 MB reply
_TRUE = {"是", "有", "对", "true", "yes", "y", "1"}
_FALSE = {"否", "无", "没有", "不是", "false", "no", "n", "0"}


# ---- field types: strict about what a value means, lenient about how it is written ----

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
                raise ValueError(f"应为百分数，如 6 表示 6%，收到 {_clip(value)}") from None
        value = text
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value  # let the float check name the type
    if 0 < number < 1:
        shown = _cut(str(value))
        raise ValueError(f"应填百分数，如 6 表示 6%，收到 {shown}（若指 {number * 100:g}%，请填 {number * 100:g}；"
                         f"若确为 {shown}%，请写成 \"{shown}%\"）")
    return value


def _at_most(limit: float, unit: str):
    """A check that a finite value lies within ±limit; the message names the bound and the unit."""
    def check(value: float) -> float:
        if abs(value) > limit:
            bound = f"下限 -{limit:g}" if value < 0 else f"上限 {limit:g}"
            raise ValueError(f"数值超出合理范围（{bound}{unit}），收到 {_clip(value)}")
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


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Zone(_Model):
    name: str | None = Field(None, description="高新区名称，如 贵阳国家高新区")
    level: Annotated[Literal["national", "provincial", "none"], BeforeValidator(_alias(_ZONE_ALIASES))] = Field(
        description="national 国家级 / provincial 省级 / none 不在高新区")


class IPCounts(_Model):
    invention_patents: Count = 0
    utility_models: Count = 0
    design_patents: Count = 0
    software_copyrights: Count = 0
    other: Count = 0

    @property
    def total(self) -> int:
        return self.invention_patents + self.utility_models + self.design_patents + self.software_copyrights + self.other


class Talent(_Model):
    name: str | None = None
    age: Annotated[int, BeforeValidator(_not_bool), Field(ge=16, le=100)] | None = None
    nationality: str | None = Field(None, description="国籍或地区，如 德国、中国香港")
    position: str | None = None
    is_high_end: YesNo | None = Field(None, description="是否属于境外高端人才")

    @property
    def is_foreign(self) -> bool | None:
        """境外: anything but the Chinese mainland (so 中国香港 counts)."""
        if not self.nationality:
            return None
        return self.nationality.strip().lower() not in _MAINLAND

    def fact(self, name: str) -> Any:
        return self.is_foreign if name == "is_foreign" else getattr(self, name)

    def describe(self) -> str:
        """张三（63岁，德国）"""
        details = "，".join(([f"{self.age}岁"] if self.age is not None else []) + [self.nationality or ""]).strip("，")
        return f"{self.name or '人才'}（{details}）" if details else (self.name or "人才")


@dataclass(frozen=True)
class Fact:
    """A value the matcher can compare, or None with the profile fields to ask about."""

    value: Any
    ask: tuple[str, ...] = ()


class EnterpriseProfile(_Model):
    """What an enterprise tells us about itself. Unknown is None: the matcher asks, never guesses."""

    name: str | None = Field(None, description="企业名称")
    province: str | None = Field(None, description="注册所在省份，如 贵州")
    industry: str | None = Field(None, description="所属行业")
    zone: Zone | None = None
    registered_years: Years | None = Field(None, description="注册成立年限（年）")
    registration_date: date | None = Field(None, description="注册成立日期；给出时优先于 registered_years")
    revenue_wan: Money | None = Field(None, description="上一年度营业收入（销售收入），万元")
    rd_expense_wan: Money | None = Field(None, description="上一年度研发费用，万元")
    rd_intensity: Percent | None = Field(None, description="研发投入强度：研发费用占营业收入的百分比，6 表示 6%")
    rd_share_3y: Percent | None = Field(None, description="近三个会计年度研发费用总额占同期销售收入总额的百分比")
    domestic_rd_share: Share | None = Field(None, description="境内研发费用占全部研发费用的百分比")
    hightech_income_share: Share | None = Field(None, description="近一年高新技术产品（服务）收入占总收入的百分比")
    employees: Count | None = Field(None, description="职工总数（从业人数）")
    st_staff: Count | None = Field(None, description="科技人员数")
    ip: IPCounts | None = Field(None, description="知识产权件数")
    owns_core_ip: YesNo | None = None
    in_key_hitech_field: YesNo | None = None
    innovation_assessment_ok: YesNo | None = None
    major_incident_last_year: YesNo | None = None
    is_hightech: YesNo | None = None
    is_st_sme: YesNo | None = None
    is_tech_enterprise: YesNo | None = None
    is_high_growth: YesNo | None = None
    is_leading_enterprise: YesNo | None = None
    listing_status: Annotated[Literal["unlisted", "preparing", "listed"],
                              BeforeValidator(_alias(_LISTING_ALIASES))] | None = None
    taxable_income_wan: SignedMoney | None = Field(None, description="年度应纳税所得额，万元（亏损为负数）")
    total_assets_wan: Money | None = Field(None, description="资产总额，万元")
    restricted_industry: YesNo | None = Field(None, description="是否从事国家限制或禁止行业")
    excluded_industry: YesNo | None = Field(None, description="是否属于财税〔2015〕119号规定的加计扣除不适用行业")
    resident_enterprise: YesNo | None = Field(True, description="在中国境内成立的企业都是居民企业")
    tech_transfer_income_wan: Money | None = Field(None, description="本纳税年度技术转让所得，万元")
    is_venture_capital: YesNo | None = None
    vc_target_unlisted_sme_hightech: YesNo | None = None
    vc_holding_years: Years | None = None
    has_major_achievement_project: YesNo | None = None
    needs_talent_housing: YesNo | None = None
    has_hightech_industry_project: YesNo | None = None
    converted_service_achievement: YesNo | None = None
    has_reward_agreement: YesNo | None = None
    has_unrecovered_losses: YesNo | None = None
    talents: list[Talent] | None = Field(None, description="境外人才：年龄、国籍、职位")
    as_of: date | None = Field(None, description="这些情况对应的日期；默认今天")

    @model_validator(mode="after")
    def _consistent(self) -> EnterpriseProfile:
        if self.st_staff is not None and self.employees is not None and self.st_staff > self.employees:
            raise ValueError(f"st_staff（科技人员数 {self.st_staff}）不能多于 employees（职工总数 {self.employees}）")
        if self.registration_date and self.registration_date > (self.as_of or date.today()):
            raise ValueError(f"registration_date（注册成立日期 {self.registration_date}）晚于今天")
        return self

    # ---- facts the matcher reads ----

    def fact(self, name: str, today: date | None = None) -> Fact:
        """The value of `name` (stored or derived), or Fact(None, fields to ask)."""
        derive = DERIVED.get(name)
        if derive:
            return derive(self, today or self.as_of or date.today())
        if name not in type(self).model_fields:
            raise KeyError(name)
        value = getattr(self, name)
        return Fact(value, () if value is not None else (name,))


def _years_between(start: date, end: date) -> float:
    """Full years from start to end, plus the fraction of the current one: anniversaries are exact."""
    years = end.year - start.year - ((end.month, end.day) < (start.month, start.day))
    try:
        last = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        last = date(start.year + years, 3, 1)
    return years + (end - last).days / 366


def _registered_years(p: EnterpriseProfile, today: date) -> Fact:
    if p.registration_date:
        return Fact(round(_years_between(p.registration_date, today), 4))
    return Fact(p.registered_years, () if p.registered_years is not None else ("registered_years",))


def _rd_intensity(p: EnterpriseProfile, today: date) -> Fact:
    if p.rd_intensity is not None:
        return Fact(p.rd_intensity)
    if p.rd_expense_wan is not None and p.revenue_wan:
        return Fact(round(p.rd_expense_wan * 100 / p.revenue_wan, 6))
    return Fact(None, ("rd_intensity",))


def _st_staff_share(p: EnterpriseProfile, today: date) -> Fact:
    ask = tuple(f for f in ("st_staff", "employees") if getattr(p, f) is None)
    if ask:
        return Fact(None, ask)
    return Fact(round(p.st_staff * 100 / p.employees, 6) if p.employees else 0.0)


def _has_ip(p: EnterpriseProfile, today: date) -> Fact:
    return Fact(None, ("ip",)) if p.ip is None else Fact(p.ip.total > 0)


def _owns_core_ip(p: EnterpriseProfile, today: date) -> Fact:
    if p.owns_core_ip is not None:
        return Fact(p.owns_core_ip)
    if p.ip is not None and p.ip.total == 0:
        return Fact(False)  # no IP at all: none of it can be core
    return Fact(None, ("owns_core_ip",))


def _has_rd_expense(p: EnterpriseProfile, today: date) -> Fact:
    for value in (p.rd_expense_wan, p.rd_intensity, p.rd_share_3y):
        if value is not None:
            return Fact(value > 0)
    return Fact(None, ("rd_expense_wan",))


def _has_tech_transfer_income(p: EnterpriseProfile, today: date) -> Fact:
    if p.tech_transfer_income_wan is None:
        return Fact(None, ("tech_transfer_income_wan",))
    return Fact(p.tech_transfer_income_wan > 0)


def _hightech_or_st_sme(p: EnterpriseProfile, today: date) -> Fact:
    if p.is_hightech or p.is_st_sme:
        return Fact(True)
    ask = tuple(f for f in ("is_hightech", "is_st_sme") if getattr(p, f) is None)
    return Fact(None, ask) if ask else Fact(False)


def _is_tech_enterprise(p: EnterpriseProfile, today: date) -> Fact:
    if p.is_tech_enterprise is not None:
        return Fact(p.is_tech_enterprise)
    if p.is_hightech or p.is_st_sme:
        return Fact(True)  # both are 科技型企业 by definition
    return Fact(None, ("is_tech_enterprise",))


def _in_guizhou(p: EnterpriseProfile, today: date) -> Fact:
    if p.province:
        return Fact("贵州" in p.province or "黔" == p.province.strip())
    if p.zone and p.zone.name and any(place in p.zone.name for place in GUIZHOU_PLACES):
        return Fact(True)
    return Fact(None, ("province",))


def _zone_level(p: EnterpriseProfile, today: date) -> Fact:
    return Fact(p.zone.level) if p.zone else Fact(None, ("zone",))


DERIVED = {  # facts computed from other fields; the matcher reads them like stored ones
    "registered_years": _registered_years,
    "rd_intensity": _rd_intensity,
    "st_staff_share": _st_staff_share,
    "has_ip": _has_ip,
    "owns_core_ip": _owns_core_ip,
    "has_rd_expense": _has_rd_expense,
    "has_tech_transfer_income": _has_tech_transfer_income,
    "hightech_or_st_sme": _hightech_or_st_sme,
    "is_tech_enterprise": _is_tech_enterprise,
    "in_guizhou": _in_guizhou,
    "zone_level": _zone_level,
}


# ---- reading a profile ----

def parse_profile(data: Any, path: object = None) -> EnterpriseProfile:
    """Build a profile from a mapping (parsed YAML/JSON, a chat form); ProfileError when malformed."""
    if not isinstance(data, dict):
        raise ProfileError(f"企业画像应为字段映射（如 revenue_wan: 5000），收到 {type(data).__name__}", path=path)
    try:
        return EnterpriseProfile.model_validate(data)
    except ValidationError as exc:
        raise _profile_error(exc, path) from None


MAX_PROFILE_BYTES = 64 * 1024  # a profile is a few dozen fields (~1 KB); refused above this before parsing


class _AliasRefused(Exception):
    def __init__(self, line: int):
        super().__init__(line)
        self.line = line


@functools.cache
def _no_alias_loader() -> type:
    """A SafeLoader that refuses aliases: ten lines of anchors can expand to a billion values."""
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                raise _AliasRefused(self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)

    return NoAliasLoader


def load_profile(path: str | Path) -> EnterpriseProfile:
    """Read a profile from .yaml/.yml or .json; every problem is a one-line ProfileError."""
    import yaml

    path = Path(path)
    try:
        with path.open("rb") as handle:  # a pipe or device has no size to stat: read at most the limit
            data = handle.read(MAX_PROFILE_BYTES + 1)
        if len(data) > MAX_PROFILE_BYTES:
            size = path.stat().st_size if path.is_file() else len(data)
            raise ProfileError(f"企业画像文件过大（{_kb(size)}，上限 {MAX_PROFILE_BYTES // 1024} KB）", path=path)
        text = data.decode("utf-8-sig")
    except FileNotFoundError:
        raise ProfileError("企业画像文件不存在", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"无法读取企业画像文件（{type(exc).__name__}）", path=path) from None
    if path.suffix.lower() == ".json":
        return parse_profile_json(text, path)
    try:
        data = yaml.load(text, Loader=_no_alias_loader())  # noqa: S506 (a SafeLoader subclass)
    except _AliasRefused as exc:
        raise ProfileError(f"企业画像不支持 YAML 别名（第 {exc.line} 行的 *名称）：请直接写出取值", path=path) from None
    except RecursionError:
        raise ProfileError("企业画像嵌套层次过深，无法解析（应为一层字段映射）", path=path) from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f"第 {where.line + 1} 行" if where else ""
        raise ProfileError(f"YAML 格式错误{at}：{_cut(getattr(exc, 'problem', None) or str(exc), 80)}", path=path) from None
    except ValueError:  # an integer of thousands of digits
        raise ProfileError("企业画像中有过长的数字，无法解析", path=path) from None
    if data is None:
        raise ProfileError("企业画像文件是空的", path=path)
    return parse_profile(data, path)


def parse_profile_json(text: str, path: object = None) -> EnterpriseProfile:
    """A profile from JSON text (a file, the web's /match): refused by size before it is parsed."""
    if len(text) > MAX_PROFILE_BYTES:  # in characters, each at least a byte: no need to encode it first
        raise ProfileError(f"企业画像过大（{_kb(len(text))}，上限 {MAX_PROFILE_BYTES // 1024} KB）", path=path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProfileError(f"JSON 格式错误：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}", path=path) from None
    except RecursionError:
        raise ProfileError("企业画像嵌套层次过深，无法解析（应为一层字段映射）", path=path) from None
    except ValueError:  # an integer of thousands of digits
        raise ProfileError("企业画像中有过长的数字，无法解析", path=path) from None
    return parse_profile(data, path)


def _kb(size: int) -> str:
    return f"{size // 1024} KB" if size >= 1024 else f"{size} 字节"


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxdict, _SHORT.maxlist, _SHORT.maxstring, _SHORT.maxother = 2, 4, 4, SHOWN_CHARS, SHOWN_CHARS


def _cut(text: str, size: int = SHOWN_CHARS) -> str:
    return text if len(text) <= size else text[:size] + "…"


def _clip(value: Any) -> str:
    """A value as shown in a message, about SHOWN_CHARS characters at most: never a huge input whole."""
    if isinstance(value, str):
        return repr(_cut(value))
    try:
        return _cut(_SHORT.repr(value))  # bounded work even for a huge or deeply nested container
    except ValueError:  # an int too long to turn into digits
        return "（过长的数字）"


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-before", "function-after") or str(part).startswith(("function-", "literal[")):
            continue
        else:
            out += ("." if out else "") + _cut(str(part))
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


def _reason(error: dict) -> str:
    kind, value = error["type"], error.get("input")
    ctx = error.get("ctx") or {}
    shown = _clip(value)
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "missing":
        return "必须填写"
    if kind == "extra_forbidden":
        field = error["loc"][-1] if error["loc"] else ""
        close = difflib.get_close_matches(str(field)[:SHOWN_CHARS], list(EnterpriseProfile.model_fields), n=1)
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


def _profile_error(exc: ValidationError, path: object) -> ProfileError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    where = _where(first["loc"])
    if where:
        message = f"企业画像字段 {where}{_label(where)}：{_reason(first)}"
    else:  # a whole-profile check: its message starts with the field it names
        message = f"企业画像有误：{_reason(first)}"
        where = m.group(0) if (m := re.match(r"[a-z_]+", _reason(first))) else ""
    if len(errors) > 1:
        message += f"（另有 {len(errors) - 1} 处问题）"
    return ProfileError(message, field=where, path=path)
