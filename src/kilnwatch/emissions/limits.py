"""The limit that judges a stack's pollutant, and the hours and days above it.

A stack is judged against the industry standard of its process
(``reference/emissions/process_limits.csv``) and against its discharge permit (the permitted
concentration); when both apply, the lower one binds. Only valid hours are judged (HJ 75-2017:
invalid and stopped hours carry no valid hourly mean), at the limit's reference O2. A day is
judged on the mean of its valid hours' values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from kilnwatch.domain.emissions import HOUR_S
from kilnwatch.emissions.hours import PollutantHours
from kilnwatch.reference.emissions import load_process_limits

HOURS_PER_DAY = 24


@dataclass(frozen=True)
class PermitTerms:
    """The permit terms of one stack (or of the whole enterprise, ``unit_id`` None) and
    pollutant."""

    permit_no: str
    unit_id: int | None
    pollutant: str
    concentration_mg_m3: float | None
    o2_ref_pct: float | None
    annual_t: float | None
    valid_from: date
    valid_to: date


def permit_terms(row: Any) -> PermitTerms:
    """The terms of a stored permit row (``EmissionPermit``)."""
    return PermitTerms(
        row.permit_no, row.unit_id, row.pollutant, row.concentration_mg_m3, row.o2_ref_pct,
        row.annual_t, row.valid_from, row.valid_to,
    )  # fmt: skip


@dataclass(frozen=True)
class AppliedLimit:
    """A concentration limit [mg/m3] at ``o2_ref_pct`` (None: as measured), and its origin:
    ``basis`` ``standard`` (``ref`` = limit_id) or ``permit`` (``ref`` = permit number)."""

    pollutant: str
    limit_mg_m3: float
    o2_ref_pct: float | None
    basis: str
    ref: str
    standard: str
    confidence: str

    def as_json(self) -> dict[str, Any]:
        return {
            "limit_mg_m3": self.limit_mg_m3,
            "o2_ref_pct": self.o2_ref_pct,
            "basis": self.basis,
            "ref": self.ref,
            "standard": self.standard,
            "confidence": self.confidence,
        }


def applicable_limit(
    process: str, pollutant: str, permits: list[PermitTerms]
) -> AppliedLimit | None:
    """The binding (lowest) of the standard's limit and the permitted concentrations."""
    out: list[AppliedLimit] = []
    std = load_process_limits().get((process, pollutant))
    if std is not None:
        out.append(
            AppliedLimit(
                pollutant,
                std.limit_mg_m3,
                std.o2_ref_pct,
                "standard",
                std.limit_id,
                std.standard,
                std.confidence,
            )  # fmt: skip
        )
    for p in permits:
        if p.pollutant == pollutant and p.concentration_mg_m3 is not None:
            o2 = p.o2_ref_pct if p.o2_ref_pct is not None else (std.o2_ref_pct if std else None)
            out.append(
                AppliedLimit(
                    pollutant,
                    p.concentration_mg_m3,
                    o2,
                    "permit",
                    p.permit_no,
                    "排污许可证",
                    "good",
                )  # fmt: skip
            )
    return min(out, key=lambda a: a.limit_mg_m3) if out else None


@dataclass(frozen=True)
class Episode:
    """Consecutive exceedance hours (gaps of at most ``episode_gap_h``): first hour start and
    last hour end [epoch s], and each hour's figures."""

    pollutant: str
    start_s: int
    end_s: int
    hours: list[dict[str, Any]]
    peak_mg_m3: float

    @property
    def n_hours(self) -> int:
        return len(self.hours)


def exceedance_mask(h: PollutantHours, limit: AppliedLimit) -> np.ndarray:
    """Valid hours whose value at the limit's reference O2 is above the limit."""
    with np.errstate(invalid="ignore"):
        return np.asarray(np.nan_to_num(h.corrected_mg_m3, nan=-1.0) > limit.limit_mg_m3)


def episodes(h: PollutantHours, limit: AppliedLimit, gap_h: int) -> list[Episode]:
    """Exceedance hours grouped into episodes."""
    idx = np.flatnonzero(exceedance_mask(h, limit))
    if idx.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(idx) > gap_h + 1) + 1
    out = []
    for part in np.split(idx, cuts):
        rows = [
            {
                "hour_start_s": int(h.start_s + i * HOUR_S),
                "concentration_mg_m3": round(float(h.concentration_mg_m3[i]), 3),
                "o2_pct": None if np.isnan(h.o2_pct[i]) else round(float(h.o2_pct[i]), 2),
                "corrected_mg_m3": round(float(h.corrected_mg_m3[i]), 3),
            }
            for i in part
        ]
        out.append(
            Episode(
                limit.pollutant,
                int(h.start_s + part[0] * HOUR_S),
                int(h.start_s + (part[-1] + 1) * HOUR_S),
                rows,
                round(float(np.max(h.corrected_mg_m3[part])), 3),
            )
        )
    return out


def exceedance_day_means(h: PollutantHours, limit: AppliedLimit) -> list[tuple[int, float, int]]:
    """``(day start [s], daily mean [mg/m3], valid hours)`` of every local day (the period
    starts at local midnight) whose mean of valid hourly values (at the limit's reference O2)
    is above the limit."""
    n_days = h.n_hours // HOURS_PER_DAY
    if n_days == 0:
        return []
    values = h.corrected_mg_m3[: n_days * HOURS_PER_DAY].reshape(n_days, HOURS_PER_DAY)
    counts = np.isfinite(values).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.nansum(values, axis=1) / np.maximum(counts, 1)
    days = np.flatnonzero((counts > 0) & (means > limit.limit_mg_m3))
    return [
        (int(h.start_s + d * HOURS_PER_DAY * HOUR_S), round(float(means[d]), 3), int(counts[d]))
        for d in days
    ]


def exceedance_days(h: PollutantHours, limit: AppliedLimit) -> int:
    """How many local days' mean of valid hourly values is above the limit."""
    return len(exceedance_day_means(h, limit))
