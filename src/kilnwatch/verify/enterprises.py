"""The enterprise phase of verification: each enterprise's checks on its readings, sources
and earlier months, before the checks over every enterprise of a run (:mod:`.run`).

For each enterprise the readings of the period are bulk-loaded (the whole period in one scan,
or the meters of a set of enterprises), the checks of the registry
(:mod:`kilnwatch.verify.checks`) run on numpy arrays. The checks that cumulate several months
get the earlier months' source rows and the meters' monthly rollups (never their raw
readings).

Memory: a run holds the readings of the enterprises it checks at once (measured about
:data:`HELD_B_PER_READING` bytes per reading). :func:`check_in_chunks` cuts the enterprises
into contiguous chunks of at most ``chunk_readings`` readings of the month (counted from the
meters' monthly rollups), reads the month once into a temporary file per chunk, then loads and
checks one chunk at a time and keeps of each enterprise only
its findings and its :func:`summary` (the meters' totals and daily figures, the month's source
rows, what the checks over every enterprise read of the readings): those checks still see every
enterprise, and the findings are those of one chunk (``tests/verify/test_verify_chunks.py``).
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session

from kilnwatch.analytics.meters import EnterpriseInfo
from kilnwatch.analytics.readings import (
    I64,
    Series,
    SplitRows,
    empty_series,
    load_period_readings,
    load_readings,
    load_repeats,
    series_by_meter,
    split_period_readings,
)
from kilnwatch.store.models import MarketPrice, TaxInvoice
from kilnwatch.store.repos import sources as src
from kilnwatch.store.repos.permits import permits_in_force
from kilnwatch.store.repos.rollups import meter_series
from kilnwatch.store.rollups.attribution import MONTH
from kilnwatch.verify.checks import CHECKS, run_checks
from kilnwatch.verify.context import (
    EarlierMonth,
    EnterpriseContext,
    MonthTotal,
    PeriodWindow,
    PriceMonth,
    Sources,
    build_context,
    group_sources,
)
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.parameters import VerifySettings
from kilnwatch.verify.rules import revenue
from kilnwatch.verify.unchecked import Unchecked, unchecked_items
from kilnwatch.verify.window import months_before

Progress = Callable[[int, int], None]
#: Readings are loaded this far before the period so counters have their opening register.
OPENING_MARGIN = timedelta(hours=1)
#: Meter ids per rollup query (bound parameters stay far below the SQLite and PostgreSQL limits).
METERS_PER_QUERY = 5000
HELD_B_PER_READING = 280
"""Bytes a run holds per reading of the enterprises it checks at once (the readings as arrays,
their quantities, the sort of a load): about 280 B sampled during the one-chunk verification
of 38.6 M hourly readings at 3 000 enterprises (docs/scaling.md, "Memory")."""
MEMORY_BUDGET_B = 2 * 1024**3
"""What a run's chunk of readings may hold by default [B]: 2 GiB, so that a verification fits
beside the database on a small server (and ``--jobs N`` processes beside each other)."""
CHUNK_READINGS = MEMORY_BUDGET_B // HELD_B_PER_READING
"""Readings of the month per chunk of enterprises by default (``kilnwatch verify
--chunk-readings``): about 7.7 M, some 620 enterprises' hourly month of the simulator."""


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


