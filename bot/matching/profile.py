"""The enterprise profile: the facts a company gives about itself, checked once on the way in.

The value types (money in 万元, percent, counts, 是/否, their bounds) are in bot.matching.values;
a refused profile becomes one ProfileError line (bot.matching.profile_errors) naming the field.

`EnterpriseProfile.fact(name)` is what the matcher reads: a stored field, or one derived from
others (bot.matching.derived), together with the fields to ask about when it is unknown. Each
name's label, unit and question are in bot/text/facts.yaml (bot.text.facts).
"""

from __future__ import annotations

import functools
import json
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.errors import ProfileError
from bot.matching.derived import DERIVED, Fact
from bot.matching.profile_errors import profile_error
from bot.matching.values import (
    Age,
    Count,
    ListingStatus,
    Money,
    Percent,
    Share,
    SignedMoney,
    Years,
    YesNo,
    ZoneLevel,
    short_text,
)

_MAINLAND = {"中国", "中华人民共和国", "中国大陆", "cn", "chn", "china", "prc"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Zone(_Model):
    name: str | None = Field(None, description="高新区名称，如 贵阳国家高新区")
    level: ZoneLevel = Field(description="national 国家级 / provincial 省级 / none 不在高新区")


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
    age: Age | None = None
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
    listing_status: ListingStatus | None = None
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


# ---- reading a profile ----

def parse_profile(data: Any, path: object = None) -> EnterpriseProfile:
    """Build a profile from a mapping (parsed YAML/JSON, a chat form); ProfileError when malformed."""
    if not isinstance(data, dict):
        raise ProfileError(f"企业画像应为字段映射（如 revenue_wan: 5000），收到 {type(data).__name__}", path=path)
    try:
        return EnterpriseProfile.model_validate(data)
    except ValidationError as exc:
        raise profile_error(exc, path, EnterpriseProfile.model_fields) from None


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
        raise ProfileError(f"YAML 格式错误{at}：{short_text(getattr(exc, 'problem', None) or str(exc), 80)}", path=path) from None
    except ValueError:  # an integer of thousands of digits
        raise ProfileError("企业画像中有过长的数字，无法解析", path=path) from None
    if data is None:
        raise ProfileError("企业画像文件是空的", path=path)
    return parse_profile(data, path)


def parse_profile_json(text: str, path: object = None) -> EnterpriseProfile:
    """A profile from JSON text (a file, the web's /match): refused by size before it is parsed."""
    return parse_profile(profile_data(text, path), path)


def profile_data(text: str, path: object = None) -> dict:
    """The JSON object of a profile's text, unchecked field by field (the web form merges it into its
    own fields first); refused by size before it is parsed."""
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
    if not isinstance(data, dict):
        raise ProfileError(f"企业画像应为 JSON 对象（如 {{\"revenue_wan\": 5000}}），收到 {type(data).__name__}", path=path)
    return data


def _kb(size: int) -> str:
    return f"{size // 1024} KB" if size >= 1024 else f"{size} 字节"
