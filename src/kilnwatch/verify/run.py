"""Running verification: a batch over a period, or incrementally for what just changed.

For each enterprise the readings of the period are bulk-loaded in one query, the checks of
the registry (:mod:`kilnwatch.verify.checks`) run on numpy arrays, and the findings are synced
by fingerprint; the credibility score of the (enterprise, period) is recomputed from its stored
findings. The checks that cumulate several months get the earlier months' source rows and the
meters' monthly rollups (never their raw readings).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from kilnwatch.analytics.meters import EnterpriseInfo, load_enterprises
from kilnwatch.analytics.readings import (
    I64,
    Series,
    load_period_readings,
    load_readings,
    load_repeats,
)
from kilnwatch.domain.periods import Period
from kilnwatch.store.models import VerificationRun
from kilnwatch.store.models.base import utcnow
from kilnwatch.store.repos import findings as repo
from kilnwatch.store.repos import sources as src
from kilnwatch.store.repos.permits import permits_in_force
from kilnwatch.store.repos.rollups import meter_series
from kilnwatch.store.rollups.attribution import MONTH
from kilnwatch.verify.checks import CHECKS, run_checks, run_province_checks
from kilnwatch.verify.context import (
    EarlierMonth,
    EnterpriseContext,
    MonthTotal,
    PeriodWindow,
    Sources,
    build_context,
    group_sources,
)
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.parameters import VerifySettings
from kilnwatch.verify.score import credibility
from kilnwatch.verify.settings import verify_settings
from kilnwatch.verify.unchecked import Unchecked, unchecked_items
from kilnwatch.verify.window import months_before

Progress = Callable[[int, int], None]
#: Readings are loaded this far before the period so counters have their opening register.
OPENING_MARGIN = timedelta(hours=1)
#: Meter ids per rollup query (bound parameters stay far below the SQLite and PostgreSQL limits).
METERS_PER_QUERY = 5000


@dataclass
class RunReport:
    run_id: int
    findings: list[Finding] = field(default_factory=list)
    new: int = 0
    updated: int = 0
    closed: int = 0
    enterprises: int = 0
    seconds: float = 0.0
    readings: int = 0
    unchecked: list[Unchecked] = field(default_factory=list)
    """Statistical items accepted at import that no check could compare (said, not skipped)."""


def _sources(session: Session, ids: list[int], window: PeriodWindow) -> dict[int, Sources]:
    start, end = window.month.first, window.month.stop
    return group_sources(
        ids,
        src.statistical_reports(session, ids, [window.period]),
        src.grid_totals(session, ids, [window.period]),
        src.invoices(session, ids, start, end),
        src.waybills(session, ids, start, end),
        src.prices(session, [window.period]),
        permits_in_force(session, ids, start, end),
    )


def _earlier(
    session: Session, infos: list[EnterpriseInfo], window: PeriodWindow, settings: VerifySettings
) -> dict[int, list[EarlierMonth]]:
    """Per enterprise, the months before ``window`` the longest check window needs (most
    recent first): their invoices, waybills, statistical reports and the meters' monthly
    rollups."""
    windows = months_before(window, CHECKS.longest_window_months(settings) - 1)
    if not windows or not infos:
        return {}
    out = {i.id: [EarlierMonth(w) for w in windows] for i in infos}
    _add_earlier_sources(session, out, windows[-1].start_at.date(), window.start_at.date())
    _add_earlier_totals(session, out, infos, windows[-1].start_at, window.start_at)
    return out


def _add_earlier_sources(
    session: Session, out: dict[int, list[EarlierMonth]], start: date, end: date
) -> None:
    """Invoices and waybills dated in [start, end), and the statistical reports of those
    months (stocks), into their enterprise's month."""
    index = {m.window.period: n for n, m in enumerate(next(iter(out.values())))}
    ids = list(out)
    for report in src.statistical_reports(session, ids, list(index)):
        out[report.enterprise_id][index[report.period]].stats[report.item] = report
    for invoice in src.invoices(session, ids, start, end):
        out[invoice.enterprise_id][index[f"{invoice.issued_on:%Y-%m}"]].invoices.append(invoice)
    for waybill in src.waybills(session, ids, start, end):
        out[waybill.enterprise_id][index[f"{waybill.shipped_on:%Y-%m}"]].waybills.append(waybill)


def _add_earlier_totals(
    session: Session, out: dict[int, list[EarlierMonth]], infos: list[EnterpriseInfo],
    start: datetime, end: datetime,
) -> None:  # fmt: skip
    """The monthly rollups of every meter, for the months starting in [start, end)."""
    index = {m.window.start_at: n for n, m in enumerate(next(iter(out.values())))}
    owner = {m.id: i.id for i in infos for m in i.meters}
    meter_ids = list(owner)
    for first in range(0, len(meter_ids), METERS_PER_QUERY):
        chunk = meter_ids[first : first + METERS_PER_QUERY]
        for point in meter_series(session, chunk, MONTH, start, end):
            n = index.get(point.period_start)
            if n is not None:
                month = out[owner[point.meter_id]][n]
                month.totals[point.meter_id] = MonthTotal(point.sum, point.count)


