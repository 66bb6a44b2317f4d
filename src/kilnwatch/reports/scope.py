"""The scope of a report: the caller's jurisdiction, narrowed to a city or an enterprise.

A report is computed under a :class:`~kilnwatch.identity.Principal`, so the ordinary scoping
of ``store/repos/scope.py`` applies to every figure. Asking for a city or an enterprise outside
the caller's jurisdiction is "not found", as everywhere in the API.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.errors import InputError, NotFoundError
from kilnwatch.identity import Principal, Role
from kilnwatch.reports.document import Text
from kilnwatch.reports.labels import text
from kilnwatch.store.models import Enterprise, Region
from kilnwatch.store.repos.scope import enterprise_scope, region_in_scope


@dataclass(frozen=True)
class ReportScope:
    """Who the figures are computed for, and how the report names that scope."""

    principal: Principal
    name: Text
    city_code: str | None = None
    enterprise: Enterprise | None = None


def city_code(text: str) -> str:
    """``3703`` or ``370300`` → ``370300`` (GB/T 2260 city level)."""
    digits = text.strip()
    if len(digits) == 4 and digits.isdigit():
        digits += "00"
    if len(digits) != 6 or not digits.isdigit() or digits.endswith("0000"):
        raise InputError(f"{text!r} is not a city code (3703 or 370300)", field="city")
    if not digits.endswith("00"):
        raise InputError(f"{text!r} is a county, not a city", field="city")
    return digits


def _region_name(session: Session, code: str) -> Text | None:
    region = session.get(Region, code)
    return Text(region.name_zh, region.name_en or region.name_zh) if region else None


def _default_name(session: Session, principal: Principal) -> Text:
    if principal.region_code:
        found = _region_name(session, principal.region_code)
        if found:
            return found
    provinces = session.scalars(select(Region).where(Region.level == "province")).all()
    if len(provinces) == 1:
        return Text(provinces[0].name_zh, provinces[0].name_en or provinces[0].name_zh)
    return Text(text("scope.all", "zh-CN"), text("scope.all", "en"))


def resolve_scope(
    session: Session,
    principal: Principal,
    city: str | None = None,
    enterprise_uscc: str | None = None,
) -> ReportScope:
    """The caller's scope narrowed to ``city`` and/or an enterprise, never widened."""
    if enterprise_uscc:
        e = session.scalar(
            select(Enterprise).where(
                Enterprise.uscc == enterprise_uscc.strip().upper(), enterprise_scope(principal)
            )
        )
        if e is None or (city and not e.region_code.startswith(city_code(city)[:4])):
            raise NotFoundError(f"enterprise {enterprise_uscc} not found")
        narrowed = Principal(principal.subject, Role.ENTERPRISE, enterprise_id=e.id)
        return ReportScope(narrowed, Text(e.name, e.name), e.region_code[:4] + "00", e)
    if city:
        code = city_code(city)
        name = _region_name(session, code)
        if name is None:
            raise NotFoundError(f"city {city} not found")
        if region_in_scope(principal, code):
            narrowed = Principal(principal.subject, Role.CITY, region_code=code)
            return ReportScope(narrowed, name, code)
        inside = principal.region_code and principal.region_code.startswith(code[:4])
        if principal.role is not Role.ENTERPRISE and inside:
            return ReportScope(principal, _default_name(session, principal), code)
        raise NotFoundError(f"city {city} not found")
    return ReportScope(principal, _default_name(session, principal))


__all__ = ["ReportScope", "city_code", "resolve_scope"]
