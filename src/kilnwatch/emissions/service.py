"""The emissions service: stack accounts from the stored readings, their totals by enterprise,
city and province, and the permits they are judged against. The API, the pages, the CLI and
the emissions report all read these functions, so they show the same figures.

The accounts read each analyser's hours from the hourly rollup ``emission_hours`` (kept at
ingest: :mod:`kilnwatch.store.rollups.emission_hours`), not the raw readings: a month of a
province's stacks is a few rows per analyser-hour instead of every reading of the month and
of the ``history_days`` before it. ``source="readings"`` groups the raw readings instead (the
same figures: ``tests/emissions/test_emissions_rollup.py``); a period that does not start on a
whole UTC hour (a zone with a half-hour offset) is always read from the raw readings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.analytics.meters import load_enterprises
from kilnwatch.analytics.readings import load_readings
from kilnwatch.domain.emissions import HOUR_S, HourCounts
from kilnwatch.domain.periods import Period
from kilnwatch.emissions.hours import ValiditySettings
from kilnwatch.emissions.limits import PermitTerms, permit_terms
from kilnwatch.emissions.stacks import (
    KG_PER_T,
    StackAccount,
    find_stacks,
    series_counts,
    stack_account,
    stack_meter_ids,
)
from kilnwatch.errors import InputError
from kilnwatch.identity import Principal
from kilnwatch.reference.emissions import POLLUTANTS
from kilnwatch.store.models import Enterprise, Region
from kilnwatch.store.repos.emission_hours import load_emission_hours
from kilnwatch.store.repos.permits import permits_in_force
from kilnwatch.store.repos.scope import enterprise_scope

GROUPINGS = ("stack", "enterprise", "city", "province")
SOURCES = ("rollups", "readings")
"""Where the analysers' hours come from: the ``emission_hours`` rollup, or the raw readings."""
CITY_DIGITS = 4


@dataclass(frozen=True)
class EnterpriseRef:
    id: int
    uscc: str
    name: str
    region_code: str
    industry: str

    @property
    def city_code(self) -> str:
        return self.region_code[:CITY_DIGITS]


def visible_enterprises(
    session: Session, principal: Principal, city: str | None = None, uscc: str | None = None
) -> dict[int, EnterpriseRef]:
    """The enterprises the principal may see, optionally of one city or one USCC."""
    stmt = select(
        Enterprise.id, Enterprise.uscc, Enterprise.name, Enterprise.region_code,
        Enterprise.industry,
    ).where(enterprise_scope(principal))  # fmt: skip
    if city:
        stmt = stmt.where(Enterprise.region_code.startswith(city))
    if uscc:
        stmt = stmt.where(Enterprise.uscc == uscc)
    return {r[0]: EnterpriseRef(*r) for r in session.execute(stmt.order_by(Enterprise.id))}


def permits_of(
    session: Session, enterprise_ids: Sequence[int], period: Period
) -> dict[int, list[PermitTerms]]:
    """Permit terms in force on some day of the period, by enterprise."""
    out: dict[int, list[PermitTerms]] = defaultdict(list)
    for p in permits_in_force(session, enterprise_ids, period.first, period.stop):
        out[p.enterprise_id].append(permit_terms(p))
    return out


def period_hours(period: Period) -> tuple[int, int]:
    """First hour [epoch s] and number of hours of the period (local midnight to midnight)."""
    start_s = int(period.start.timestamp())
    return start_s, (int(period.end.timestamp()) - start_s) // HOUR_S


def hour_counts_of(
    session: Session, meter_ids: Sequence[int], start_s: int, n_hours: int,
    source: str = "rollups",
) -> dict[int, HourCounts]:  # fmt: skip
    """Each meter's hours ``(start_s + i h, …]``, i < n_hours, from ``source`` (``SOURCES``)."""
    if source not in SOURCES:
        raise InputError(f"source must be one of {', '.join(SOURCES)}", field="source")
    if source == "rollups" and start_s % HOUR_S == 0:
        return load_emission_hours(session, meter_ids, start_s, n_hours)
    start = datetime.fromtimestamp(start_s, UTC)
    series = load_readings(session, meter_ids, start, start + timedelta(hours=n_hours))
    return series_counts(series, meter_ids, start_s, n_hours)


@dataclass
class Scope:
    """The enterprises, permits and stack accounts of a principal, period and filter."""

    refs: dict[int, EnterpriseRef]
    permits: dict[int, list[PermitTerms]]
    accounts: list[StackAccount]

    def totals(self, session: Session, by: str) -> list[EmissionTotal]:
        return group_totals(session, self.accounts, self.refs, by, self.permits)


