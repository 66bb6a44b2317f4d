"""Emission endpoints (issue 21, docs/emissions.md): quantities of SO2, NOx and particulate
matter with the valid-data share and exceedances, per group or per stack, and the sourced
limits. The pages, the CLI and the emissions report read the same service functions.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from kilnwatch.emissions.annual import annual_permit_status
from kilnwatch.emissions.service import Scope, emissions_scope, stack_rows
from kilnwatch.emissions.water import water_accounts
from kilnwatch.reference.emissions import load_emission_limits
from kilnwatch.web.deps import PeriodDep, PrincipalDep, SessionDep

router = APIRouter(prefix="/emissions", tags=["emissions"])


def get_scope(
    session: SessionDep,
    principal: PrincipalDep,
    period: PeriodDep,
    city: Annotated[str | None, Query(description="City code, e.g. 3703.")] = None,
    enterprise: Annotated[str | None, Query(description="Enterprise USCC.")] = None,
) -> Scope:
    """The stack accounts of the caller's jurisdiction (narrowed to a city or enterprise)."""
    return emissions_scope(session, principal, period, city=city, uscc=enterprise)


ScopeDep = Annotated[Scope, Depends(get_scope)]


@router.get("/summary")
def summary(
    session: SessionDep,
    period: PeriodDep,
    scope: ScopeDep,
    by: Literal["stack", "enterprise", "city", "province"] = "enterprise",
) -> dict[str, Any]:
    """Quantities [t] (HJ 75-2017: valid hours plus substituted ones), valid-data share [%],
    exceedance hours and days, by stack, enterprise, city or the province."""
    rows = [t.as_json() for t in scope.totals(session, by)]
    return {"period": period.label, "by": by, "rows": rows}


@router.get("/stacks")
def stacks(period: PeriodDep, scope: ScopeDep) -> dict[str, Any]:
    """Every visible stack: per pollutant the amount, hours by status, capture rate, binding
    limit, exceedance hours, days and episodes."""
    return {"period": period.label, "stacks": stack_rows(scope)}


@router.get("/water")
def water(
    session: SessionDep,
    principal: PrincipalDep,
    period: PeriodDep,
    city: str | None = None,
    enterprise: str | None = None,
) -> dict[str, Any]:
    """Water withdrawal [m3] per enterprise and unit against the GB/T 18916 quotas."""
    rows = water_accounts(session, principal, period, city=city, uscc=enterprise)
    return {"period": period.label, "rows": [r.as_json() for r in rows]}


@router.get("/permits")
def permits(
    session: SessionDep,
    principal: PrincipalDep,
    period: PeriodDep,
    city: str | None = None,
    enterprise: str | None = None,
) -> dict[str, Any]:
    """Cumulative emissions from 1 January to the end of ``period`` against each enterprise's
    permitted annual amount, with a code: ``emissions.permit.annual_exceeded``,
    ``.annual_projected`` (at the year's pace it will be), ``.annual_within``."""
    rows = annual_permit_status(session, principal, period, city=city, uscc=enterprise)
    return {"period": period.label, "rows": [r.as_json() for r in rows]}


@router.get("/limits")
def limits(_: PrincipalDep) -> list[dict[str, Any]]:
    """The sourced emission limits (reference/emissions/limits.csv); signed-in users only, as
    every API route but sign-in and the report catalogue (docs/security.md)."""
    return [asdict(row) for row in load_emission_limits().values()]
