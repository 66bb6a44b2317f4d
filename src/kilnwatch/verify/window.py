"""The months a cumulating check compares: the verified month and the complete months before it.

Purchases, deliveries and shipments come in lots while consumption and production are
continuous, so the checks that compare them (``verify.fuel.invoice_vs_metered``,
``verify.coal_balance.unmetered``, ``verify.revenue.sales_vs_shipped``) cumulate their
``window_months`` parameter of months ending with the verified month, so that stock and timing
differences largely cancel. An earlier month counts only while every compared meter has a
complete month in the monthly rollups and the enterprise has the source rows the check needs
in it; the window stops at the first month that does not qualify (it is never cut into
pieces).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kilnwatch.domain.periods import Period
from kilnwatch.store.models import LogisticsWaybill, StatisticalReport, TaxInvoice
from kilnwatch.verify.context import (
    EarlierMonth,
    EnterpriseContext,
    MeterData,
    PeriodWindow,
)

#: Statistical-report items of a fuel's stock (能源购进、消费与库存, 205-1表).
STOCK_OPENING, STOCK_CLOSING = "stock_opening", "stock_closing"


@dataclass(frozen=True)
class WindowMonth:
    """One month of a check's window: its source rows and the compared meters' quantities."""

    period: str
    start_at: datetime
    invoices: Sequence[TaxInvoice]
    waybills: Sequence[LogisticsWaybill]
    totals: Mapping[int, float]  # by meter id [meter unit]
    stats: Mapping[str, StatisticalReport]  # by item


@dataclass(frozen=True)
class Window:
    """The months of one comparison, oldest first, the verified month last."""

    months: tuple[WindowMonth, ...]

    @property
    def periods(self) -> list[str]:
        return [m.period for m in self.months]

    @property
    def start_at(self) -> datetime:
        return self.months[0].start_at

    @property
    def invoices(self) -> list[TaxInvoice]:
        return [i for m in self.months for i in m.invoices]

    @property
    def waybills(self) -> list[LogisticsWaybill]:
        return [w for m in self.months for w in m.waybills]

    def total(self, meter: MeterData) -> float:
        """The meter's quantity over the window [meter unit]."""
        return sum(m.totals[meter.info.id] for m in self.months)

    def stock(self, carrier: str) -> tuple[StatisticalReport, StatisticalReport] | None:
        """The reported stocks of ``carrier`` at the window's ends (205-1表 期初/期末库存):
        the opening stock of its first month and the closing stock of its last, or None when
        either is not reported."""
        opening = self.months[0].stats.get(f"{STOCK_OPENING}:{carrier}")
        closing = self.months[-1].stats.get(f"{STOCK_CLOSING}:{carrier}")
        return (opening, closing) if opening is not None and closing is not None else None

    def describe(self) -> str:
        """`` over 2025-01..2025-03`` for a window of several months, else nothing."""
        if len(self.months) == 1:
            return ""
        return f" over {self.months[0].period}..{self.months[-1].period}"


def months_before(window: PeriodWindow, count: int) -> list[PeriodWindow]:
    """The ``count`` months before ``window``, most recent first."""
    out: list[PeriodWindow] = []
    current = window.month
    for _ in range(count):
        current = Period.containing("month", current.first - timedelta(days=1), current.zone)
        out.append(PeriodWindow(current))
    return out


def _complete(meter: MeterData, month: EarlierMonth) -> bool:
    total = month.totals.get(meter.info.id)
    if total is None:
        return False
    seconds = month.window.end_s - month.window.start_s
    expected = seconds // meter.step_s if meter.step_s > 0 else month.window.month.days
    return total.readings >= expected


def window_of(
    ctx: EnterpriseContext,
    months: int,
    meters: Sequence[MeterData],
    *,
    invoices: bool = False,
    waybills: bool = False,
) -> Window:
    """The window of at most ``months`` months ending with the verified month; an earlier
    month needs complete data of every meter in ``meters`` and, as asked, invoices and/or
    waybills of the enterprise in that month."""
    current = WindowMonth(
        ctx.window.period,
        ctx.window.start_at,
        ctx.sources.invoices,
        ctx.sources.waybills,
        {m.info.id: m.total for m in meters},
        ctx.sources.stats,
    )
    out = [current]
    for month in ctx.earlier[: max(months - 1, 0)]:
        if (invoices and not month.invoices) or (waybills and not month.waybills):
            break
        if not all(_complete(m, month) for m in meters):
            break
        totals = {m.info.id: month.totals[m.info.id].quantity for m in meters}
        out.append(
            WindowMonth(
                month.window.period,
                month.window.start_at,
                month.invoices,
                month.waybills,
                totals,
                month.stats,
            )
        )
    return Window(tuple(reversed(out)))
