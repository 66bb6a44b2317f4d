"""What the rules and detectors of one enterprise and period look at.

:func:`build_context` turns the registry, the readings of the period (latest versions) and
the external source rows into an :class:`EnterpriseContext` with per-meter quantities
(period total, daily totals, coverage) ready for vectorised checks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

import numpy as np

from kilnwatch.analytics.meters import EnterpriseInfo, MeterInfo, UnitInfo
from kilnwatch.analytics.quantities import (
    daily_counts,
    daily_totals,
    interval_quantities,
    total_between,
)
from kilnwatch.analytics.readings import F64, I64, Series, empty_series
from kilnwatch.domain.periods import Period
from kilnwatch.errors import InputError
from kilnwatch.store.models import (
    EmissionPermit,
    GridElectricity,
    LogisticsWaybill,
    MarketPrice,
    StatisticalReport,
    TaxInvoice,
)
from kilnwatch.verify.parameters import VerifySettings

T = TypeVar("T")


@dataclass(frozen=True)
class PeriodWindow:
    """The month a verification looks at (a :class:`~kilnwatch.domain.periods.Period` of kind
    ``month``), as the rules read it: its label, aware bounds and epoch seconds."""

    month: Period
    period: str = field(init=False)
    start_at: datetime = field(init=False)
    end_at: datetime = field(init=False)
    start_s: int = field(init=False)
    end_s: int = field(init=False)

    def __post_init__(self) -> None:
        if self.month.kind != "month":
            message = f"verification is monthly; {self.month} is a {self.month.kind}"
            raise InputError(message, field="period")
        start, end = self.month.start, self.month.end
        derived = {"period": self.month.label, "start_at": start, "end_at": end,
                   "start_s": int(start.timestamp()), "end_s": int(end.timestamp())}  # fmt: skip
        for name, value in derived.items():
            object.__setattr__(self, name, value)  # frozen: set once, from ``month``

    def day_start(self, index: int) -> datetime:
        return self.start_at + timedelta(days=index)


@dataclass
class MeterData:
    """One meter's readings and quantities in the period."""

    info: MeterInfo
    series: Series
    ts_q: I64  # interval ends of quantities [epoch s]
    qty: F64  # quantities [meter unit]
    total: float  # quantity in the period [meter unit]
    daily: F64  # daily quantities [meter unit]
    daily_n: I64  # readings per day
    step_s: int  # the meter's usual reading interval [s] (0 when unknown)
    uncounted: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Per day, register steps that could not be counted (a counter reset or replacement) or
    that span a gap (they hold quantities of the missing intervals too)."""
    repeats_ts: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Timestamps [epoch s] of deliveries that repeated a stored value (one per delivery)."""
    unopened_s: int = 0
    """A counter without a register at the period's start: seconds from the start to its
    first reading in the period (the first interval, whose quantity is unknown; 0 otherwise)."""

    @property
    def expected_per_day(self) -> int:
        return 86_400 // self.step_s if self.step_s else 0

    def full_days(self) -> np.ndarray:
        """Days whose readings are all there and countable (a partial day, or a day with a
        counter reset or replacement, is not compared)."""
        full = self.daily_n >= max(self.expected_per_day, 1)
        return full & (self.uncounted == 0) if self.uncounted.size == full.size else full

    def at_load_days(self, fraction: float) -> np.ndarray:
        """Full days (:meth:`full_days`) on which the meter measured at least ``fraction`` of
        its median full day with consumption.

        Parameters
        ----------
        fraction : float
            The share of the median full day a day must reach, a rule's ``at_load_fraction``.
            [-]

        Returns
        -------
        numpy.ndarray
            One boolean per day of the window; all False without a full day above zero.
        """
        full = self.full_days() & (self.daily > 0)
        if not full.any():
            return full
        return full & (self.daily >= fraction * float(np.median(self.daily[full])))

    def undercounts(self) -> bool:
        """An interval meter that missed readings undercounts the period; a counter does not
        (its register differences span the gaps)."""
        return self.info.measurement == "interval" and not self.full_days().all()

    def possibly_missing(self) -> float:
        """What the readings an interval meter missed in the period may have held, at its
        mean rate over the readings it has [meter unit]; for a counter (its register
        differences span the gaps) what its first interval may have held when the period has
        no register at its start (:attr:`unopened_s`); 0 for a meter with every reading."""
        if self.info.measurement == "counter" and self.unopened_s and self.step_s:
            seconds = self.daily.size * 86_400 - self.unopened_s
            return self.total / seconds * self.unopened_s if seconds > 0 else float("inf")
        if self.info.measurement != "interval" or not self.step_s:
            return 0.0
        have = int(self.daily_n.sum())
        missing = max(self.expected_per_day * self.daily.size - have, 0)
        if not missing:
            return 0.0
        return self.total / have * missing if have else float("inf")


