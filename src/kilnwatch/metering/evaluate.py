"""Scoring the census and the operation rules against a simulated province's ground truth
(``metering_labels.csv``, and ``labels.csv`` for the data gaps and stuck sensors that are
operation events too). Used by ``benchmarks/metering.py`` and the tests.

Each kind is scored by the set of objects it names (point code, meter code): ``found`` =
labelled and reported, ``missed`` = labelled and not reported, ``extra`` = reported and not
labelled. "Each is found and nothing else is" means no ``missed`` and no ``extra``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kilnwatch.metering import gaps as g
from kilnwatch.metering.census import EnterpriseCensus
from kilnwatch.metering.drift import DRIFT
from kilnwatch.metering.operation import REPLACED, SILENT, STUCK, EnterpriseOperation

CENSUS_KINDS = {
    "missing_instrument": (g.MISSING_INSTRUMENT,),
    "wrong_accuracy_class": (g.ACCURACY_BELOW, g.ACCURACY_UNKNOWN),
    "overdue_calibration": (g.CALIBRATION_OVERDUE,),
}
OPERATION_KINDS = {"silent_meter": SILENT, "meter_replaced": REPLACED, "stuck": STUCK,
                   "drift": DRIFT}  # fmt: skip
"""The simulator plants no drift: every drift reported on it is an extra."""
STUCK_FAULTS = ("stuck_sensor", "meter_capped", "emission_exceedance")
"""Simulated faults that may leave a meter's value flat (labels.csv): a stuck sensor always
does; a capped meter only where its value sits at the cap (an interval meter at full load,
never a counter), and the simulator's emission exceedance writes one constant value over its
hours, so these two may be reported as stuck but need not be."""
MAY_BE_FLAT = frozenset({"meter_capped", "emission_exceedance"})


@dataclass
class KindScore:
    """Objects labelled and reported for one kind."""

    labelled: set[str] = field(default_factory=set)
    reported: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, object]:
        return {
            "labelled": len(self.labelled),
            "found": len(self.labelled & self.reported),
            "missed": sorted(self.labelled - self.reported),
            "extra": sorted(self.reported - self.labelled),
        }


def _hours(label: Mapping[str, str]) -> float:
    start, end = label.get("start", ""), label.get("end", "")
    if not start or not end:
        return 0.0
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)) / timedelta(hours=1)


def score(
    censuses: Sequence[EnterpriseCensus],
    operations: Iterable[EnterpriseOperation],
    metering_labels: Sequence[Mapping[str, str]],
    fault_labels: Sequence[Mapping[str, str]],
    *,
    silent_h: float,
    stuck_h: float,
) -> dict[str, dict[str, object]]:
    """Per kind: how many labelled, found, and the missed and extra objects.

    A silent meter or a simulated data gap of at least ``silent_h`` hours is a silent spell
    (shorter ones may be reported or not), and a stuck or
    capped meter of at least ``stuck_h + 1`` hours a stuck one (so that ``stuck_h`` whole
    hours lie inside it); shorter ones may be reported or not.
    """
    scores = {k: KindScore() for k in (*CENSUS_KINDS, *OPERATION_KINDS, "rate_below_minimum")}
    tolerated: dict[str, set[str]] = {"silent_meter": set(), "stuck": set()}
    for lab in metering_labels:
        short = lab["kind"] == "silent_meter" and _hours(lab) < silent_h
        target = tolerated["silent_meter"] if short else scores[lab["kind"]].labelled
        target.add(lab["point_code"] or lab["meter_code"])
    for lab in fault_labels:
        kind = "silent_meter" if lab["kind"] == "data_gap" else (
            "stuck" if lab["kind"] in STUCK_FAULTS else None)  # fmt: skip
        if kind is None:
            continue
        long_enough = silent_h if kind == "silent_meter" else stuck_h + 1
        sure = _hours(lab) >= long_enough and lab["kind"] not in MAY_BE_FLAT
        target = scores[kind].labelled if sure else tolerated[kind]
        target.add(lab["meter_code"])
    with_missing = {lab["enterprise_uscc"] for lab in metering_labels
                    if lab["kind"] == "missing_instrument"}  # fmt: skip
    for c in censuses:
        for x in c.gaps:
            for kind, codes in CENSUS_KINDS.items():
                if x.code in codes:
                    name = x.point_code if kind == "missing_instrument" else x.meter_code
                    scores[kind].reported.add(name or "")
            if x.code == g.RATE_BELOW_MINIMUM:
                scores["rate_below_minimum"].reported.add(c.uscc)
    scores["rate_below_minimum"].labelled = scores["rate_below_minimum"].reported & with_missing
    for op in operations:
        for e in op.events:
            kind = next(k for k, code in OPERATION_KINDS.items() if code == e.code)
            if e.meter_code not in tolerated.get(kind, set()):
                scores[kind].reported.add(e.meter_code)
    return {k: s.as_dict() for k, s in scores.items()}


def other_gaps(censuses: Sequence[EnterpriseCensus]) -> dict[str, int]:
    """Gaps of codes no simulated fault plants (each should be 0, ``due_soon`` aside)."""
    expected = {c for codes in CENSUS_KINDS.values() for c in codes}
    expected |= {g.RATE_BELOW_MINIMUM, g.CALIBRATION_DUE_SOON}
    out: dict[str, int] = {}
    for c in censuses:
        for x in c.gaps:
            if x.code not in expected:
                out[x.code] = out.get(x.code, 0) + 1
    return out
