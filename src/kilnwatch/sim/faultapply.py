"""Applies the reading-level faults of :mod:`.faults` to one day's matrices.

Order within a day: physical faults change what really flows (an undeclared load, elevated
emissions), tampering changes what a meter measures (scaled, capped), transmission faults change
what reaches the platform (stuck, gaps, duplicates, back-dated re-sends, abused flags).
"""

from __future__ import annotations

import numpy as np

from kilnwatch.sim.config import SimParams
from kilnwatch.sim.emissions import EXCEEDANCE, apply_exceedance
from kilnwatch.sim.faults import FLAG_ABUSE_ELEVATION, Fault
from kilnwatch.sim.model import Province
from kilnwatch.sim.readings import FLAG, RUNNING_LOAD, DayData

ABUSE_FLAGS = np.array([FLAG["M"], FLAG["D"], FLAG["C"]], dtype=np.int8)
DUPLICATE_DELAY = (1, 8)  # intervals between a reading and its repeated delivery
FAULT_STREAM = 99  # rng stream id of fault randomness


class ReadingFaults:
    """Stateful applier of reading-level faults for consecutive days."""

    def __init__(self, params: SimParams, province: Province, faults: list[Fault]) -> None:
        self.params = params
        self.p = province
        self.faults = [f for f in faults if f.meter_idx >= 0]
        self.T = params.intervals_per_day
        self.per_hour = max(1, 60 // params.interval_min)
        self.pending: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
        self.abuse: dict[int, np.ndarray] = {}
        self.smoothed_tail: dict[int, np.ndarray] = {}  # last day of measured quantities

    def _active(self, kind: str, kcols: np.ndarray) -> list[tuple[int, Fault, np.ndarray]]:
        out = []
        for i, f in enumerate(self.faults):
            if f.kind == kind and f.k0 < kcols[-1] and f.k1 >= kcols[0]:
                mask = (kcols > f.k0) & (kcols <= f.k1)
                if mask.any():
                    out.append((i, f, mask))
        return out

    def _rng(self, i: int, d: int) -> np.random.Generator:
        return np.random.default_rng([self.params.seed, FAULT_STREAM, i, d])

    def physical(self, d: int, kcols: np.ndarray, true: np.ndarray, load: np.ndarray) -> None:
        """Undeclared loads behind entry meters, exceedance episodes and emissions hidden under
        abused flags."""
        for _, f, mask in self._active("submeter_mismatch", kcols):
            loss = self.p.enterprises[f.ent_idx].loss_fraction["electricity"]
            true[f.meter_idx, mask] *= 1.0 + f.magnitude * (1.0 - loss)
        for _, f, mask in self._active(EXCEEDANCE, kcols):
            apply_exceedance(f, self.p, true, mask & (load[f.unit_idx] > RUNNING_LOAD))
        self.abuse = {}
        for i, f, mask in self._active("flag_abuse", kcols):
            rng = self._rng(i, d)
            at_load = mask & (load[f.unit_idx] > RUNNING_LOAD)
            hours = np.arange(self.T) // self.per_hour
            chosen_hours = rng.random(hours[-1] + 1) < f.magnitude
            abused = at_load & chosen_hours[hours]
            self.abuse[i] = abused
            elevation = rng.uniform(*FLAG_ABUSE_ELEVATION, size=hours[-1] + 1)[hours]
            for row in (f.meter_idx, f.meter_idx + 1):  # so2, nox
                true[row, abused] *= elevation[abused]

    def tamper(self, kcols: np.ndarray, measured: np.ndarray) -> None:
        """Scaled, capped and smoothed meters."""
        self._smooth(kcols, measured)
        for _, f, mask in self._active("meter_scaled", kcols):
            measured[f.meter_idx, mask] *= 1.0 - f.magnitude
        for _, f, mask in self._active("meter_capped", kcols):
            row = measured[f.meter_idx]
            if "cap" not in f.state:
                positive = row[mask][row[mask] > 0]
                if positive.size == 0:
                    continue
                f.state["cap"] = float(np.median(positive)) * (1.0 - f.magnitude)
            row[mask] = np.minimum(row[mask], f.state["cap"])

    def _smooth(self, kcols: np.ndarray, measured: np.ndarray) -> None:
        """A smoothed meter reports, in its fault's span, the mean of its last day of measured
        quantities (a trailing daily moving average: the noise and the daily cycle go, the
        totals stay); the day before the span is remembered so the average starts full."""
        for i, f in enumerate(self.faults):
            if f.kind != "meter_smoothed" or kcols[0] > f.k1 or kcols[-1] + self.T <= f.k0:
                continue
            row = measured[f.meter_idx]
            tail = self.smoothed_tail.get(i, row[:0])
            joined = np.concatenate((tail, row))
            sums = np.concatenate(([0.0], np.cumsum(joined)))
            end = np.arange(tail.size + 1, joined.size + 1)
            first = np.maximum(end - self.T, 0)
            mean = (sums[end] - sums[first]) / (end - first)
            self.smoothed_tail[i] = joined[-self.T :].copy()
            inside = (kcols > f.k0) & (kcols <= f.k1)
            row[inside] = mean[inside]

    def transmit(self, day: DayData) -> None:
        """Stuck values, gaps, abused flags, duplicates and back-dated re-sends."""
        kcols = day.kcols
        for _, f, mask in self._active("stuck_sensor", kcols):
            if "value" not in f.state:
                f.state["value"] = float(day.values[f.meter_idx, np.argmax(mask)])
            day.values[f.meter_idx, mask] = f.state["value"]
        for _, f, mask in self._active("data_gap", kcols):
            day.present[f.meter_idx, mask] = False
        for i, abused in self.abuse.items():
            f = self.faults[i]
            hours = np.arange(self.T) // self.per_hour
            pick = self._rng(i, day.d + 1_000_000).integers(0, 3, size=hours[-1] + 1)[hours]
            for row in (f.meter_idx, f.meter_idx + 1, f.meter_idx + 2):
                day.flags[row, abused] = ABUSE_FLAGS[pick[abused]]
        for i, f, mask in self._active("duplicate_packets", kcols):
            self._duplicates(day, i, f, mask)
        for _, f, mask in self._active("backdated_packets", kcols):
            cols = np.flatnonzero(mask & day.present[f.meter_idx])
            self.pending.append(
                (
                    f.k1,
                    np.full(cols.size, f.meter_idx),
                    kcols[cols],
                    self._lowered(day.values[f.meter_idx, cols], f),
                )
            )
        self._release_backdated(day)

    def _lowered(self, values: np.ndarray, f: Fault) -> np.ndarray:
        scale = 10.0 ** self.p.meters[f.meter_idx].decimals
        return np.round(values * (1.0 - f.magnitude) * scale) / scale

    def _duplicates(self, day: DayData, i: int, f: Fault, mask: np.ndarray) -> None:
        rng = self._rng(i, day.d)
        cols = np.flatnonzero(mask & day.present[f.meter_idx])
        cols = cols[rng.random(cols.size) < f.magnitude]
        if cols.size == 0:
            return
        delay = rng.integers(DUPLICATE_DELAY[0], DUPLICATE_DELAY[1] + 1, size=cols.size)
        k = day.kcols[cols]
        day.extra.append(
            (
                np.full(cols.size, f.meter_idx),
                k,
                day.values[f.meter_idx, cols],
                day.flags[f.meter_idx, cols],
                (k + delay).astype(np.float64),
            )
        )

    def _release_backdated(self, day: DayData) -> None:
        last_day = day.d == self.params.days - 1
        keep = []
        for k1, meters, ks, values in self.pending:
            due = k1 <= day.kcols[0] - 1
            if due or last_day:
                when = day.kcols[0] - 0.5 if due else day.kcols[-1] + 0.5
                flags = np.zeros(ks.size, dtype=np.int8)
                day.extra.append((meters, ks, values, flags, np.full(ks.size, float(when))))
            else:
                keep.append((k1, meters, ks, values))
        self.pending = keep
