"""Emission endpoints (issue 21, docs/emissions.md): quantities of SO2, NOx and particulate
matter with the valid-data share and exceedances, per group or per stack, and the sourced
limits. The pages, the CLI and the emissions report read the same service functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from kilnwatch.domain.periods import Period
from kilnwatch.emissions.annual import annual_permit_status
from kilnwatch.emissions.service import Scope, emissions_scope, stack_rows
from kilnwatch.emissions.wastewater import wastewater_accounts
from kilnwatch.emissions.water import water_accounts
from kilnwatch.identity import Principal
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


@dataclass(frozen=True)
class RowsQuery:
    """The scope of a per-enterprise table: who asks, the period, a city or an enterprise."""

    session: Session
    principal: Principal
    period: Period
    city: str | None
    enterprise: str | None

    def rows(self, service: Callable[..., list[Any]]) -> dict[str, Any]:
        found = service(self.session, self.principal, self.period, city=self.city,
                        uscc=self.enterprise)  # fmt: skip
        return {"period": self.period.label, "rows": [r.as_json() for r in found]}


def rows_query(
    session: SessionDep,
    principal: PrincipalDep,
    period: PeriodDep,
    city: str | None = None,
    enterprise: str | None = None,
) -> RowsQuery:
    return RowsQuery(session, principal, period, city, enterprise)


RowsDep = Annotated[RowsQuery, Depends(rows_query)]


@router.get("/water")
def water(query: RowsDep) -> dict[str, Any]:
    """Water withdrawal [m3] per enterprise and unit against the GB/T 18916 quotas, with
    ``by_source`` [m3] per withdrawal source (``unspecified``: meters without a source)."""
    return query.rows(water_accounts)


@router.get("/permits")
def permits(query: RowsDep) -> dict[str, Any]:
    """Cumulative emissions from 1 January to the end of ``period`` against each enterprise's
    permitted annual amount, with a code: ``emissions.permit.annual_exceeded``,
    ``.annual_projected`` (at the year's pace it will be), ``.annual_within``."""
    return query.rows(annual_permit_status)


@router.get("/wastewater")
def wastewater(query: RowsDep) -> dict[str, Any]:
    """COD and NH3-N [kg] of every outfall: concentration × wastewater flow per valid hour (HJ
    212 w01018, w21003, w00000); invalid hours counted, not substituted; no limit judged."""
    return query.rows(wastewater_accounts)


@router.get("/limits")
def limits(_: PrincipalDep) -> list[dict[str, Any]]:
    """The sourced emission limits (reference/emissions/limits.csv); signed-in users only, as
    every API route but sign-in and the report catalogue (docs/security.md)."""
    return [asdict(row) for row in load_emission_limits().values()]
