"""The figures of a region (the province, a city or a county) for a period: totals against the
same period last year and the 2020 base, breakdowns by child region and industry, a monthly
trend, efficiency classes by industry, open findings and monitoring quality.

The province overview and the city page are the same view at two levels. Public (signed-out)
figures use the same computation with groups of fewer than ``PUBLIC_MIN_ENTERPRISES``
enterprises suppressed (statistical disclosure control: no enterprise's own figures).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kilnwatch.domain.levels import BENCHMARK
from kilnwatch.identity import Principal, Role
from kilnwatch.reference.levels import load_targets
from kilnwatch.store.repos.figures import MeterSeen, Where, newest_month
from kilnwatch.web.services.figures import FigureSet, Totals, change_fraction
from kilnwatch.web.services.seam import UnitAccount, group_accounts

PUBLIC_MIN_ENTERPRISES = 3
"""Signed-out pages show a group only when it has at least this many enterprises (issue 14)."""
BASE_YEAR = 2020
ONLINE_WINDOW = timedelta(hours=2)
"""A meter is online when its newest reading is at most this old at the "as of" time."""
SEVERITIES = ("high", "medium", "low", "info")
PUBLIC = Principal(subject="public-page", role=Role.PROVINCE, region_code="370000")
"""Who signed-out pages read as: the whole province, then filtered to groups of >= 3."""


@dataclass
class Target:
    energy_reduction_fraction: float | None = None
    share_at_benchmark_fraction: float | None = None
    sources: dict[str, str] = field(default_factory=dict)


def targets() -> Target:
    found = load_targets()
    out = Target()
    if (t := found.get("energy_intensity_reduction_2025")) is not None:
        out.energy_reduction_fraction = t.value / 100.0
        out.sources["energy"] = t.source
    if (t := found.get("share_at_benchmark_2025")) is not None:
        out.share_at_benchmark_fraction = t.value / 100.0
        out.sources["share"] = t.source
    return out


def default_month(session: Any, where: Where, tz: str) -> tuple[int, int]:
    """The newest month with entry-meter data, else the current month."""
    newest = newest_month(session, where)
    moment = newest.astimezone(ZoneInfo(tz)) if newest else datetime.now(ZoneInfo(tz))
    return moment.year, moment.month


@dataclass
class Compared:
    """One figure now, a year before and in the base year, and its changes."""

    key: str
    now: float | None
    last_year: float | None
    base: float | None
    target: float | None = None

    @property
    def vs_last_year(self) -> float | None:
        return change_fraction(self.now, self.last_year)

    @property
    def vs_base(self) -> float | None:
        return change_fraction(self.now, self.base)


def compare(now: Totals, last: Totals, base: Totals, goal: Target) -> list[Compared]:
    base_intensity = base.energy_intensity_tce_per_10k_cny
    target = None
    if base_intensity is not None and goal.energy_reduction_fraction is not None:
        target = base_intensity * (1 - goal.energy_reduction_fraction)
    rows = [
        Compared("energy_tce", now.energy_tce, last.energy_tce, base.energy_tce),
        Compared("coal_t", now.coal_t, last.coal_t, base.coal_t),
        Compared("electricity_kwh", now.electricity_kwh, last.electricity_kwh,
                 base.electricity_kwh),
        Compared("co2_t", now.co2_t, last.co2_t, base.co2_t),
        Compared("energy_intensity", now.energy_intensity_tce_per_10k_cny,
                 last.energy_intensity_tce_per_10k_cny, base_intensity, target),
        Compared("carbon_intensity", now.carbon_intensity_t_per_10k_cny,
                 last.carbon_intensity_t_per_10k_cny, base.carbon_intensity_t_per_10k_cny),
    ]  # fmt: skip
    for r in rows:
        if r.last_year == 0.0 and r.key != "energy_intensity":
            r.last_year = None
        if r.base == 0.0:
            r.base = None
    return rows


@dataclass
class ClassSummary:
    """Efficiency classes of one industry's units (production-unit energy)."""

    industry: str
    units: int
    classified: int
    benchmark: int
    below_baseline: int
    energy_tce: float
    share_at_benchmark: float | None
    target: float | None
    meets_target: bool | None


def class_summaries(session: Any, accounts: list[UnitAccount]) -> dict[str, Any]:
    """Efficiency classes by industry of these unit accounts, and the unclassified units."""
    groups = group_accounts(session, accounts, "industry")
    by_industry: dict[str, list[UnitAccount]] = defaultdict(list)
    for a in accounts:
        by_industry[a.industry].append(a)
    rows = [
        ClassSummary(
            g.key,
            g.units,
            g.units_classified,
            sum(a.class_ == BENCHMARK for a in by_industry[g.key]),
            g.units_below_baseline,
            g.energy_tce,
            g.capacity_share_at_benchmark_fraction,
            g.target_fraction,
            g.meets_target,
        )  # fmt: skip
        for g in groups
    ]
    unclassified = [
        {"unit_id": a.unit_id, "unit_code": a.unit_code, "enterprise_id": a.enterprise_id,
         "enterprise_name": a.enterprise_name, "industry": a.industry, "process": a.process,
         "level_field": a.level_field, "notes": a.notes}
        for a in accounts if a.class_ is None
    ]  # fmt: skip
    units_energy = sum(a.energy_tce or 0.0 for a in accounts)
    return {"rows": rows, "unclassified": unclassified, "units_energy_tce": units_energy,
            "units": len(accounts)}  # fmt: skip


@dataclass
class Quality:
    meters: int = 0
    online: int = 0
    as_of: datetime | None = None

    @property
    def online_fraction(self) -> float | None:
        return self.online / self.meters if self.meters else None


def quality_of(seen: list[MeterSeen]) -> tuple[Quality, dict[int, Quality]]:
    """Online rate overall and per enterprise of these meters, as of their newest reading (or
    now if sooner)."""
    newest = max((m.last_at for m in seen if m.last_at), default=None)
    now = datetime.now(UTC)
    as_of = min(newest, now) if newest else now
    total = Quality(as_of=as_of)
    per: defaultdict[int, Quality] = defaultdict(Quality)
    for m in seen:
        on = m.last_at is not None and m.last_at >= as_of - ONLINE_WINDOW
        for q in (total, per[m.enterprise_id]):
            q.meters += 1
            q.online += on
            q.as_of = as_of
    return total, dict(per)


def group_totals(figs: FigureSet, members: dict[str, set[int]]) -> dict[str, Totals]:
    return {key: figs.total(ids) for key, ids in members.items()}


def findings_by(
    found: list[tuple[int, str, int, float]], key_of: dict[int, str]
) -> tuple[dict[str, int], dict[str, int]]:
    """Open findings (``open_findings`` rows) of the enterprises in ``key_of`` by severity
    overall, and their count per group key."""
    severity: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    per_group: dict[str, int] = defaultdict(int)
    for eid, sev, n, _ in found:
        if eid not in key_of:
            continue
        severity[sev] = severity.get(sev, 0) + n
        per_group[key_of[eid]] += n
    return severity, dict(per_group)