@dataclass(frozen=True)
class PriceMonth:
    """A month before the verified one: the enterprise's sales invoices in it and the month's
    market prices (its own price history, for ``verify.revenue.amount_vs_market``)."""

    period: str
    sales: list[TaxInvoice]
    prices: Mapping[str, MarketPrice]


@dataclass
class Sources:
    """External source rows of the enterprise for the period."""

    stats: dict[str, StatisticalReport] = field(default_factory=dict)
    grid: GridElectricity | None = None
    invoices: list[TaxInvoice] = field(default_factory=list)
    waybills: list[LogisticsWaybill] = field(default_factory=list)
    prices: dict[str, MarketPrice] = field(default_factory=dict)
    permits: list[EmissionPermit] = field(default_factory=list)
    price_history: list[PriceMonth] = field(default_factory=list)
    """Earlier months with sales invoices of the enterprise, most recent first."""


@dataclass(frozen=True)
class MonthTotal:
    """A meter's quantity in a whole month (its monthly rollup)."""

    quantity: float  # [meter unit]
    readings: int


@dataclass
class EarlierMonth:
    """A month before the verified one, for the checks that cumulate ``window_months``."""

    window: PeriodWindow
    invoices: list[TaxInvoice] = field(default_factory=list)
    waybills: list[LogisticsWaybill] = field(default_factory=list)
    totals: dict[int, MonthTotal] = field(default_factory=dict)  # by meter id
    stats: dict[str, StatisticalReport] = field(default_factory=dict)  # by item (stocks)


@dataclass
class EnterpriseContext:
    info: EnterpriseInfo
    window: PeriodWindow
    meters: dict[int, MeterData]
    sources: Sources
    settings: VerifySettings
    earlier: list[EarlierMonth] = field(default_factory=list)
    """Months before ``window``, most recent first (as many as the longest check window)."""
    _derived: dict[str, Any] = field(default_factory=dict, repr=False)

    def derived(self, key: str, compute: Callable[[], T]) -> T:
        """A quantity several checks share (e.g. the intensity drops), computed once."""
        if key not in self._derived:
            self._derived[key] = compute()
        return cast(T, self._derived[key])

    def by_level(self, level: str, carrier: str | None = None) -> list[MeterData]:
        return [
            m
            for m in self.meters.values()
            if m.info.level == level and (carrier is None or m.info.carrier == carrier)
        ]

    def children(self, meter_id: int) -> list[MeterData]:
        return [m for m in self.meters.values() if m.info.parent_id == meter_id]

    def summable_children(self, parent: MeterData) -> list[MeterData]:
        """The sub-meters whose sum the parent is compared with: its children that count a
        quantity (not ``instant``), all in the parent's unit; none when a child is in another
        unit (the sum would mix units)."""
        children = [c for c in self.children(parent.info.id) if c.info.measurement != "instant"]
        if any(c.info.uom != parent.info.uom for c in children):
            return []
        return children

    def product_meters(self, unit_id: int) -> list[MeterData]:
        return [m for m in self.meters.values() if m.info.unit_id == unit_id and m.info.is_product]

    def unit(self, unit_id: int | None) -> UnitInfo | None:
        return next((u for u in self.info.units if u.id == unit_id), None)


