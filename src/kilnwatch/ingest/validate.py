"""The one validation path for readings from every source (file, HTTP, MQTT, HJ 212).

Each check refuses a value with a stable dotted reason code (see docs/ingestion.md):

=============================  ===========================================================
``ingest.malformed``           a field is missing or cannot be parsed
``ingest.unknown_meter``       no meter with that code is registered
``ingest.not_authorised``      the gateway may not write that meter
``ingest.bad_timestamp``       the timestamp is missing, unparseable or naive
``ingest.future_timestamp``    later than now plus the tolerance
``ingest.stale_timestamp``     from a gateway or device, older than its maximum age
``ingest.before_commissioning`` earlier than the production unit's commissioning date
``ingest.bad_value``           the value is not a finite number
``ingest.unit_mismatch``       the unit cannot be converted to the meter's unit
``ingest.out_of_range``        outside the range of ``reference/ingest_limits.csv``
``ingest.rate_exceeded``       changes faster than the table's rate-of-change limit
=============================  ===========================================================

Duplicates, corrections, late data and counter decreases are not rejections: they are
handled by the store (:mod:`kilnwatch.store.staging`, :mod:`kilnwatch.store.rollups`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from kilnwatch.config import Settings
from kilnwatch.domain.units import convert
from kilnwatch.errors import UnitError
from kilnwatch.reference.ingest_limits import IngestLimits, load_ingest_limits

MAX_FLAG_LEN = 2


@dataclass(frozen=True, slots=True)
class RawReading:
    """A reading as received; ``payload`` is the row verbatim (kept for dead letters)."""

    meter_code: str | None
    ts: datetime | str | None
    value: float | str | None
    unit: str | None = None
    flag: str | None = None
    row_no: int | None = None
    payload: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IngestMeter:
    """A registered meter as the ingest path checks readings against it: its owner and
    gateway (authorisation), carrier, measurement and unit (conversion and plausibility
    limits) and its production unit's commissioning day."""

    id: int
    code: str
    enterprise_id: int
    gateway_id: int | None
    carrier: str
    measurement: str
    unit_of_measure: str
    commissioned_on: date | None = None


@dataclass(frozen=True, slots=True)
class GatewayInfo:
    """The authenticated sender (None for operator file imports, which may write any meter)."""

    id: int
    code: str
    enterprise_id: int
    protocol: str


@dataclass(frozen=True, slots=True)
class ValidReading:
    """A reading that passed: UTC timestamp and the value in the meter's unit."""

    meter: IngestMeter
    ts: datetime
    value: float
    flag: str | None
    row_no: int | None
    payload: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refused reading: stable ``code``, a message, the row as received."""

    code: str
    message: str
    row_no: int | None
    payload: Mapping[str, object]
    meter: IngestMeter | None = None
    field: str | None = None


@dataclass(frozen=True)
class ValidationPolicy:
    """Tunables of the validation path (platform defaults; not regulatory figures).

    Parameters
    ----------
    local_tz : str
        Zone of commissioning dates and of daily/monthly rollup periods (``Settings.timezone``;
        no default: the caller always passes it).
    future_tolerance_s : float
        How far a timestamp may lie ahead of the receiving clock (clock skew of loggers) [s].
    device_max_age_s : float or None
        How old a reading delivered by a gateway or device may be (a logger whose clock was
        reset); None: no limit. Operator file imports (no gateway) are never limited [s].
    limits : IngestLimits
        Range and rate-of-change limits per carrier.
    """

    local_tz: str
    future_tolerance_s: float = 300.0
    device_max_age_s: float | None = None
    limits: IngestLimits = field(default_factory=load_ingest_limits)

    @classmethod
    def of(cls, settings: Settings) -> ValidationPolicy:
        """The policy of the device paths (HTTP, MQTT, HJ 212) from the settings."""
        return cls(local_tz=settings.timezone,
                   future_tolerance_s=settings.ingest_future_tolerance_s,
                   device_max_age_s=settings.ingest_device_max_age_s)  # fmt: skip

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.local_tz)


class _Refused(Exception):
    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def parse_timestamp(ts: datetime | str | None) -> datetime:
    """An aware UTC datetime from ISO 8601 text or a datetime; naive input is refused."""
    if ts is None or ts == "":
        raise _Refused("ingest.bad_timestamp", "timestamp missing", "ts")
    if isinstance(ts, str):
        try:
            ts = datetime.fromisoformat(ts.strip())
        except ValueError:
            raise _Refused("ingest.bad_timestamp", f"not an ISO 8601 time: {ts!r}", "ts") from None
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise _Refused("ingest.bad_timestamp", "naive timestamp; give a UTC offset", "ts")
    return ts.astimezone(UTC)


def parse_value(value: float | str | None) -> float:
    """A finite float from a number or decimal text."""
    if value is None or value == "" or isinstance(value, bool):
        raise _Refused("ingest.bad_value", "value missing", "value")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _Refused("ingest.bad_value", f"not a number: {value!r}", "value") from None
    if not math.isfinite(number):
        raise _Refused("ingest.bad_value", f"not a finite number: {value!r}", "value")
    return number


def to_meter_unit(value: float, unit: str | None, meter: IngestMeter) -> float:
    """``value`` [unit] in the meter's unit; an empty unit means the meter's unit."""
    if not unit or unit == meter.unit_of_measure:
        return value
    try:
        return convert(value, unit, meter.unit_of_measure)
    except UnitError as exc:
        message = f"{unit!r} cannot be converted to {meter.unit_of_measure!r}: {exc.message}"
        raise _Refused("ingest.unit_mismatch", message, "unit") from None


def check_authorised(meter: IngestMeter, gateway: GatewayInfo | None) -> None:
    """The gateway reports for the meter, or belongs to the meter's enterprise."""
    if gateway is None or meter.gateway_id == gateway.id:
        return
    if meter.enterprise_id == gateway.enterprise_id:
        return
    message = f"gateway {gateway.code} may not write meter {meter.code}"
    raise _Refused("ingest.not_authorised", message, "meter_code")


