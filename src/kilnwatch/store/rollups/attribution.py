"""Grains, the period a reading belongs to, and the quantity a counter step contributes.

See :mod:`kilnwatch.store.rollups` for the rules (counter / interval / instant, ``(start,
end]`` attribution).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

HOUR, DAY, MONTH = "hour", "day", "month"
GRAINS = (HOUR, DAY, MONTH)
COARSER = ((HOUR, DAY), (DAY, MONTH))
"""(finer, grain): days are built from hours, months from days."""
PERIOD_END_MEASUREMENTS = frozenset({"counter", "interval"})
"""Measurements whose reading closes the interval ending at ``ts`` (periods ``(start, end]``)."""
ONE_HOUR = timedelta(hours=1)
ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class CounterPolicy:
    """How a decreasing register is read (platform tunables, not regulatory figures).

    A decrease is a roll-over when ``previous >= rollover_high_fraction * top`` and
    ``new <= rollover_low_fraction * top``, ``top`` being the next power of ten above
    ``previous`` (the register's capacity); otherwise it is a reset.
    """

    rollover_high_fraction: float = 0.9
    rollover_low_fraction: float = 0.1


def register_top(value: float) -> float:
    """The next power of ten above ``value`` (the capacity of a decimal register)."""
    if value <= 0:
        return 1.0
    return float(10 ** (math.floor(math.log10(value)) + 1))


def counter_delta(previous: float, value: float, policy: CounterPolicy) -> tuple[float, str | None]:
    """Consumption between two register values and the kind of decrease, if any."""
    if value >= previous:
        return value - previous, None
    top = register_top(previous)
    if previous >= policy.rollover_high_fraction * top and value <= (
        policy.rollover_low_fraction * top
    ):
        return top - previous + value, "rollover"
    return 0.0, "reset"


def period_start(ts: datetime, grain: str, tz: tzinfo) -> datetime:
    """UTC start of the hour, local day or local month containing ``ts``."""
    if grain == HOUR:
        return ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    local = ts.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    if grain == MONTH:
        local = local.replace(day=1)
    return local.astimezone(UTC)


def closes_interval(measurement: str) -> bool:
    """Whether a reading of this measurement ends an interval (counter, interval meters)."""
    return measurement in PERIOD_END_MEASUREMENTS


def attribution_offset(measurement: str) -> timedelta:
    """What to subtract from ``ts`` before finding its period: 1 µs for counter/interval."""
    return ONE_MICROSECOND if closes_interval(measurement) else timedelta(0)


def reading_period(ts: datetime, grain: str, tz: tzinfo, measurement: str) -> datetime:
    """UTC start of the period a reading at ``ts`` belongs to.

    Counter and interval readings close the interval ending at ``ts``: they belong to the
    period containing ``ts - 1 µs`` (periods ``(start, end]``); instant readings to the one
    containing ``ts``.
    """
    return period_start(ts - attribution_offset(measurement), grain, tz)


def touched_hours(
    first_ts: datetime, last_ts: datetime, measurement: str
) -> tuple[datetime, datetime]:
    """UTC [start, end) of the hours that readings from ``first_ts`` to ``last_ts`` belong to."""
    return (
        reading_period(first_ts, HOUR, UTC, measurement),
        reading_period(last_ts, HOUR, UTC, measurement) + ONE_HOUR,
    )


def next_period(start: datetime, grain: str, tz: tzinfo) -> datetime:
    """UTC start of the period after the one starting at ``start``."""
    if grain == HOUR:
        return start + ONE_HOUR
    local = start.astimezone(tz)
    if grain == DAY:
        return period_start(local + timedelta(days=1, hours=12), DAY, tz)
    return period_start(local.replace(day=28) + timedelta(days=7), MONTH, tz)


def covering_periods(
    start: datetime, end: datetime, grain: str, tz: tzinfo
) -> tuple[datetime, datetime]:
    """UTC [start, end) of the ``grain`` periods overlapping [``start``, ``end``)."""
    last = period_start(end - ONE_MICROSECOND, grain, tz)
    return period_start(start, grain, tz), next_period(last, grain, tz)
