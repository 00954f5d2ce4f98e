"""The facts the matcher reads that a profile does not store but implies: 科技人员占比 from
st_staff/employees, 成立年限 from the registration date, 在贵州 from the province or zone (a gazetteer),
不适用加计扣除行业 from the industry (a data list), 亏损 from negative taxable income, …

Each takes the profile and the day the match is for and gives a Fact: a value, or None with the
profile fields to ask about. `EnterpriseProfile.fact` looks names up in DERIVED first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.text.industries import excluded_industry
from bot.text.places import in_guizhou
from bot.text.width import fold

if TYPE_CHECKING:
    from bot.matching.profile import EnterpriseProfile


@dataclass(frozen=True)
class Fact:
    """A value the matcher can compare, or None with the profile fields to ask about; `basis` says what a
    value inferred from other facts rests on (根据行业推定), shown beside it so nobody takes it for stated."""

    value: Any
    ask: tuple[str, ...] = ()
    basis: str = ""


def _anniversary(start: date, years: int) -> date:
    """The day `years` years after start; 29 February's is 28 February in a common year. 民法典第二百零二条:
    "按照年、月计算期间的，到期月的对应日为期间的最后一日；没有对应日的，为到期月的末日" (第二百零三条, which
    issue 17 names, is about a last day falling on a holiday and the day's closing hour)."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return date(start.year + years, 2, 28)


def _years_between(start: date, end: date) -> float:
    """Full years from start to end, plus the fraction of the current one: anniversaries are exact."""
    years = end.year - start.year
    if _anniversary(start, years) > end:
        years -= 1
    return years + (end - _anniversary(start, years)).days / 366


def _registered_years(p: EnterpriseProfile, today: date) -> Fact:
    if p.registration_date:
        return Fact(round(_years_between(p.registration_date, today), 4), basis="根据注册日期计算")
    return Fact(p.registered_years, () if p.registered_years is not None else ("registered_years",))


def _hightech_certificate_valid(p: EnterpriseProfile, today: date) -> Fact:
    """认定办法第九条: the status lasts three years from the day the certificate was issued, counted as
    registered_years is (民法典第二百零一、二百零二条): valid up to and on its third anniversary."""
    if p.hightech_certificate_date:
        years = _years_between(p.hightech_certificate_date, today)
    elif p.hightech_certified_years is not None:
        years = p.hightech_certified_years
    else:
        return Fact(None, ("hightech_certified_years",))
    return Fact(years <= 3)


def _hightech_revocation_grounds(p: EnterpriseProfile, today: date) -> Fact:
    """As stated, else true for a certified enterprise with a major safety or quality incident or a serious
    environmental violation in the past year (认定办法第十九条（二）: the status is cancelled)."""
    if p.hightech_revocation_grounds is not None:
        return Fact(p.hightech_revocation_grounds)
    if p.is_hightech and p.major_incident_last_year:
        return Fact(True, basis="根据近一年发生重大事故推定")
    return Fact(None, ("hightech_revocation_grounds",))


def _rd_intensity(p: EnterpriseProfile, today: date) -> Fact:
    if p.rd_intensity is not None:
        return Fact(p.rd_intensity)
    if p.rd_expense_wan is not None and p.revenue_wan:
        return Fact(round(p.rd_expense_wan * 100 / p.revenue_wan, 6), basis="根据研发费用和营业收入计算")
    return Fact(None, ("rd_intensity",))


def _st_staff_share(p: EnterpriseProfile, today: date) -> Fact:
    ask = tuple(f for f in ("st_staff", "employees") if getattr(p, f) is None)
    if ask:
        return Fact(None, ask)
    return Fact(round(p.st_staff * 100 / p.employees, 6) if p.employees else 0.0, basis="根据科技人员数和职工总数计算")


def _has_ip(p: EnterpriseProfile, today: date) -> Fact:
    """Any IP counted is some; none when every kind is given as 0, or as `ip: {}` (no IP of any kind).
    `ip: {invention_patents: 0}` says nothing of software copyrights: it is asked about."""
    if p.ip is None:
        return Fact(None, ("ip",))
    if p.ip.total > 0:
        return Fact(True)
    given = p.ip.model_fields_set
    return Fact(False) if not given or given >= set(type(p.ip).model_fields) else Fact(None, ("ip",))


def _owns_core_ip(p: EnterpriseProfile, today: date) -> Fact:
    if p.owns_core_ip is not None:
        return Fact(p.owns_core_ip)
    if _has_ip(p, today).value is False:
        return Fact(False, basis="根据知识产权数量推定")  # no IP at all: none of it can be core
    return Fact(None, ("owns_core_ip",))


def _has_rd_expense(p: EnterpriseProfile, today: date) -> Fact:
    for value in (p.rd_expense_wan, p.rd_intensity, p.rd_share_3y):
        if value is not None:
            return Fact(value > 0, basis="根据研发费用推定")
    return Fact(None, ("rd_expense_wan",))


def _has_tech_transfer_income(p: EnterpriseProfile, today: date) -> Fact:
    if p.tech_transfer_income_wan is None:
        return Fact(None, ("tech_transfer_income_wan",))
    return Fact(p.tech_transfer_income_wan > 0, basis="根据技术转让所得推定")


def _holds_hightech_status(p: EnterpriseProfile, today: date) -> Fact:
    """A 高新技术企业 status that stands on `today`: certified, within its three years (认定办法第九条) and
    with none of 第十九条's grounds for cancelling it."""
    if p.is_hightech is None:
        return Fact(None, ("is_hightech",))
    if not p.is_hightech:
        return Fact(False)
    parts = (_hightech_certificate_valid(p, today), _hightech_revocation_grounds(p, today))
    if parts[0].value is False or parts[1].value is True:
        return Fact(False)
    ask = parts[0].ask + parts[1].ask
    return Fact(None, ask) if ask else Fact(True)


def _hightech_or_st_sme(p: EnterpriseProfile, today: date) -> Fact:
    """当年具备高新技术企业或科技型中小企业资格 (财税〔2018〕76号): a standing status of either."""
    if p.is_st_sme:
        return Fact(True)
    hightech = _holds_hightech_status(p, today)
    if hightech.value:
        return Fact(True)
    ask = hightech.ask + (("is_st_sme",) if p.is_st_sme is None else ())
    return Fact(None, ask) if ask else Fact(False)


def _is_tech_enterprise(p: EnterpriseProfile, today: date) -> Fact:
    if p.is_tech_enterprise is not None:
        return Fact(p.is_tech_enterprise)
    if p.is_hightech or p.is_st_sme:
        return Fact(True, basis="根据高新技术企业或科技型中小企业资格推定")  # both are 科技型企业 by definition
    return Fact(None, ("is_tech_enterprise",))


def _in_guizhou(p: EnterpriseProfile, today: date) -> Fact:
    """Guizhou when the province or the zone names a Guizhou place (bot/data/guizhou_places.yaml)."""
    if in_guizhou(p.province) or (p.zone and in_guizhou(p.zone.name)):
        return Fact(True, basis="根据所在地推定")
    return Fact(False, basis="根据所在地推定") if p.province else Fact(None, ("province",))


# 工业 in the statistics' classification (国家统计局《统计上大中小微型企业划分办法》): 采矿业, 制造业, and
# 电力、热力、燃气及水生产和供应业; an industry naming none of them is asked about, not assumed "other".
_INDUSTRIAL = ("采矿", "制造", "电力", "热力", "燃气", "水生产和供应", "供水")


def _industrial_enterprise(p: EnterpriseProfile, today: date) -> Fact:
    """As stated, else true for an industry of the 工业 sections (实施条例第九十二条's 工业企业)."""
    if p.industrial_enterprise is not None:
        return Fact(p.industrial_enterprise)
    if p.industry and any(word in p.industry for word in _INDUSTRIAL):
        return Fact(True, basis="根据行业推定")
    return Fact(None, ("industrial_enterprise",))


def _resident_enterprise(p: EnterpriseProfile, today: date) -> Fact:
    """As stated, else true for a company registered in Guizhou (依法在中国境内成立, 企业所得税法第二条);
    registered elsewhere or unknown, it is asked, never assumed."""
    if p.resident_enterprise is not None:
        return Fact(p.resident_enterprise)
    return Fact(True, basis="根据注册地推定") if in_guizhou(p.province) else Fact(None, ("resident_enterprise",))


def _sole_or_partnership(p: EnterpriseProfile, today: date) -> Fact:
    """As stated, else read from the company name: a partnership's name carries 合伙 (合伙企业法第十五条),
    a sole proprietorship's never 有限 or 公司 (个人独资企业登记管理办法第六条), so …有限公司 is a company
    (企业所得税法第一条: the first two are outside enterprise income tax); a listed one is a 股份有限公司.
    Any other name is asked about."""
    if p.sole_or_partnership is not None:
        return Fact(p.sole_or_partnership)
    if p.listing_status == "listed":
        return Fact(False, basis="根据上市情况推定")
    name = fold(p.name or "").strip()
    if "合伙" in name or "个人独资" in name:
        return Fact(True, basis="根据企业名称推定")
    if name.endswith(("有限公司", "有限责任公司", "股份公司")):
        return Fact(False, basis="根据企业名称推定")
    return Fact(None, ("sole_or_partnership",))


def _excluded_industry(p: EnterpriseProfile, today: date) -> Fact:
    """As stated, else true when the industry is on 财税〔2015〕119号's list; other industries are asked
    about, since the list ends with "other industries the ministries name"."""
    if p.excluded_industry is not None:
        return Fact(p.excluded_industry)
    return Fact(True, basis="根据行业推定") if excluded_industry(p.industry) else Fact(None, ("excluded_industry",))


def _has_unrecovered_losses(p: EnterpriseProfile, today: date) -> Fact:
    """As stated, else true for a loss this year (negative taxable income, 实施条例第十条); a profit says
    nothing about earlier years' losses."""
    if p.has_unrecovered_losses is not None:
        return Fact(p.has_unrecovered_losses)
    if p.taxable_income_wan is not None and p.taxable_income_wan < 0:
        return Fact(True, basis="根据应纳税所得额为负推定")
    return Fact(None, ("has_unrecovered_losses",))


def _zone_level(p: EnterpriseProfile, today: date) -> Fact:
    return Fact(p.zone.level) if p.zone else Fact(None, ("zone",))


# Facts computed from other fields; the matcher reads them like stored ones.
DERIVED: dict[str, Callable[[EnterpriseProfile, date], Fact]] = {
    "registered_years": _registered_years,
    "hightech_certificate_valid": _hightech_certificate_valid,
    "hightech_revocation_grounds": _hightech_revocation_grounds,
    "rd_intensity": _rd_intensity,
    "st_staff_share": _st_staff_share,
    "has_ip": _has_ip,
    "owns_core_ip": _owns_core_ip,
    "has_rd_expense": _has_rd_expense,
    "has_tech_transfer_income": _has_tech_transfer_income,
    "hightech_or_st_sme": _hightech_or_st_sme,
    "is_tech_enterprise": _is_tech_enterprise,
    "in_guizhou": _in_guizhou,
    "excluded_industry": _excluded_industry,
    "industrial_enterprise": _industrial_enterprise,
    "resident_enterprise": _resident_enterprise,
    "sole_or_partnership": _sole_or_partnership,
    "has_unrecovered_losses": _has_unrecovered_losses,
    "zone_level": _zone_level,
}
