"""Accounting endpoints: unit accounts (energy, intensity, class, CO2) and their aggregates."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from kilnwatch.reports.accounting import GroupAccount, UnitAccount, group_accounts, unit_accounts
from kilnwatch.reports.intensity import IntensityRow, intensity_rows
from kilnwatch.reports.periods import parse_period
from kilnwatch.web.deps import PrincipalDep, SessionDep, SettingsDep

router = APIRouter(prefix="/accounting", tags=["accounting"])


@router.get("/units")
def list_unit_accounts(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, period: str
) -> list[UnitAccount]:
    """Every visible unit's energy [tce], intensity [field unit], class, CO2 [t] and inputs."""
    return unit_accounts(session, principal, parse_period(period, settings.timezone))


@router.get("/summary")
def summary(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    period: str,
    by: Literal["enterprise", "city", "industry", "province"] = "city",
    lang: Literal["zh-CN", "en"] = "zh-CN",
) -> list[GroupAccount]:
    """Totals by group with the capacity share at benchmark against the 2025 target."""
    accounts = unit_accounts(session, principal, parse_period(period, settings.timezone))
    return group_accounts(session, accounts, by, lang)


@router.get("/intensity")
def intensity(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    period: str,
    base: str = "2020",
    by: Literal["enterprise", "city", "industry", "province"] = "city",
) -> list[IntensityRow]:
    """Energy [tce] and CO2 [t] per 10^4 CNY of revenue, and the change against ``base``."""
    tz = settings.timezone
    return intensity_rows(session, principal, parse_period(period, tz), parse_period(base, tz), by)