def emissions_scope(
    session: Session,
    principal: Principal,
    period: Period,
    *,
    city: str | None = None,
    uscc: str | None = None,
    settings: ValiditySettings | None = None,
    source: str = "rollups",
) -> Scope:
    """Accounts of every stack the principal may see in the period (of one city or one
    enterprise when given), with their enterprises and permits; the analysers' hours read
    from ``source`` (``SOURCES``)."""
    s = settings or ValiditySettings.packaged()
    refs = visible_enterprises(session, principal, city, uscc)
    infos = load_enterprises(session, list(refs)) if refs else []
    stacks = [st for info in infos for st in find_stacks(info)]
    permits = permits_of(session, list(refs), period)
    if not stacks:
        return Scope(refs, permits, [])
    start_s, n_hours = period_hours(period)
    history_h = s.history_days * 24
    counts = hour_counts_of(session, stack_meter_ids(stacks), start_s - history_h * HOUR_S,
                            history_h + n_hours, source)  # fmt: skip
    accounts = [
        stack_account(st, counts, permits[st.enterprise_id], start_s, n_hours, history_h, s)
        for st in stacks
    ]
    return Scope(refs, permits, accounts)


def stack_accounts(
    session: Session, principal: Principal, period: Period, **kwargs: Any
) -> list[StackAccount]:
    """Accounts of every stack the principal may see (:func:`emissions_scope`)."""
    return emissions_scope(session, principal, period, **kwargs).accounts


@dataclass
class EmissionTotal:
    """Totals of a group (a stack, an enterprise, a city, the province) [t, h, %]."""

    key: str
    name: str
    amount_t: dict[str, float] = field(default_factory=lambda: dict.fromkeys(POLLUTANTS, 0.0))
    valid_hours: int = 0
    running_hours: int = 0
    exceedance_hours: int = 0
    exceedance_days: int = 0
    substituted_hours: int = 0
    stacks: int = 0
    permitted_t: dict[str, float] = field(default_factory=dict)

    @property
    def valid_share_pct(self) -> float | None:
        if self.running_hours == 0:
            return None
        return 100.0 * self.valid_hours / self.running_hours

    def add(self, a: StackAccount) -> None:
        self.stacks += 1
        for p, acc in a.pollutants.items():
            self.amount_t[p] = self.amount_t.get(p, 0.0) + acc.amount_kg / KG_PER_T
            self.valid_hours += acc.valid_hours
            self.running_hours += acc.valid_hours + acc.invalid_hours
            self.exceedance_hours += acc.exceedance_hours
            self.exceedance_days += acc.exceedance_days
            self.substituted_hours += acc.substituted_hours

    def as_json(self) -> dict[str, Any]:
        share = self.valid_share_pct
        return {
            "key": self.key,
            "name": self.name,
            **{f"{p}_t": round(v, 6) for p, v in self.amount_t.items()},
            "valid_share_pct": None if share is None else round(share, 2),
            "exceedance_hours": self.exceedance_hours,
            "exceedance_days": self.exceedance_days,
            "substituted_hours": self.substituted_hours,
            "stacks": self.stacks,
            "permitted_annual_t": {p: round(v, 3) for p, v in self.permitted_t.items()},
        }


def _region_names(session: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = session.execute(select(Region.code, Region.name_zh).where(Region.code.in_(codes)))
    return {str(r[0]): str(r[1]) for r in rows}


def group_totals(
    session: Session,
    accounts: Sequence[StackAccount],
    refs: dict[int, EnterpriseRef],
    by: str,
    permits: dict[int, list[PermitTerms]] | None = None,
) -> list[EmissionTotal]:
    """Totals by ``stack``, ``enterprise``, ``city`` or ``province``, in key order."""
    if by not in GROUPINGS:
        raise InputError(f"by must be one of {', '.join(GROUPINGS)}", field="by")
    groups: dict[str, EmissionTotal] = {}
    cities = _region_names(session, {r.city_code.ljust(6, "0") for r in refs.values()})
    for a in accounts:
        ref = refs[a.enterprise_id]
        key, name = {
            "stack": (f"{ref.uscc}/{a.unit_code}", f"{ref.name} {a.unit_code}"),
            "enterprise": (ref.uscc, ref.name),
            "city": (ref.city_code, cities.get(ref.city_code.ljust(6, "0"), ref.city_code)),
            "province": (ref.region_code[:2], ref.region_code[:2]),
        }[by]
        groups.setdefault(key, EmissionTotal(key, name)).add(a)
    if by == "enterprise" and permits:
        for eid, terms in permits.items():
            total = groups.get(refs[eid].uscc) if eid in refs else None
            for t in terms if total else []:
                if t.annual_t is not None and total is not None:
                    total.permitted_t[t.pollutant] = (
                        total.permitted_t.get(t.pollutant, 0.0) + t.annual_t
                    )
    return [groups[k] for k in sorted(groups)]


def stack_rows(scope: Scope) -> list[dict[str, Any]]:
    """The stacks of a scope as JSON rows (API, pages, report): enterprise, stack, pollutants
    with their episodes."""
    out = []
    for a in scope.accounts:
        ref = scope.refs[a.enterprise_id]
        pollutants = {}
        for p, acc in a.pollutants.items():
            row = acc.as_json()
            row["episodes"] = [
                {"start_s": e.start_s, "end_s": e.end_s, "hours": e.n_hours,
                 "peak_mg_m3": e.peak_mg_m3}
                for e in acc.episodes
            ]  # fmt: skip
            pollutants[p] = row
        out.append(
            {
                "enterprise_uscc": ref.uscc,
                "enterprise_name": ref.name,
                "city": ref.city_code,
                "unit_code": a.unit_code,
                "process": a.process,
                "pollutants": pollutants,
            }
        )
    return out
