"""Planned faults (false reporting, tampering, data problems) and their ground-truth labels.

Faults are planned once per run; :class:`ReadingFaults` applies the reading-level ones to each
day's matrices, and :mod:`.sources` applies the source-level ones. Magnitudes are drawn from a
mixture: a share of subtle faults (3-5 %) and the rest 5-25 %, never rounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np

from kilnwatch.sim.assumptions import load_fault_durations
from kilnwatch.sim.config import SimParams
from kilnwatch.sim.model import Meter, Province

READING_KINDS = (
    "meter_scaled",
    "meter_capped",
    "stuck_sensor",
    "data_gap",
    "duplicate_packets",
    "backdated_packets",
    "submeter_mismatch",
    "flag_abuse",
)
SOURCE_KINDS = (
    "stats_underreport_energy",
    "production_overreport",
    "unmetered_coal",
    "revenue_mismatch",
)
ALL_KINDS = READING_KINDS + SOURCE_KINDS
SUBTLE = (0.03, 0.05)
ORDINARY = (0.05, 0.25)
#: Duration range [h] of each reading-level fault (``reference/sim/fault_durations.csv``).
DURATION_H = load_fault_durations()
DUPLICATE_SHARE = (0.05, 0.3)
FLAG_ABUSE_SHARE = (0.3, 0.8)
FLAG_ABUSE_ELEVATION = (1.5, 3.0)
ENERGY_CARRIERS = ("electricity", "raw_coal", "natural_gas", "coke")
RUNNING_PERIOD_TRIES = 30


@dataclass
class Fault:
    fault_id: str
    kind: str
    ent_idx: int
    meter_idx: int
    unit_idx: int
    k0: int  # affected readings: k0 < k <= k1 (interval indices from the run start)
    k1: int
    magnitude: float
    detail: str
    item: str = ""  # statistical / tax item for source-level faults
    state: dict[str, float] = field(default_factory=dict)


def _magnitude(rng: np.random.Generator, params: SimParams) -> float:
    lo, hi = SUBTLE if rng.random() < params.subtle_fault_fraction else ORDINARY
    return float(rng.uniform(lo, hi))


class FaultPlanner:
    """Draws faults, kind by kind, on eligible enterprises and meters."""

    def __init__(self, params: SimParams, province: Province, rng: np.random.Generator) -> None:
        self.params = params
        self.p = province
        self.rng = rng
        self.total = params.days * params.intervals_per_day
        self.per_hour = max(1, 60 // params.interval_min)
        self.used_meters: set[int] = set()
        self.faults: list[Fault] = []

    def _period(self, kind: str) -> tuple[int, int]:
        lo, hi = DURATION_H[kind]
        hours = float(np.exp(self.rng.uniform(np.log(lo), np.log(hi))))
        length = min(self.total, max(1, int(hours * self.per_hour)))
        k0 = int(self.rng.integers(0, self.total - length + 1))
        k0 -= k0 % self.per_hour
        return k0, min(self.total, k0 + length)

    def _running_period(self, kind: str, unit_idx: int) -> tuple[int, int]:
        """A period in which the unit does not stop (so that the fault shows), if one is found."""
        k0, k1 = self._period(kind)
        if unit_idx < 0:
            return k0, k1
        outages = self.p.units[unit_idx].outages
        for _ in range(RUNNING_PERIOD_TRIES):
            if all(k1 <= a or k0 >= b for a, b in outages):
                break
            k0, k1 = self._period(kind)
        return k0, k1

    def _month_period(self) -> tuple[int, int, str]:
        day = int(self.rng.integers(0, self.params.days))
        first = (self.params.start + timedelta(days=day)).replace(day=1)
        nxt = (first + timedelta(days=32)).replace(day=1)
        per_day = self.params.intervals_per_day
        k0 = max(0, (first - self.params.start).days * per_day)
        k1 = min(self.total, (nxt - self.params.start).days * per_day)
        return k0, k1, first.strftime("%Y-%m")

    def _meters(self, pred: object) -> list[Meter]:
        return [m for m in self.p.meters if m.idx not in self.used_meters and pred(m)]  # type: ignore[operator]

    def _add(
        self,
        kind: str,
        ent: int,
        meter: int,
        unit: int,
        k0: int,
        k1: int,
        mag: float,
        detail: str,
        item: str = "",
    ) -> None:
        if meter >= 0:
            self.used_meters.add(meter)
        fid = f"F{len(self.faults) + 1:04d}"
        self.faults.append(Fault(fid, kind, ent, meter, unit, k0, k1, mag, detail, item))

    def _mag(self) -> float:
        return round(_magnitude(self.rng, self.params), 4)

    def plan_one(self, kind: str) -> bool:
        """Plan one fault of ``kind``; False when nothing in the province is eligible."""
        return bool(getattr(self, f"_plan_{kind}")())

    def _pick_meter(self, kind: str, pred: object, detail: str, mag: float | None = None) -> bool:
        choices = self._meters(pred)
        if not choices:
            return False
        m = choices[int(self.rng.integers(len(choices)))]
        k0, k1 = self._running_period(kind, m.unit_idx)
        mag = self._mag() if mag is None else round(mag, 4)
        self._add(kind, m.ent_idx, m.idx, m.unit_idx, k0, k1, mag, detail.format(m=m, mag=mag))
        return True

    def _plan_meter_scaled(self) -> bool:
        return self._pick_meter(
            "meter_scaled",
            lambda m: m.role in ("entry", "consumption") and m.carrier in ENERGY_CARRIERS,
            "{m.code} reads {mag:.4f} low (readings x (1 - magnitude))",
        )

    def _plan_meter_capped(self) -> bool:
        return self._pick_meter(
            "meter_capped",
            lambda m: m.role == "consumption" and m.carrier in ENERGY_CARRIERS,
            "{m.code} limited to (1 - magnitude) x its usual at-load reading",
        )

    def _plan_stuck_sensor(self) -> bool:
        return self._pick_meter(
            "stuck_sensor",
            lambda m: m.measurement != "counter",
            "{m.code} repeats one value",
            mag=1.0,
        )

    def _plan_data_gap(self) -> bool:
        return self._pick_meter("data_gap", lambda _m: True, "{m.code} sends nothing", mag=1.0)

    def _plan_duplicate_packets(self) -> bool:
        share = float(self.rng.uniform(*DUPLICATE_SHARE))
        return self._pick_meter(
            "duplicate_packets",
            lambda _m: True,
            "{m.code}: a share of readings delivered twice, same ts and value",
            mag=share,
        )

    def _plan_backdated_packets(self) -> bool:
        return self._pick_meter(
            "backdated_packets",
            lambda m: m.measurement == "interval",
            "{m.code}: readings re-sent later with the same ts and value x (1 - magnitude)",
        )

    def _plan_submeter_mismatch(self) -> bool:
        return self._pick_meter(
            "submeter_mismatch",
            lambda m: m.role == "entry" and m.carrier == "electricity",
            "undeclared load behind {m.code}: entry exceeds its sub-meters by magnitude",
        )

    def _plan_flag_abuse(self) -> bool:
        share = float(self.rng.uniform(*FLAG_ABUSE_SHARE))
        return self._pick_meter(
            "flag_abuse",
            lambda m: m.carrier == "so2",
            "{m.code} and its stack: share of at-load intervals flagged M/D/C while SO2/NOx are "
            "elevated",
            mag=share,
        )

    def _source_fault(
        self, kind: str, pred: object, item_of: object, detail: str, whole_month: bool = True
    ) -> bool:
        ents = [e for e in self.p.enterprises if pred(e)]  # type: ignore[operator]
        if not ents:
            return False
        ent = ents[int(self.rng.integers(len(ents)))]
        item = str(item_of(ent))  # type: ignore[operator]
        if whole_month:
            k0, k1, month = self._month_period()
        else:
            (k0, k1), month = self._period(kind), ""
        mag = self._mag()
        self._add(
            kind, ent.idx, -1, -1, k0, k1, mag, detail.format(item=item, month=month, mag=mag), item
        )
        return True

    def _carriers(self, ent_idx: int) -> list[str]:
        return sorted(
            {
                m.carrier
                for m in self.p.meters
                if m.ent_idx == ent_idx and m.role == "entry" and m.carrier != "water"
            }
        )

    def _products(self, ent_idx: int, sold_only: bool = False) -> list[str]:
        from kilnwatch.sim.processes import PROCESS_SPECS

        specs = [
            PROCESS_SPECS[self.p.units[i].process] for i in self.p.enterprises[ent_idx].unit_idx
        ]
        return sorted({s.product for s in specs if s.sold or not sold_only})

    def _choice(self, items: list[str]) -> str:
        return items[int(self.rng.integers(len(items)))]

    def _plan_stats_underreport_energy(self) -> bool:
        return self._source_fault(
            "stats_underreport_energy",
            lambda e: bool(self._carriers(e.idx)),
            lambda e: "energy:" + self._choice(self._carriers(e.idx)),
            "{item} reported {mag:.4f} below metered for {month}",
        )

    def _plan_production_overreport(self) -> bool:
        return self._source_fault(
            "production_overreport",
            lambda _e: True,
            lambda e: "production:" + self._choice(self._products(e.idx)),
            "{item} reported {mag:.4f} above metered for {month}",
        )

    def _plan_revenue_mismatch(self) -> bool:
        return self._source_fault(
            "revenue_mismatch",
            lambda e: bool(self._products(e.idx, sold_only=True)),
            lambda e: "product:" + self._choice(self._products(e.idx, sold_only=True)),
            "sales of {item} declared {mag:.4f} below shipped output for {month}",
        )

    def _plan_unmetered_coal(self) -> bool:
        return self._source_fault(
            "unmetered_coal",
            lambda e: "raw_coal" in self._carriers(e.idx),
            lambda _e: "raw_coal",
            "coal burnt without metering or invoices, visible only in logistics: magnitude is "
            "the unmetered share of coal delivered",
            whole_month=False,
        )


def plan_faults(params: SimParams, province: Province, rng: np.random.Generator) -> list[Fault]:
    """Plan every fault of the run: each kind at least once where eligible, then more at random."""
    planner = FaultPlanner(params, province, rng)
    target = max(
        len(ALL_KINDS), round(params.faulty_enterprise_fraction * params.enterprises * 1.5)
    )
    if params.faulty_enterprise_fraction == 0:
        return []
    for kind in ALL_KINDS:
        planner.plan_one(kind)
    attempts = 0
    while len(planner.faults) < target and attempts < target * 4:
        planner.plan_one(ALL_KINDS[int(rng.integers(len(ALL_KINDS)))])
        attempts += 1
    return planner.faults


#: Magnitude range of ``revenue_underpriced`` (issue 12: 5-8 % stayed inside the market band).
UNDERPRICED = (0.05, 0.08)


def plan_variant_faults(
    params: SimParams, province: Province, rng: np.random.Generator, planned: list[Fault]
) -> list[Fault]:
    """The faults of the modelling variants (``smoothed_meter_fraction``,
    ``underpriced_sales_fraction``), drawn from their own random stream after ``planned`` so
    that the other faults of a seed stay the same; their ids follow ``planned``'s."""
    planner = FaultPlanner(params, province, rng)
    planner.faults = list(planned)
    planner.used_meters = {f.meter_idx for f in planned if f.meter_idx >= 0}
    for _ in range(round(params.smoothed_meter_fraction * params.enterprises)):
        planner._pick_meter(
            "meter_smoothed",
            lambda m: (
                m.role == "entry" and m.carrier in ENERGY_CARRIERS and m.measurement != "instant"
            ),
            "{m.code} reports the mean of its last 24 h (a daily moving average)",
            mag=1.0,
        )
    selling = [e for e in province.enterprises if planner._products(e.idx, sold_only=True)]
    count = min(round(params.underpriced_sales_fraction * params.enterprises), len(selling))
    for pos in rng.choice(len(selling), size=count, replace=False) if count else []:
        ent = selling[int(pos)]
        item = "product:" + planner._choice(planner._products(ent.idx, sold_only=True))
        k0, k1, month = planner._month_period()
        mag = round(float(rng.uniform(*UNDERPRICED)), 4)
        detail = f"sales of {item} invoiced {mag:.4f} below the enterprise's usual price in {month}"
        planner._add("revenue_underpriced", ent.idx, -1, -1, k0, k1, mag, detail, item)
    return planner.faults[len(planned) :]


def label_rows(faults: list[Fault], province: Province, params: SimParams) -> list[dict[str, str]]:
    """``labels.csv`` rows of the planned faults."""
    tz = timezone(timedelta(hours=params.utc_offset_h))
    t0 = datetime(params.start.year, params.start.month, params.start.day, tzinfo=tz)
    step = timedelta(minutes=params.interval_min)
    rows = []
    for f in faults:
        ent = province.enterprises[f.ent_idx]
        meter = province.meters[f.meter_idx].code if f.meter_idx >= 0 else ""
        unit = province.units[f.unit_idx].unit_code if f.unit_idx >= 0 else ""
        rows.append(
            {
                "fault_id": f.fault_id,
                "kind": f.kind,
                "enterprise_uscc": ent.uscc,
                "meter_code": meter,
                "unit_code": unit,
                "start": (t0 + f.k0 * step).isoformat(),
                "end": (t0 + f.k1 * step).isoformat(),
                "magnitude_fraction": f"{f.magnitude:.4f}",
                "detail": f.detail,
            }
        )
    return rows
