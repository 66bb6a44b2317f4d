"""The metering census of the synthetic province (issue 18) and its planted metering gaps.

* every energy meter answers a metering point of its own; the equipment meters that
  :mod:`.metering` left out (``missing_equipment_meter_fraction``) are points without a meter;
* ``wrong_accuracy_fraction`` of the entry meters get a class twice as coarse as GB 17167
  requires (the meter itself stays as accurate as drawn: the declared class is wrong);
* calibration certificates for every meter (the current one, and for some the one before);
* operation events: ``silent_meter_fraction`` of the meters stop reporting for good from some
  time on, ``meter_replacement_fraction`` of the counters are replaced (the register restarts
  near zero).

Everything here draws from its own random stream, so a run without these gaps writes the same
registry and readings as before. ``metering_labels.csv`` is the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import numpy as np

from kilnwatch.reference.metering import accuracy_requirement
from kilnwatch.sim.config import SimParams
from kilnwatch.sim.model import Meter, Province

STREAM_CENSUS = 3
ENERGY_ROLES = ("entry", "consumption", "water", "equipment")
PLANNED_AFTER_DAYS = 180  # rectification date of a missing instrument (synthetic)
PREVIOUS_CERTIFICATE_FRACTION = 0.3  # meters with last year's certificate too (synthetic)
EVENT_SPAN = (0.2, 0.8)  # events start within this share of the run (synthetic)
NEW_REGISTER = (0.0, 5.0)  # register of a replacing meter at its first reading (synthetic)
LABEL_COLUMNS = ("kind", "enterprise_uscc", "meter_code", "point_code", "start", "end", "detail")


@dataclass
class MeterEvent:
    """A planted operation event: ``silent`` from interval ``k0`` on, or ``replaced`` at it."""

    kind: str
    meter_idx: int
    k0: int
    new_register: float = 0.0


def _rng(params: SimParams) -> np.random.Generator:
    return np.random.default_rng([params.seed, STREAM_CENSUS])


def plan_census(params: SimParams, province: Province) -> list[MeterEvent]:
    """Coarsen some entry classes (in place) and plan the silent and replaced meters."""
    rng = _rng(params)
    for m in province.meters:
        if m.level != "entry" or m.role not in ENERGY_ROLES:
            continue
        need = accuracy_requirement(m.carrier, "entry")
        if need is not None and rng.random() < params.wrong_accuracy_fraction:
            index = float(need.required_class.rstrip("Ss"))
            m.accuracy_class = f"{2 * index:.1f}"
    total = params.days * params.intervals_per_day
    events = []
    for m in province.meters:
        lo, hi = (int(total * f) for f in EVENT_SPAN)
        if m.role == "stack" or hi <= lo:
            continue
        if rng.random() < params.silent_meter_fraction:
            events.append(MeterEvent("silent", m.idx, int(rng.integers(lo, hi))))
        elif m.measurement == "counter" and rng.random() < params.meter_replacement_fraction:
            events.append(MeterEvent("replaced", m.idx, int(rng.integers(lo, hi)),
                                     float(rng.uniform(*NEW_REGISTER))))  # fmt: skip
    return events


class MeterEvents:
    """Applies the planned events to each day's reported values (after the faults)."""

    def __init__(self, events: list[MeterEvent], province: Province) -> None:
        self.events = events
        self.p = province
        self.offset: dict[int, float] = {}

    def apply(self, kcols: np.ndarray, values: np.ndarray, present: np.ndarray) -> None:
        for e in self.events:
            after = kcols >= e.k0
            if not after.any():
                continue
            if e.kind == "silent":
                present[e.meter_idx, after] = False
                continue
            if e.meter_idx not in self.offset:
                first = int(np.argmax(after))
                self.offset[e.meter_idx] = float(values[e.meter_idx, first]) - e.new_register
            scale = 10.0 ** self.p.meters[e.meter_idx].decimals
            shifted = values[e.meter_idx, after] - self.offset[e.meter_idx]
            values[e.meter_idx, after] = np.round(np.maximum(shifted, 0.0) * scale) / scale


def _equipment_gaps(province: Province) -> list[tuple[Meter, int]]:
    """Electricity sub-unit meters without equipment meters, with how many are missing."""
    parents = {m.parent_idx for m in province.meters if m.level == "equipment"}
    return [
        (m, 2)
        for m in province.meters
        if m.level == "sub_unit" and m.role == "consumption" and m.carrier == "electricity"
        and m.idx not in parents
    ]  # fmt: skip


