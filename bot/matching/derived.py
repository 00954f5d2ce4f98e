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

if TYPE_CHECKING:
    from bot.matching.profile import EnterpriseProfile


@dataclass(frozen=True)
class Fact:
    """A value the matcher can compare, or None with the profile fields to ask about."""

    value: Any
    ask: tuple[str, ...] = ()


def _anniversary(start: date, years: int) -> date:
    """The day `years` years after start; 29 February's is 28 February in a common year (民法典第二百零二条:
    a period with no corresponding day in its last month ends on that month's last day)."""
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
    """Guizhou when the province or the zone names a Guizhou place (bot/data/guizhou_places.yaml)."""
    if in_guizhou(p.province) or (p.zone and in_guizhou(p.zone.name)):
        return Fact(True)
    return Fact(False) if p.province else Fact(None, ("province",))


def _excluded_industry(p: EnterpriseProfile, today: date) -> Fact:
    """As stated, else true when the industry is on 财税〔2015〕119号's list; other industries are asked
    about, since the list ends with "other industries the ministries name"."""
    if p.excluded_industry is not None:
        return Fact(p.excluded_industry)
    return Fact(True) if excluded_industry(p.industry) else Fact(None, ("excluded_industry",))


def _has_unrecovered_losses(p: EnterpriseProfile, today: date) -> Fact:
    """As stated, else true for a loss this year (negative taxable income, 实施条例第十条); a profit says
    nothing about earlier years' losses."""
    if p.has_unrecovered_losses is not None:
        return Fact(p.has_unrecovered_losses)
    if p.taxable_income_wan is not None and p.taxable_income_wan < 0:
        return Fact(True)
    return Fact(None, ("has_unrecovered_losses",))


def _zone_level(p: EnterpriseProfile, today: date) -> Fact:
    return Fact(p.zone.level) if p.zone else Fact(None, ("zone",))


# Facts computed from other fields; the matcher reads them like stored ones.
DERIVED: dict[str, Callable[[EnterpriseProfile, date], Fact]] = {
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
    "excluded_industry": _excluded_industry,
    "has_unrecovered_losses": _has_unrecovered_losses,
    "zone_level": _zone_level,
}