@dataclass
class Loaded:
    """Readings and repeated deliveries of a whole period, loaded by one scan each."""

    series: dict[int, Series]
    repeats: dict[int, I64]

    @classmethod
    def load(cls, session: Session, window: PeriodWindow) -> Loaded:
        start = window.start_at - OPENING_MARGIN
        return cls(
            load_period_readings(session, start, window.end_at),
            load_repeats(session, None, window.start_at, window.end_at),
        )


def verify_enterprise(
    session: Session,
    info: EnterpriseInfo,
    window: PeriodWindow,
    sources: Sources,
    settings: VerifySettings,
    loaded: Loaded | None = None,
    earlier: list[EarlierMonth] | None = None,
) -> tuple[list[Finding], int, EnterpriseContext]:
    """Findings of one enterprise and period, readings looked at, and its context (for the
    checks over every enterprise); readings from ``loaded`` when given, else loaded for this
    enterprise; ``earlier``: the months before ``window`` for the cumulating checks."""
    ids = [m.id for m in info.meters]
    if loaded is None:
        series = load_readings(session, ids, window.start_at - OPENING_MARGIN, window.end_at)
        repeats = load_repeats(session, ids, window.start_at, window.end_at)
    else:
        series = {i: loaded.series[i] for i in ids if i in loaded.series}
        repeats = {i: loaded.repeats[i] for i in ids if i in loaded.repeats}
    ctx = build_context(info, window, series, sources, settings, repeats, earlier)
    return run_checks(ctx), sum(s.size for s in series.values()), ctx


def verify_period(
    session: Session,
    period: Period,
    enterprise_ids: Sequence[int] | None = None,
    settings: VerifySettings | None = None,
    progress: Progress | None = None,
    trigger: str = "batch",
) -> RunReport:
    """Verify every (or the given) enterprise for the month ``period``; returns what changed.

    Verification is monthly: a longer period is verified month by month
    (``period.split("month")``, as ``kilnwatch verify`` does).
    """
    settings = settings or verify_settings()
    window = PeriodWindow(period)
    started = time.perf_counter()
    run = VerificationRun(trigger=trigger, periods=window.period, started_at=utcnow())
    session.add(run)
    session.flush()
    report = RunReport(run.id)
    infos = load_enterprises(session, enterprise_ids)
    by_enterprise = _sources(session, [i.id for i in infos], window)
    earlier = _earlier(session, infos, window, settings)
    found_by: dict[int, list[Finding]] = {}
    contexts: list[EnterpriseContext] = []
    loaded = Loaded.load(session, window) if enterprise_ids is None else None
    for n, info in enumerate(infos, start=1):
        found, readings, ctx = verify_enterprise(
            session, info, window, by_enterprise[info.id], settings, loaded, earlier.get(info.id)
        )
        found_by[info.id] = found
        contexts.append(ctx)
        report.unchecked += unchecked_items(ctx)
        report.readings += readings
        if progress:
            progress(n, len(infos))
    for f in run_province_checks(contexts, [f for fs in found_by.values() for f in fs]):
        found_by[f.enterprise_id].append(f)
    for info in infos:
        counts = repo.sync_findings(session, found_by[info.id], [(info.id, window.period)], run.id)
        _score(session, info.id, window.period, settings)
        report.findings += found_by[info.id]
        report.new, report.updated = report.new + counts.new, report.updated + counts.updated
        report.closed += counts.closed
    report.enterprises = len(infos)
    report.seconds = time.perf_counter() - started
    run.enterprises, run.findings_new = report.enterprises, report.new
    run.findings_updated, run.findings_closed = report.updated, report.closed
    run.finished_at, run.seconds = utcnow(), report.seconds
    session.flush()
    return report


def _score(session: Session, enterprise_id: int, period: str, settings: VerifySettings) -> None:
    scored = credibility(repo.findings_of(session, enterprise_id, period), settings)
    repo.save_score(session, enterprise_id, period, scored.score, scored.deductions)


def verify_changed(
    session: Session,
    enterprise_ids: Iterable[int],
    periods: Iterable[Period],
    settings: VerifySettings | None = None,
) -> list[RunReport]:
    """Re-verify the enterprises whose data changed, for the periods it touched (called by
    ingestion after a batch is stored; the caller commits)."""
    ids = sorted(set(enterprise_ids))
    if not ids:
        return []
    return [
        verify_period(session, p, ids, settings, trigger="incremental")
        for p in sorted(set(periods), key=lambda p: p.first)
    ]