def _add_price_history(
    session: Session, by_enterprise: dict[int, Sources], window: PeriodWindow, months: int
) -> None:
    """Each enterprise's sales invoices and the market prices of the ``months`` months before
    ``window`` (most recent first; months without sales are left out)."""
    windows = months_before(window, months)
    if not windows or not by_enterprise:
        return
    periods = [w.period for w in windows]
    prices: dict[str, dict[str, MarketPrice]] = {p: {} for p in periods}
    for price in src.prices(session, periods):
        prices[price.period][price.item] = price
    sales: dict[tuple[int, str], list[TaxInvoice]] = defaultdict(list)
    first, stop = windows[-1].start_at.date(), window.start_at.date()
    for invoice in src.sales_invoices(session, list(by_enterprise), first, stop):
        sales[(invoice.enterprise_id, f"{invoice.issued_on:%Y-%m}")].append(invoice)
    for enterprise_id, sources in by_enterprise.items():
        sources.price_history = [
            PriceMonth(p, sales[(enterprise_id, p)], prices[p])
            for p in periods
            if (enterprise_id, p) in sales
        ]


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

    @classmethod
    def split(
        cls, session: Session, window: PeriodWindow, parts: list[list[EnterpriseInfo]],
        folder: Path,
    ) -> list[Callable[[], Loaded]]:  # fmt: skip
        """The whole period read by one scan (as :meth:`load`) into a file per chunk of
        enterprises in ``folder``; per chunk, what loads its readings (and the period's
        repeats)."""
        group_of = {m.id: n for n, part in enumerate(parts) for i in part for m in i.meters}
        start = window.start_at - OPENING_MARGIN
        files = split_period_readings(session, start, window.end_at, group_of, len(parts), folder)
        repeats = load_repeats(session, None, window.start_at, window.end_at)
        return [partial(_from_file, f, repeats) for f in files]

    @classmethod
    def load_meters(cls, session: Session, window: PeriodWindow, ids: Sequence[int]) -> Loaded:
        """The readings and repeats of the meters ``ids`` only (a chunk of enterprises)."""
        start = window.start_at - OPENING_MARGIN
        return cls(
            load_readings(session, ids, start, window.end_at),
            load_repeats(session, ids, window.start_at, window.end_at),
        )


def _from_file(rows: SplitRows, repeats: dict[int, I64]) -> Loaded:
    return Loaded(series_by_meter(rows.load()), repeats)


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


@dataclass
class Checked:
    """The enterprise checks' results of a set of enterprises (before the province checks)."""

    found_by: dict[int, list[Finding]] = field(default_factory=dict)
    contexts: list[EnterpriseContext] = field(default_factory=list)
    readings: int = 0
    unchecked: list[Unchecked] = field(default_factory=list)

    def extend(self, other: Checked) -> None:
        """Add the results of the next enterprises (in enterprise order)."""
        self.found_by.update(other.found_by)
        self.contexts += other.contexts
        self.readings += other.readings
        self.unchecked += other.unchecked


def check_enterprises(
    session: Session,
    infos: list[EnterpriseInfo],
    window: PeriodWindow,
    settings: VerifySettings,
    loaded: Loaded | None,
    progress: Progress | None = None,
) -> Checked:
    """Every enterprise check of ``infos`` for ``window`` with their sources and earlier
    months; readings from ``loaded`` when given, else per enterprise."""
    by_enterprise = _sources(session, [i.id for i in infos], window)
    if settings.enabled(revenue.MARKET):
        months = settings.count(revenue.MARKET, revenue.HISTORY_MONTHS)
        _add_price_history(session, by_enterprise, window, months)
    earlier = _earlier(session, infos, window, settings)
    checked = Checked()
    for n, info in enumerate(infos, start=1):
        found, readings, ctx = verify_enterprise(
            session, info, window, by_enterprise[info.id], settings, loaded, earlier.get(info.id)
        )
        checked.found_by[info.id] = found
        checked.contexts.append(ctx)
        checked.readings += readings
        checked.unchecked += unchecked_items(ctx)
        if progress:
            progress(n, len(infos))
    return checked


