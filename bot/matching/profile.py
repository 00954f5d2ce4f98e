"""The enterprise profile: the facts a company gives about itself, checked once on the way in.

The value types (money in 万元, percent, counts, 是/否, their bounds) are in bot.matching.values;
a refused profile becomes one ProfileError line (bot.matching.profile_errors) naming the field.

`EnterpriseProfile.fact(name)` is what the matcher reads: a stored field, or one derived from
others (bot.matching.derived), together with the fields to ask about when it is unknown. Each
name's label, unit and question are in bot/text/facts.yaml (bot.text.facts), and so is each field's
description: the models below declare types only, so no wording of a fact is written twice.
"""

from __future__ import annotations

import functools
import json
import re
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

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
from bot.text.facts import fact
from bot.text.width import fold

# The Chinese mainland however written, as _nation_key leaves it: 中国（内地）, 中国大陆地区, PRC, China.
_MAINLAND = {"中国", "中华人民共和国", "中国大陆", "中国内地", "大陆", "内地", "cn", "chn", "china", "prc",
             "mainlandchina", "chinamainland", "peoplesrepublicofchina", "thepeoplesrepublicofchina"}
_NATION_NOISE = re.compile(r"[\s()（）'’.·,，、-]")


def _described(schema: dict[str, Any], model: type[_Model]) -> None:
    """Each field's JSON-schema description is its fact's (bot/text/facts.yaml), read when a schema is
    asked for rather than when this module is imported."""
    for name, prop in schema.get("properties", {}).items():
        prop["description"] = fact(model.fact_prefix + name).description


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, json_schema_extra=_described)
    fact_prefix: ClassVar[str] = ""  # the facts.yaml key of field f is fact_prefix + f: talents.age


class Zone(_Model):
    fact_prefix = "zone."
    name: str | None = None
    level: ZoneLevel


class IPCounts(_Model):
    fact_prefix = "ip."
    invention_patents: Count = 0
    utility_models: Count = 0
    design_patents: Count = 0
    software_copyrights: Count = 0
    other: Count = 0

    @property
    def total(self) -> int:
        return self.invention_patents + self.utility_models + self.design_patents + self.software_copyrights + self.other


class Talent(_Model):
    fact_prefix = "talents."
    name: str | None = None
    age: Age | None = None
    nationality: str | None = None
    position: str | None = None
    is_high_end: YesNo | None = None

    @property
    def is_foreign(self) -> bool | None:
        """境外: anything but the Chinese mainland (so 中国香港 counts)."""
        if not self.nationality:
            return None
        return _nation_key(self.nationality) not in _MAINLAND

    def fact(self, name: str) -> Any:
        return self.is_foreign if name == "is_foreign" else getattr(self, name)

    def describe(self) -> str:
        """张三（63岁，德国）"""
        details = "，".join(([f"{self.age}岁"] if self.age is not None else []) + [self.nationality or ""]).strip("，")
        return f"{self.name or '人才'}（{details}）" if details else (self.name or "人才")


def _nation_key(nationality: str) -> str:
    """中国（内地） -> 中国内地, 中国大陆地区 -> 中国大陆, "People's Republic of China" -> peoplesrepublicofchina;
    中国（香港） stays 中国香港, which is 境外."""
    key = _NATION_NOISE.sub("", fold(nationality).lower())
    return key[:-2] if key.endswith("地区") else key


class EnterpriseProfile(_Model):
    """What an enterprise tells us about itself. Unknown is None: the matcher asks, never guesses."""

    name: str | None = None
    province: str | None = None
    industry: str | None = None
    zone: Zone | None = None
    registered_years: Years | None = None
    registration_date: date | None = None
    revenue_wan: Money | None = None
    rd_expense_wan: Money | None = None
    rd_intensity: Percent | None = None
    rd_share_3y: Percent | None = None
    domestic_rd_share: Share | None = None
    hightech_income_share: Share | None = None
    employees: Count | None = None
    staff_quarterly_avg: Count | None = None
    st_staff: Count | None = None
    ip: IPCounts | None = None
    owns_core_ip: YesNo | None = None
    in_key_hitech_field: YesNo | None = None
    innovation_assessment_ok: YesNo | None = None
    major_incident_last_year: YesNo | None = None
    is_hightech: YesNo | None = None
    hightech_certified_years: Years | None = None
    hightech_certificate_date: date | None = None
    hightech_revocation_grounds: YesNo | None = None
    is_st_sme: YesNo | None = None
    is_tech_enterprise: YesNo | None = None
    is_high_growth: YesNo | None = None
    is_leading_enterprise: YesNo | None = None
    listing_status: ListingStatus | None = None
    taxable_income_wan: SignedMoney | None = None
    total_assets_wan: Money | None = None
    restricted_industry: YesNo | None = None
    industrial_enterprise: YesNo | None = None
    excluded_industry: YesNo | None = None
    resident_enterprise: YesNo | None = None
    sole_or_partnership: YesNo | None = None
    tech_transfer_income_wan: Money | None = None
    preferential_income_separate: YesNo | None = None
    is_venture_capital: YesNo | None = None
    vc_target_unlisted_sme_hightech: YesNo | None = None
    vc_holding_years: Years | None = None
    has_major_achievement_project: YesNo | None = None
    needs_talent_housing: YesNo | None = None
    has_hightech_industry_project: YesNo | None = None
    converted_service_achievement: YesNo | None = None
    has_reward_agreement: YesNo | None = None
    has_unrecovered_losses: YesNo | None = None
    talents: list[Talent] | None = None
    as_of: date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> EnterpriseProfile:
        if self.st_staff is not None and self.employees is not None and self.st_staff > self.employees:
            raise ValueError(f"st_staff（科技人员数 {self.st_staff}）不能多于 employees（职工总数 {self.employees}）")
        if self.registration_date and self.registration_date > (self.as_of or date.today()):
            raise ValueError(f"registration_date（注册成立日期 {self.registration_date}）晚于今天")
        if self.hightech_certificate_date and self.hightech_certificate_date > (self.as_of or date.today()):
            raise ValueError(f"hightech_certificate_date（高新技术企业证书颁发日期 {self.hightech_certificate_date}）晚于今天")
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