def point_rows(params: SimParams, province: Province) -> list[dict[str, str]]:
    """``metering_points.csv``: one point per energy meter, and the missing equipment ones."""
    uscc = {e.idx: e.uscc for e in province.enterprises}
    unit = {u.idx: u.unit_code for u in province.units}
    rows = []
    for m in province.meters:
        if m.role in ENERGY_ROLES:
            rows.append(_point(uscc[m.ent_idx], m.code, m.level, m.carrier,
                               unit.get(m.unit_idx, ""), m.code, ""))  # fmt: skip
    planned = (params.start + timedelta(days=PLANNED_AFTER_DAYS)).isoformat()
    for sub, count in _equipment_gaps(province):
        for n in range(1, count + 1):
            rows.append(_point(uscc[sub.ent_idx], f"{sub.code}-EQ{n}", "equipment", sub.carrier,
                               unit[sub.unit_idx], "", planned))  # fmt: skip
    return rows


def _point(uscc: str, code: str, level: str, carrier: str, unit: str, meter: str, planned: str
           ) -> dict[str, str]:  # fmt: skip
    return {"enterprise_uscc": uscc, "point_code": code, "name": f"{unit or '全厂'} {carrier}",
            "level": level, "carrier": carrier, "unit_code": unit, "meter_code": meter,
            "accuracy_variant": "", "planned_on": planned}  # fmt: skip


def calibration_rows(params: SimParams, province: Province) -> list[dict[str, str]]:
    """``meter_calibrations.csv``: each meter's current certificate, some also the one before."""
    rng = np.random.default_rng([params.seed, STREAM_CENSUS, 1])
    rows = []
    for m in province.meters:
        city = province.enterprises[m.ent_idx].region_code[:4]
        on, due = m.calibrated_on, m.calibration_due_on
        history = [(on, due)]
        if rng.random() < PREVIOUS_CERTIFICATE_FRACTION:
            history.insert(0, (on - (due - on), on))
        for cal_on, cal_due in history:
            cert = f"{m.code}-{cal_on:%Y%m%d}"
            rows.append({"meter_code": m.code, "certificate_no": cert,
                         "calibrated_on": cal_on.isoformat(), "due_on": cal_due.isoformat(),
                         "issuer": f"{city}00 市计量测试所", "result": "pass",
                         "certificate_file": f"certs/{cert}.pdf"})  # fmt: skip
    return rows


def label_rows(params: SimParams, province: Province, events: list[MeterEvent]
               ) -> list[dict[str, str]]:  # fmt: skip
    """``metering_labels.csv``: every planted gap and event (calibration state on the first
    simulated day)."""
    uscc = {e.idx: e.uscc for e in province.enterprises}
    tz = timezone(timedelta(hours=params.utc_offset_h))
    t0 = datetime(params.start.year, params.start.month, params.start.day, tzinfo=tz)
    step = timedelta(minutes=params.interval_min)
    end = (t0 + params.days * timedelta(days=1)).isoformat()
    rows = []

    def add(kind: str, m: Meter, point: str = "", start: str = "", stop: str = "",
            detail: str = "") -> None:  # fmt: skip
        meter = "" if point else m.code
        values = (kind, uscc[m.ent_idx], meter, point, start, stop, detail)
        rows.append(dict(zip(LABEL_COLUMNS, values, strict=True)))

    for sub, count in _equipment_gaps(province):
        for n in range(1, count + 1):
            add("missing_instrument", sub, f"{sub.code}-EQ{n}")
    for m in province.meters:
        need = accuracy_requirement(m.carrier, "entry") if m.level == "entry" else None
        if (
            need is not None
            and m.role in ENERGY_ROLES
            and _coarser(m.accuracy_class, need.required_class)
        ):
            add("wrong_accuracy_class", m, detail=f"{m.accuracy_class} < {need.required_class}")
        if m.calibration_due_on < params.start:
            add("overdue_calibration", m, detail=f"due {m.calibration_due_on} < {params.start}")
    for e in events:
        m = province.meters[e.meter_idx]
        silent = e.kind == "silent"
        at = (t0 + e.k0 * step).isoformat()
        add("silent_meter" if silent else "meter_replaced", m, start=at, stop=end if silent else "")
    return rows


def _coarser(installed: str, required: str) -> bool:
    return float(installed.rstrip("Ss")) > float(required.rstrip("Ss"))


def census_day(params: SimParams) -> date:
    """The day the labels' calibration state refers to."""
    return params.start
