"""Building the frames of a forwarding target from stored readings (pure).

Readings of one device with the same DataTime go into one CN 2011 real-time upload
(``code-Rtd=value,code-Flag=flag`` per factor code), split into several frames when the data
area would exceed 950 characters or when a factor code occurs twice. A QN is the time the
frame is queued (``YYYYMMDDhhmmsszzz``, China Standard Time), strictly increasing per target,
so that every data reply names exactly one frame.

References
----------
.. [1] HJ 212-2017, section 6 (data segment, QN, Flag), 6.3.3 (CP data area), Table 3
       (CP at most 950 characters), Table 4 (DataTime, xxxxxx-Rtd, xxxxxx-Flag).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kilnwatch.domain.units import convert
from kilnwatch.errors import KilnwatchError
from kilnwatch.ingest.hj212.encode import encode_cp, encode_frame
from kilnwatch.ingest.hj212.framing import MAX_CP_CHARS
from kilnwatch.ingest.hj212.model import (
    FLAG_ACK,
    FLAG_VERSION_SHIFT,
    VERSION_BITS_BY_EDITION,
    Edition,
)
from kilnwatch.ingest.hj212.timefmt import CHINA_STANDARD_TIME, format_data_time
from kilnwatch.reference.hj212 import load_hj212_codes

REALTIME_CN = "2011"  # HJ 212-2017 command table: real-time data upload
VALUE_KIND = "Rtd"
NORMAL_FLAG = "N"  # HJ 212-2017 Table 8: instrument working normally
_CP_WRAPPER = len("CP=&&") + len("&&")
_QN_FORMAT = "%Y%m%d%H%M%S"
_ONE_MS = timedelta(milliseconds=1)

ReadingKey = tuple[int, datetime, int]  # meter_id, ts, version


@dataclass(frozen=True, slots=True)
class ForwardReading:
    """A reading selected for a target, with where it goes upstream."""

    meter_id: int
    ts: datetime
    version: int
    value: float
    flag: str | None
    device_id: int
    factor_code: str
    meter_unit: str


@dataclass
class FrameDraft:
    """One frame to queue: its device, DataTime, data area and the readings it carries."""

    device_id: int
    data_time: datetime
    groups: list[dict[str, str | float]] = field(default_factory=list)
    codes: set[str] = field(default_factory=set)
    keys: list[ReadingKey] = field(default_factory=list)

    @property
    def cp(self) -> str:
        return encode_cp([{"DataTime": format_data_time(_cst(self.data_time))}, *self.groups])


def _cst(moment: datetime) -> datetime:
    return moment.astimezone(CHINA_STANDARD_TIME)


def upstream_value(reading: ForwardReading) -> float:
    """The value in the unit HJ 212 gives the factor code, when both units are known.

    A factor code outside the packaged table, or a unit the platform cannot convert, is sent
    in the meter's own unit.
    """
    row = load_hj212_codes().lookup(reading.factor_code)
    if row is None or row.unit == reading.meter_unit:
        return reading.value
    try:
        return convert(reading.value, reading.meter_unit, row.unit)
    except KilnwatchError:
        return reading.value


def latest_versions(
    readings: Iterable[ForwardReading],
) -> tuple[list[ForwardReading], list[ReadingKey]]:
    """The latest version of each (meter, ts) and the keys of the older ones (sent with it)."""
    best: dict[tuple[int, datetime], ForwardReading] = {}
    older: list[ReadingKey] = []
    for r in readings:
        key = (r.meter_id, r.ts)
        kept = best.get(key)
        if kept is None or r.version > kept.version:
            if kept is not None:
                older.append((kept.meter_id, kept.ts, kept.version))
            best[key] = r
        else:
            older.append((r.meter_id, r.ts, r.version))
    return list(best.values()), older


def _group(reading: ForwardReading) -> dict[str, str | float]:
    code = reading.factor_code
    value = upstream_value(reading)
    return {f"{code}-{VALUE_KIND}": value, f"{code}-Flag": reading.flag or NORMAL_FLAG}


def _fits(draft: FrameDraft, group: dict[str, str | float]) -> bool:
    trial = encode_cp([{"DataTime": "0" * 14}, *draft.groups, group])
    return len(trial) + _CP_WRAPPER <= MAX_CP_CHARS


def build_drafts(readings: Sequence[ForwardReading]) -> list[FrameDraft]:
    """Frames for readings of possibly many devices: one per (device, DataTime) and chunk.

    Older versions of a (meter, ts) in ``readings`` ride along as keys of the frame that
    carries the latest one. Non-finite values cannot be written in HJ 212 and are skipped
    (their keys are marked as carried so that they are not selected again).
    """
    latest, older = latest_versions(readings)
    by_slot: dict[tuple[int, str], list[ForwardReading]] = defaultdict(list)
    for r in latest:
        by_slot[(r.device_id, format_data_time(_cst(r.ts)))].append(r)
    carried_by: dict[tuple[int, datetime], FrameDraft] = {}
    drafts: list[FrameDraft] = []
    for (device_id, _stamp), items in sorted(by_slot.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        current = FrameDraft(device_id, items[0].ts)
        drafts.append(current)
        for r in sorted(items, key=lambda r: (r.factor_code, r.meter_id)):
            group = _group(r) if math.isfinite(r.value) else None
            if group is not None and (r.factor_code in current.codes or not _fits(current, group)):
                current = FrameDraft(device_id, r.ts)
                drafts.append(current)
            if group is not None:
                current.groups.append(group)
                current.codes.add(r.factor_code)
            current.keys.append((r.meter_id, r.ts, r.version))
            carried_by[(r.meter_id, r.ts)] = current
    for meter_id, ts, version in older:
        carried_by[(meter_id, ts)].keys.append((meter_id, ts, version))
    return [d for d in drafts if d.keys]


def next_qn(last_qn: str | None, now: datetime) -> str:
    """A QN after ``last_qn`` and not before ``now`` (millisecond steps, CST)."""
    moment = _cst(now).replace(microsecond=now.microsecond // 1000 * 1000)
    if last_qn is not None:
        last = datetime.strptime(last_qn[:14], _QN_FORMAT).replace(
            microsecond=int(last_qn[14:17] or 0) * 1000, tzinfo=CHINA_STANDARD_TIME
        )
        moment = max(moment, last + _ONE_MS)
    return moment.strftime(_QN_FORMAT) + f"{moment.microsecond // 1000:03d}"


def upload_flag(edition: Edition) -> int:
    """Flag of an upload that asks for an answer: the edition's version bits and bit A."""
    return (VERSION_BITS_BY_EDITION[edition] << FLAG_VERSION_SHIFT) | FLAG_ACK


@dataclass(frozen=True, slots=True)
class Upstream:
    """What a frame needs from its target and device to be encoded."""

    mn: str
    password: str
    st: str
    edition: Edition


def encode_upload(upstream: Upstream, qn: str, cp: str) -> bytes:
    """The bytes of a queued frame, written by the project's encoder (standard form)."""
    fields: Mapping[str, str] = {
        "QN": qn,
        "ST": upstream.st,
        "CN": REALTIME_CN,
        "PW": upstream.password,
        "MN": upstream.mn,
        "Flag": str(upload_flag(upstream.edition)),
    }
    return encode_frame(fields, cp)
