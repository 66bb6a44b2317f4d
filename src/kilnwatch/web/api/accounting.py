"""Accounting endpoints: unit accounts (energy, intensity, class, CO2) and their aggregates.

``period`` (and ``base``) take every form of :data:`~kilnwatch.domain.periods.PERIOD_FORMS`:
a month ``2025-03``, a quarter ``2025-Q1``, a year ``2025``, a range ``2025-01..2025-06``…
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from kilnwatch.accounting.groups import GroupAccount, group_accounts
from kilnwatch.accounting.intensity import IntensityRow, intensity_rows
from kilnwatch.accounting.units import UnitAccount, unit_accounts
from kilnwatch.domain.periods import PERIOD_FORMS, Period, parse_period
from kilnwatch.web.deps import PeriodDep, PrincipalDep, SessionDep, SettingsDep

router = APIRouter(prefix="/accounting", tags=["accounting"])


def get_base_period(
    settings: SettingsDep,
    base: Annotated[str, Query(description=f"The base period: {PERIOD_FORMS}.")] = "2020",
) -> Period:
    """The ``base`` query parameter of the intensity comparison, in ``Settings.timezone``."""
    return parse_period(base, settings.zone, field="base")


@router.get("/units")
def list_unit_accounts(
    session: SessionDep, principal: PrincipalDep, period: PeriodDep
) -> list[UnitAccount]:
    """Every visible unit's energy [tce], intensity [field unit], class, CO2 [t] and inputs."""
    return unit_accounts(session, principal, period)


@router.get("/summary")
def summary(
    session: SessionDep,
    principal: PrincipalDep,
    period: PeriodDep,
    by: Literal["enterprise", "city", "industry", "province"] = "city",
    lang: Literal["zh-CN", "en"] = "zh-CN",
) -> list[GroupAccount]:
    """Totals by group with the capacity share at benchmark against the 2025 target."""
    accounts = unit_accounts(session, principal, period)
    return group_accounts(session, accounts, by, lang)


@router.get("/intensity")
def intensity(
    session: SessionDep,
    principal: PrincipalDep,
    period: PeriodDep,
    base: Annotated[Period, Depends(get_base_period)],
    by: Literal["enterprise", "city", "industry", "province"] = "city",
) -> list[IntensityRow]:
    """Energy [tce] and CO2 [t] per 10^4 CNY of revenue, and the change against ``base``."""
    return intensity_rows(session, principal, period, base, by)
