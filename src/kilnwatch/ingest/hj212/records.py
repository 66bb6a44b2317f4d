"""From a decoded data packet to plain reading records.

Every value item (``xxxxxx-Rtd/-Avg/-Min/-Max/-Cou`` and the converted ``-Zs*`` forms)
becomes one :class:`DecodedReading`. Codes without a meter in the device's map are kept with
``meter_code=None`` and reported as problems, never dropped silently.

References
----------
.. [1] HJ 212-2017, Table 4 (data-area keys), Table 8 (data flags), section 6 (CN 2011,
       2051, 2061, 2031: DataTime is the sampling instant for real-time data and the start of
       the period for minute, hourly and daily data).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from kilnwatch.ingest.hj212.devices import Device
from kilnwatch.ingest.hj212.model import Packet
from kilnwatch.ingest.hj212.timefmt import parse_data_time
from kilnwatch.reference.hj212 import load_hj212_codes

#: Value suffix -> (kind, converted). HJ 212-2017 Table 4.
VALUE_SUFFIXES: dict[str, tuple[str, bool]] = {
    "Rtd": ("rtd", False),
    "Avg": ("avg", False),
    "Min": ("min", False),
    "Max": ("max", False),
    "Cou": ("cou", False),
    "ZsRtd": ("rtd", True),
    "ZsAvg": ("avg", True),
    "ZsMin": ("min", True),
    "ZsMax": ("max", True),
}
CONVERTED_KEY = "Zs"
#: Period covered by one value, by CN (HJ 212-2017 Table 4, DataTime); minute data depends on the
#: device's MinInterval and comes from the device settings.
PERIOD_BY_CN: dict[str, timedelta] = {
    "2011": timedelta(0),
    "2061": timedelta(hours=1),
    "2031": timedelta(days=1),
}
MINUTE_DATA_CN = "2051"


@dataclass(frozen=True, slots=True)
class DecodedReading:
    """One value from an HJ 212 data packet.

    ``ts`` is DataTime (or the factor's SampleTime) as an aware datetime: the instant for
    real-time data, the start of the period for minute/hour/day data. ``ts_end`` is the end
    of that period when known (equal to ``ts`` for real-time data).
    """

    meter_code: str | None
    code: str
    kind: str
    converted: bool
    value: float
    unit: str | None
    flag: str | None
    ts: datetime
    ts_end: datetime | None
    mn: str
    cn: str


@dataclass(frozen=True, slots=True)
class ReadingProblem:
    """Something in a packet that did not become a usable reading (stable dotted code)."""

    code: str
    message: str
    evidence: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReadingsReport:
    """Readings of a packet plus the problems found while extracting them."""

    readings: list[DecodedReading]
    problems: list[ReadingProblem]


@lru_cache(maxsize=4096)
def meter_keys(code: str, suffix: str) -> tuple[str, ...]:
    """Device-map keys to try for a value item, most specific first.

    ``code-Suffix``, then ``code-Zs`` (converted values) or ``code`` (measured values); the
    same again with the 2017 code when ``code`` is an old 2005 code.
    """
    converted = suffix.startswith(CONVERTED_KEY)
    codes = [code]
    row = load_hj212_codes().lookup(code)
    if row is not None and row.code != code:
        codes.append(row.code)
    keys: list[str] = []
    for candidate in codes:
        general = f"{candidate}-{CONVERTED_KEY}" if converted else candidate
        keys += [f"{candidate}-{suffix}", general]
    return tuple(keys)


def meter_for(device: Device, code: str, suffix: str) -> str | None:
    """Meter of a value item, trying ``code-Suffix``, then ``code-Zs`` / ``code``.

    The same lookups are repeated with the 2017 code when ``code`` is an old 2005 code.
    """
    meters = device.meters
    for key in meter_keys(code, suffix):
        meter = meters.get(key)
        if meter is not None:
            return meter
    return None


@lru_cache(maxsize=4096)
def _unit(code: str, kind: str) -> str | None:
    row = load_hj212_codes().lookup(code)
    if row is None:
        return None
    return row.cou_unit if kind == "cou" else row.unit


def _period(device: Device, cn: str) -> timedelta | None:
    if cn == MINUTE_DATA_CN and device.minute_interval_min is not None:
        return timedelta(minutes=device.minute_interval_min)
    return PERIOD_BY_CN.get(cn)


def _stamps(
    items: list[tuple[str, str]], device: Device
) -> tuple[dict[str, datetime], list[ReadingProblem]]:
    """DataTime under key '' and each factor's SampleTime under its code."""
    stamps: dict[str, datetime] = {}
    problems: list[ReadingProblem] = []
    tz = device.tz
    for key, value in items:
        code = "" if key == "DataTime" else key[: -len("-SampleTime")]
        try:
            stamps[code] = parse_data_time(value, tz)
        except ValueError as exc:
            problems.append(ReadingProblem("hj212.readings.bad_time", str(exc), {key: value}))
    return stamps, problems


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def packet_readings(device: Device, packet: Packet) -> ReadingsReport:
    """All readings of a packet and the problems met (unmapped codes, bad values, no time)."""
    # one pass over the data area sorts its items: times, flags, values
    times: list[tuple[str, str]] = []
    flags: dict[str, str] = {}
    values: list[tuple[str, str, str, str]] = []
    for key, text in packet.cp_items():
        code, dash, suffix = key.rpartition("-")
        if key == "DataTime" or (dash and suffix == "SampleTime"):
            times.append((key, text))
        elif dash and suffix == "Flag":
            flags[code] = text
        elif code and suffix in VALUE_SUFFIXES:
            values.append((key, text, code, suffix))
    stamps, problems = _stamps(times, device)
    period = _period(device, packet.cn)
    readings: list[DecodedReading] = []
    for key, text, code, suffix in values:
        kind, converted = VALUE_SUFFIXES[suffix]
        ts = stamps.get(code) or stamps.get("")
        if ts is None:
            problems.append(ReadingProblem("hj212.readings.no_time", "no DataTime", {key: text}))
            continue
        value = _number(text)
        if value is None:
            problems.append(ReadingProblem("hj212.readings.bad_value", "not a number", {key: text}))
            continue
        meter = meter_for(device, code, suffix)
        if meter is None:
            message = f"no meter mapped for {key} on device {device.mn}"
            problems.append(ReadingProblem("hj212.readings.unmapped_code", message, {key: text}))
        readings.append(
            DecodedReading(
                meter_code=meter,
                code=code,
                kind=kind,
                converted=converted,
                value=value,
                unit=_unit(code, kind),
                flag=flags.get(code),
                ts=ts,
                ts_end=ts + period if period is not None else None,
                mn=packet.mn,
                cn=packet.cn,
            )
        )
    return ReadingsReport(readings=readings, problems=problems)


def packet_to_readings(device: Device, packet: Packet) -> list[DecodedReading]:
    """Readings of a packet; unmapped codes are kept with ``meter_code=None``.

    Use :func:`packet_readings` to get the problems (unmapped codes, non-numeric values,
    missing DataTime) as well.
    """
    return packet_readings(device, packet).readings
