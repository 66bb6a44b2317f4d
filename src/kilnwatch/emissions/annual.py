"""Cumulative emissions of the year against the permitted annual amount (排污许可证 许可排放量).

For each enterprise and pollutant with a permitted annual quantity, the amount emitted from
1 January to the end of the chosen period (HJ 75-2017 valid hours plus substituted ones, the
same accounts as every other figure) is compared with the permitted amount:

* ``emissions.permit.annual_exceeded``: the cumulative amount is above the permitted one;
* ``emissions.permit.annual_projected``: not yet, but at the year's pace so far (cumulative ×
  days of the year / days elapsed) it will be: an early warning;
* ``emissions.permit.annual_within``: neither.

The permitted amount of an enterprise is its whole-enterprise permit row when it has one, else
the sum of its stacks' rows (a permit gives one or the other; summing both would count twice).

References
----------
.. [1] 排污许可管理条例 (2021): a permit states the permitted emission quantity per year; the
   enterprise must not exceed it. The rows are each enterprise's own permit (data, not a
   reference figure).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from kilnwatch.domain.periods import Period
from kilnwatch.emissions.limits import PermitTerms
from kilnwatch.emissions.service import emissions_scope
from kilnwatch.identity import Principal

KG_PER_T = 1000.0
EXCEEDED = "emissions.permit.annual_exceeded"
PROJECTED = "emissions.permit.annual_projected"
WITHIN = "emissions.permit.annual_within"


@dataclass(frozen=True)
class AnnualPermitRow:
    """One enterprise and pollutant: cumulative amount of the year against its permit."""

    enterprise_uscc: str
    enterprise_name: str
    pollutant: str
    first_day: date
    last_day: date
    permitted_t: float
    cumulative_t: float
    projected_t: float
    code: str

    @property
    def share(self) -> float:
        """Cumulative / permitted [-]."""
        return self.cumulative_t / self.permitted_t if self.permitted_t else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "enterprise_uscc": self.enterprise_uscc,
            "enterprise_name": self.enterprise_name,
            "pollutant": self.pollutant,
            "from": self.first_day.isoformat(),
            "to": self.last_day.isoformat(),
            "permitted_t": round(self.permitted_t, 3),
            "cumulative_t": round(self.cumulative_t, 6),
            "share": round(self.share, 4),
            "projected_t": round(self.projected_t, 6),
            "code": self.code,
        }


def permitted_annual_t(terms: list[PermitTerms]) -> dict[str, float]:
    """Permitted annual quantity per pollutant of one enterprise [t]."""
    whole: dict[str, float] = defaultdict(float)
    stacks: dict[str, float] = defaultdict(float)
    for t in terms:
        if t.annual_t is not None:
            (whole if t.unit_id is None else stacks)[t.pollutant] += t.annual_t
    return {p: whole.get(p, stacks.get(p, 0.0)) for p in {*whole, *stacks}}


def annual_permit_status(
    session: Session,
    principal: Principal,
    through: Period,
    *,
    city: str | None = None,
    uscc: str | None = None,
) -> list[AnnualPermitRow]:
    """Every visible enterprise and pollutant with a permitted annual amount, its cumulative
    amount from 1 January of ``through``'s last year to ``through``'s last day, and its code."""
    last = through.stop - timedelta(days=1)
    first = date(last.year, 1, 1)
    ytd = Period.of_days(first, last, through.zone)
    scope = emissions_scope(session, principal, ytd, city=city, uscc=uscc)
    amounts: dict[tuple[int, str], float] = defaultdict(float)
    for a in scope.accounts:
        for p, acc in a.pollutants.items():
            amounts[(a.enterprise_id, p)] += acc.amount_kg / KG_PER_T
    elapsed = (last - first).days + 1
    year_days = 366 if calendar.isleap(last.year) else 365
    rows = []
    for eid, terms in scope.permits.items():
        ref = scope.refs.get(eid)
        if ref is None:
            continue
        for pollutant, permitted in sorted(permitted_annual_t(terms).items()):
            cumulative = amounts.get((eid, pollutant), 0.0)
            projected = cumulative * year_days / elapsed
            code = (
                EXCEEDED if cumulative > permitted
                else PROJECTED if projected > permitted
                else WITHIN
            )  # fmt: skip
            rows.append(AnnualPermitRow(ref.uscc, ref.name, pollutant, first, last, permitted,
                                        cumulative, projected, code))  # fmt: skip
    return sorted(rows, key=lambda r: (r.enterprise_uscc, r.pollutant))


__all__ = [
    "EXCEEDED",
    "PROJECTED",
    "WITHIN",
    "AnnualPermitRow",
    "annual_permit_status",
    "permitted_annual_t",
]
