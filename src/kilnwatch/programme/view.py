"""The programme view: where every unit stands (below the baseline, in retrofit, retrofitted,
verified, eliminated), the capacity share at 标杆 month by month against the 2025 target, the
leaders, the elimination list and the plans that slip.

References
----------
.. [1] The > 30 % share of capacity at the 标杆 level by 2025 (``reference/levels/targets.csv``)
   via :func:`kilnwatch.domain.share_at_benchmark`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from kilnwatch.accounting.intensity import intensity_rows
from kilnwatch.accounting.units import UnitAccount, unit_accounts
from kilnwatch.domain import share_at_benchmark
from kilnwatch.domain.periods import Period, parse_period
from kilnwatch.errors import InputError
from kilnwatch.identity import Principal
from kilnwatch.programme.catalogue import UnitCatalogue, catalogue_matches
from kilnwatch.programme.determination import effective_class, latest
from kilnwatch.programme.elimination import EliminationItem, elimination_list
from kilnwatch.programme.exit_grounds import Ground, exit_ground_records, unit_grounds
from kilnwatch.programme.leaders import LeaderRow, leaders
from kilnwatch.programme.plans import PlanAlert, plans, slipping
from kilnwatch.programme.savings import recorded_savings
from kilnwatch.reference.levels import LevelTable
from kilnwatch.store.models import ExitGround

BASE_YEAR = 2020
"""The base of the 14th five-year plan's intensity target (``levels/targets.csv``,
energy_intensity_reduction_2025: 13.5 % below 2020)."""
STAGES = ("below_baseline", "in_retrofit", "retrofitted", "verified", "eliminated")


@dataclass
class StageCount:
    """Units and capacity at one stage of the programme."""

    stage: str
    units: int = 0
    capacity: float = 0.0


@dataclass
class ProgrammeView:
    """Everything the programme view and its report show."""

    period: str
    today: date
    units_total: int
    units_classified: int
    unclassified: list[tuple[str, str, str, str]]
    """(enterprise USCC, unit code, reason code, reason) of every unit without a class; the
    codes are :data:`kilnwatch.accounting.units.UNCLASSIFIED_CODES`."""
    stages: list[StageCount]
    share_by_month: list[tuple[str, float | None, float]]
    """(month, capacity share at benchmark or None, target) per month."""
    leaders: list[LeaderRow]
    eliminations: list[EliminationItem]
    alerts: list[PlanAlert]
    intensity_change_fraction: float | None = None
    """Energy intensity (tce per revenue) of the jurisdiction against the 2020 base, None
    with the reason in ``intensity_notes`` when the base has no data."""
    intensity_notes: list[str] = field(default_factory=list)
    accounts: list[UnitAccount] = field(default_factory=list)
    catalogue: list[UnitCatalogue] = field(default_factory=list)
    """Units matching an obsolete-equipment rule, or lacking the attributes to be judged."""
    exit_grounds: list[Ground] = field(default_factory=list)
    """The exit grounds by kind of every unit with a breach or a recorded determination."""

    @property
    def share_classified(self) -> float:
        """Share of the units with a class [-]."""
        return self.units_classified / self.units_total if self.units_total else 0.0

    def unclassified_by_code(self) -> dict[str, int]:
        """Units without a class per reason code."""
        counts: dict[str, int] = {}
        for _, _, code, _ in self.unclassified:
            counts[code] = counts.get(code, 0) + 1
        return counts

    def coverage_json(self) -> dict[str, Any]:
        """How many units have a class, and every unit without one with its reason, as the
        API's ``/programme/view`` and the CLI's ``programme view --json`` give them."""
        return {
            "units_total": self.units_total,
            "units_classified": self.units_classified,
            "share_classified": self.share_classified,
            "unclassified_by_code": self.unclassified_by_code(),
            "unclassified": [
                {"enterprise_uscc": e, "unit_code": u, "code": c, "reason": r}
                for e, u, c, r in self.unclassified
            ],
        }


def _stages(
    session: Session,
    principal: Principal,
    accounts: list[UnitAccount],
    period: str,
    eliminated: set[int],
) -> list[StageCount]:
    determined = {d.unit_id: d for d in latest(session, principal, period)}
    plan_state: dict[int, str] = {}
    for p in plans(session, principal):
        plan_state.setdefault(p.unit_id, p.status)
    measured: dict[int, bool] = {}
    for s in recorded_savings(session, principal):
        verified = s.significant and s.reporting_class not in (None, "below_baseline")
        measured.setdefault(s.unit_id, verified)
    counts = {stage: StageCount(stage) for stage in STAGES}
    for acc in accounts:
        d = determined.get(acc.unit_id)
        cls = effective_class(d) if d is not None else acc.class_
        hits = {
            "below_baseline": cls == "below_baseline",
            "in_retrofit": plan_state.get(acc.unit_id)
            in ("submitted", "city_reviewed", "approved"),  # fmt: skip
            "retrofitted": acc.unit_id in measured or plan_state.get(acc.unit_id) == "completed",
            "verified": measured.get(acc.unit_id, False),
            "eliminated": acc.unit_id in eliminated,
        }
        for stage, hit in hits.items():
            if hit:
                counts[stage].units += 1
                counts[stage].capacity += acc.capacity
    return list(counts.values())


def programme_view(
    session: Session,
    principal: Principal,
    period: Period,
    today: date,
    province: str | None,
    tables: Sequence[LevelTable] | None = None,
) -> ProgrammeView:
    """The programme view of ``period`` as of ``today`` for the principal's jurisdiction."""
    accounts = unit_accounts(session, principal, period, tables)
    if not accounts:
        raise InputError("no production units in this jurisdiction", field="scope")
    months = []
    for month in period.split("month"):
        monthly = [a for a in unit_accounts(session, principal, month, tables) if a.class_]
        share = share_at_benchmark([(a.capacity, a.class_) for a in monthly]) if monthly else None
        target = (
            share.target_fraction if share else share_at_benchmark([(1.0, None)]).target_fraction
        )
        months.append((month.label, share.share_fraction if share else None, target))
    catalogue = catalogue_matches(session, principal, province, [a.unit_id for a in accounts])
    eliminations = elimination_list(
        session, principal, accounts, period.label, today, province, catalogue
    )
    base = parse_period(str(BASE_YEAR), period.zone, field="base")
    rows = intensity_rows(session, principal, period, base, "province")
    change = rows[0].energy_change_fraction if rows else None
    notes = rows[0].notes if rows else ["no enterprises with entry meters"]
    return ProgrammeView(
        period=period.label,
        today=today,
        units_total=len(accounts),
        units_classified=sum(a.class_ is not None for a in accounts),
        unclassified=[
            (
                a.enterprise_uscc,
                a.unit_code,
                a.unclassified_code or "level.unclassified.not_classifiable",
                "; ".join(a.notes) or "no class",
            )
            for a in accounts
            if a.class_ is None
        ],
        stages=_stages(
            session, principal, accounts, period.label, {e.unit_id for e in eliminations}
        ),
        share_by_month=months,
        leaders=leaders(accounts, tables),
        eliminations=eliminations,
        alerts=slipping(session, principal, today),
        intensity_change_fraction=change,
        intensity_notes=list(notes) if change is None else [],
        accounts=accounts,
        catalogue=catalogue,
        exit_grounds=_exit_grounds(session, principal, accounts, catalogue),
    )


def _exit_grounds(
    session: Session,
    principal: Principal,
    accounts: list[UnitAccount],
    catalogue: list[UnitCatalogue],
) -> list[Ground]:
    """Grounds of the units with a breach of any kind or a recorded determination."""
    records: dict[int, list[ExitGround]] = {}
    for r in exit_ground_records(session, principal):
        records.setdefault(r.unit_id, []).append(r)
    matched = {u.unit_id: u.matches for u in catalogue}
    out: list[Ground] = []
    for acc in accounts:
        grounds = unit_grounds(
            acc.unit_id, acc, matched.get(acc.unit_id, []), records.get(acc.unit_id, [])
        )
        if any(g.finding == "breach" or g.basis == "recorded" for g in grounds):
            out += grounds
    return out


__all__ = ["STAGES", "ProgrammeView", "StageCount", "programme_view"]