def median_step_s(ts_s: I64) -> int:
    if ts_s.size < 2:
        return 0
    return int(np.median(np.diff(ts_s)))


def meter_data(
    info: MeterInfo, series: Series, window: PeriodWindow, repeats_ts: I64 | None = None
) -> MeterData:
    ts_q, qty = interval_quantities(series, info.measurement)
    in_period = (series.ts_s > window.start_s) & (series.ts_s <= window.end_s)
    step_s = median_step_s(series.ts_s)
    uncountable = ~np.isfinite(qty)
    unopened = np.zeros(0, dtype=np.int64)
    if info.measurement == "counter" and step_s:
        # a register difference across a gap pools the missing intervals into the reading
        # after it: that day's quantity holds part of another day's, so it is not a full day
        uncountable |= np.diff(series.ts_s) > step_s
        unopened = _unopened(series.ts_s, window)
    return MeterData(
        info=info,
        series=series,
        ts_q=ts_q,
        qty=qty,
        total=total_between(ts_q, qty, window.start_s, window.end_s),
        daily=daily_totals(ts_q, qty, window.start_s, window.month.days),
        daily_n=daily_counts(series.ts_s[in_period], window.start_s, window.month.days),
        step_s=step_s,
        uncounted=daily_counts(
            np.concatenate((ts_q[uncountable], unopened)), window.start_s, window.month.days
        ),
        repeats_ts=np.zeros(0, dtype=np.int64) if repeats_ts is None else repeats_ts,
        unopened_s=int(unopened[0]) - window.start_s if unopened.size else 0,
    )


def _unopened(ts_s: I64, window: PeriodWindow) -> I64:
    """The first reading in the period of a counter that has no register at or before the
    period's start (its first interval has no opening register), else nothing."""
    in_period = ts_s[(ts_s > window.start_s) & (ts_s <= window.end_s)]
    if in_period.size == 0 or (ts_s <= window.start_s).any():
        return ts_s[:0]
    return in_period[:1]


def group_sources(
    enterprise_ids: list[int],
    stats: list[StatisticalReport],
    grid: list[GridElectricity],
    invoices: list[TaxInvoice],
    waybills: list[LogisticsWaybill],
    prices: list[MarketPrice],
    permits: list[EmissionPermit] | None = None,
) -> dict[int, Sources]:
    """Distribute source rows loaded for many enterprises to each one."""
    out: dict[int, Sources] = defaultdict(Sources)
    price_map = {p.item: p for p in prices}
    for enterprise_id in enterprise_ids:
        out[enterprise_id].prices = price_map
    for s in stats:
        out[s.enterprise_id].stats[s.item] = s
    for g in grid:
        out[g.enterprise_id].grid = g
    for i in invoices:
        out[i.enterprise_id].invoices.append(i)
    for w in waybills:
        out[w.enterprise_id].waybills.append(w)
    for p in permits or []:
        out[p.enterprise_id].permits.append(p)
    return out


def build_context(
    info: EnterpriseInfo,
    window: PeriodWindow,
    series: dict[int, Series],
    sources: Sources,
    settings: VerifySettings,
    repeats: Mapping[int, I64] | None = None,
    earlier: list[EarlierMonth] | None = None,
) -> EnterpriseContext:
    """The context of one enterprise; ``repeats``: repeated-delivery timestamps per meter;
    ``earlier``: the months before ``window``, most recent first."""
    repeats = repeats or {}
    meters = {
        m.id: meter_data(m, series.get(m.id, empty_series()), window, repeats.get(m.id))
        for m in info.meters
    }
    return EnterpriseContext(info, window, meters, sources, settings, earlier or [])