def summary(ctx: EnterpriseContext) -> EnterpriseContext:
    """``ctx`` without the enterprise's readings: what the checks over every enterprise read.

    The meters keep their registry facts, totals and daily figures (quantities, readings,
    uncounted steps) and lose their readings and interval quantities; the month's source rows
    stay, the earlier months and the price history go. What a check over every enterprise
    reads of the readings themselves its ``summarise`` computes first, into the summary's
    :meth:`~kilnwatch.verify.context.EnterpriseContext.derived` cache (nothing else of that
    cache is kept). A few kB per meter instead of its month of readings."""
    kept = replace(ctx, _derived={})
    for check in CHECKS.province_checks:
        if check.summarise is not None and ctx.settings.enabled(check.code):
            check.summarise(kept)
    empty_f, empty_i = np.zeros(0, dtype=np.float64), np.zeros(0, dtype=np.int64)
    meters = {
        i: replace(m, series=empty_series(), ts_q=empty_i, qty=empty_f, repeats_ts=empty_i)
        for i, m in ctx.meters.items()
    }
    sources = replace(ctx.sources, price_history=[])
    return replace(ctx, meters=meters, sources=sources, earlier=[], _derived=kept._derived)


def enterprise_chunks(
    session: Session, infos: list[EnterpriseInfo], window: PeriodWindow, chunk_readings: int
) -> list[list[EnterpriseInfo]]:
    """``infos`` in order, cut into contiguous chunks of at most ``chunk_readings`` readings
    in ``window`` (the meters' monthly rollups count them; an enterprise with more is a chunk
    of its own, one without readings joins the chunk it falls in)."""
    if chunk_readings < 1:
        raise ValueError(f"chunk_readings must be at least 1, not {chunk_readings}")
    per_meter: dict[int, int] = {}
    meter_ids = [m.id for i in infos for m in i.meters]
    for first in range(0, len(meter_ids), METERS_PER_QUERY):
        part = meter_ids[first : first + METERS_PER_QUERY]
        for point in meter_series(session, part, MONTH, window.start_at, window.end_at):
            per_meter[point.meter_id] = per_meter.get(point.meter_id, 0) + point.count
    out: list[list[EnterpriseInfo]] = []
    held = 0
    for info in infos:
        readings = sum(per_meter.get(m.id, 0) for m in info.meters)
        if not out or (held + readings > chunk_readings and held > 0):
            out.append([])
            held = 0
        out[-1].append(info)
        held += readings
    return out


def check_in_chunks(
    session: Session,
    infos: list[EnterpriseInfo],
    window: PeriodWindow,
    settings: VerifySettings,
    chunk_readings: int | None,
    whole_period: bool,
    progress: Progress | None = None,
) -> Checked:
    """Every enterprise check of ``infos``, one chunk of enterprises at a time
    (:func:`enterprise_chunks`; ``chunk_readings`` None: one chunk). A single chunk reads
    the readings of the whole period in one scan when ``whole_period`` (every enterprise is
    verified) and keeps the full contexts. Several chunks keep each enterprise's
    :func:`summary`; with ``whole_period`` the period is still read by one scan, into a
    temporary file per chunk (:meth:`Loaded.split`: 28 bytes a reading on disk, one chunk's
    readings in memory at a time), else each chunk reads its meters' readings."""
    parts = [infos] if chunk_readings is None else enterprise_chunks(
        session, infos, window, chunk_readings
    )  # fmt: skip
    if len(parts) < 2:
        loaded = Loaded.load(session, window) if whole_period else None
        return check_enterprises(session, infos, window, settings, loaded, progress)
    merged = Checked()
    with tempfile.TemporaryDirectory(prefix="kilnwatch-verify-") as folder:
        split = Loaded.split(session, window, parts, Path(folder)) if whole_period else []
        for n, part in enumerate(parts):
            meter_ids = [m.id for i in part for m in i.meters]
            loaded = split[n]() if split else Loaded.load_meters(session, window, meter_ids)
            checked = check_enterprises(session, part, window, settings, loaded)
            del loaded  # the chunk's readings go before the next chunk's are read
            checked.contexts = [summary(c) for c in checked.contexts]
            merged.extend(checked)
            if progress:
                progress(len(merged.found_by), len(infos))
    return merged