def check_time(
    ts: datetime,
    meter: IngestMeter,
    now: datetime,
    policy: ValidationPolicy,
    from_device: bool = False,
) -> None:
    """Not in the future beyond the tolerance; from a device, not older than its maximum age;
    not before the unit's commissioning day."""
    if ts > now + timedelta(seconds=policy.future_tolerance_s):
        message = f"{ts.isoformat()} is in the future (now {now.isoformat()})"
        raise _Refused("ingest.future_timestamp", message, "ts")
    age = policy.device_max_age_s
    if from_device and age is not None and ts < now - timedelta(seconds=age):
        message = f"{ts.isoformat()} is older than {age:g} s (now {now.isoformat()})"
        raise _Refused("ingest.stale_timestamp", message, "ts")
    if meter.commissioned_on is not None:
        start = datetime.combine(meter.commissioned_on, time(), tzinfo=policy.tz)
        if ts < start:
            message = f"{ts.isoformat()} is before commissioning on {meter.commissioned_on}"
            raise _Refused("ingest.before_commissioning", message, "ts")


def check_range(value: float, meter: IngestMeter, policy: ValidationPolicy) -> None:
    """Within the carrier's plausibility range (in the meter's unit)."""
    limit = policy.limits.for_meter(meter.carrier, meter.measurement, meter.unit_of_measure)
    if limit is None:
        return
    low, high = limit.min_value, limit.max_value
    if (low is not None and value < low) or (high is not None and value > high):
        message = (
            f"{value} {meter.unit_of_measure} outside [{low}, {high}] for {meter.carrier} "
            f"({limit.source})"
        )
        raise _Refused("ingest.out_of_range", message, "value")


def validate_reading(
    raw: RawReading,
    meters: Mapping[str, IngestMeter],
    gateway: GatewayInfo | None,
    now: datetime,
    policy: ValidationPolicy,
) -> ValidReading | Rejection:
    """Run every per-row check on ``raw``; the first failure becomes a :class:`Rejection`."""
    meter = meters.get(raw.meter_code or "")
    try:
        if meter is None:
            raise _Refused(
                "ingest.unknown_meter", f"unknown meter {raw.meter_code!r}", "meter_code"
            )
        check_authorised(meter, gateway)
        ts = parse_timestamp(raw.ts)
        check_time(ts, meter, now, policy, from_device=gateway is not None)
        value = to_meter_unit(parse_value(raw.value), raw.unit, meter)
        check_range(value, meter, policy)
        flag = (raw.flag or "").strip() or None
        if flag is not None and len(flag) > MAX_FLAG_LEN:
            raise _Refused("ingest.malformed", f"flag {flag!r} longer than 2 characters", "flag")
    except _Refused as refused:
        code, message = refused.code, refused.message
        return Rejection(code, message, raw.row_no, raw.payload, meter, refused.field)
    return ValidReading(meter, ts, value, flag, raw.row_no, raw.payload)


def rate_per_h(prev_ts: datetime, prev_value: float, ts: datetime, value: float) -> float | None:
    """Absolute change of the value per hour between two readings, None for equal times."""
    hours = (ts - prev_ts).total_seconds() / 3600.0
    if hours <= 0:
        return None
    return abs(value - prev_value) / hours


def check_rates(
    readings: Iterable[ValidReading],
    previous: Mapping[int, tuple[datetime, float]],
    policy: ValidationPolicy,
) -> tuple[list[ValidReading], list[Rejection]]:
    """Rate-of-change check per meter in time order, against the last stored reading.

    Only readings later than the meter's last stored one (and than the previous accepted one)
    are checked; late data is never compared across a gap it did not see. For ``counter``
    meters a decrease is not a rate violation (it is a roll-over or reset, see rollups).
    """
    ok: list[ValidReading] = []
    bad: list[Rejection] = []
    last = dict(previous)
    for r in sorted(readings, key=lambda r: (r.meter.id, r.ts)):
        m = r.meter
        limit = policy.limits.for_meter(m.carrier, m.measurement, m.unit_of_measure)
        prior = last.get(m.id)
        max_rate = limit.max_rate_per_h if limit is not None else None
        if max_rate is not None and prior is not None and r.ts > prior[0]:
            rate = rate_per_h(prior[0], prior[1], r.ts, r.value)
            decreasing_counter = m.measurement == "counter" and r.value < prior[1]
            if rate is not None and rate > max_rate and not decreasing_counter:
                message = f"changes by {rate:.6g} {m.unit_of_measure}/h, limit {max_rate:g}"
                bad.append(
                    Rejection("ingest.rate_exceeded", message, r.row_no, r.payload, m, "value")
                )
                continue
        ok.append(r)
        if prior is None or r.ts > prior[0]:
            last[m.id] = (r.ts, r.value)
    return ok, bad
