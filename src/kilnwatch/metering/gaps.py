"""Metering gaps as data: a stable dotted code, where it is and the evidence.

Codes (docs/metering.md):

* ``metering.census.missing``: the enterprise has declared no metering points;
* ``metering.configuration.missing_instrument``: a required point has no instrument;
* ``metering.configuration.rate_below_minimum``: a level's configuration rate for a carrier is
  below GB 17167-2006 Table 3;
* ``metering.accuracy.below_requirement`` / ``metering.accuracy.unknown``: an entry
  instrument's class is coarser than GB 17167-2006 Table 4 requires, or not stated;
* ``metering.calibration.overdue`` / ``.due_soon`` / ``.missing`` / ``.failed``: the meter's
  verification is past due, due within the alert window, never recorded, or its latest
  certificate says 停用 (fail).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CENSUS_MISSING = "metering.census.missing"
MISSING_INSTRUMENT = "metering.configuration.missing_instrument"
RATE_BELOW_MINIMUM = "metering.configuration.rate_below_minimum"
ACCURACY_BELOW = "metering.accuracy.below_requirement"
ACCURACY_UNKNOWN = "metering.accuracy.unknown"
CALIBRATION_OVERDUE = "metering.calibration.overdue"
CALIBRATION_DUE_SOON = "metering.calibration.due_soon"
CALIBRATION_MISSING = "metering.calibration.missing"
CALIBRATION_FAILED = "metering.calibration.failed"

CONFIGURATION_CODES = (CENSUS_MISSING, MISSING_INSTRUMENT, RATE_BELOW_MINIMUM)
ACCURACY_CODES = (ACCURACY_BELOW, ACCURACY_UNKNOWN)
CALIBRATION_CODES = (
    CALIBRATION_OVERDUE,
    CALIBRATION_DUE_SOON,
    CALIBRATION_MISSING,
    CALIBRATION_FAILED,
)
WARNING_CODES = frozenset({CALIBRATION_DUE_SOON})
"""Gaps that are an alert ahead of time, not yet a non-conformity."""


@dataclass(frozen=True)
class Gap:
    """One gap of an enterprise's metering: ``code``, where (point or meter) and why."""

    code: str
    enterprise_id: int
    carrier: str = ""
    level: str = ""
    point_code: str | None = None
    meter_code: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def is_warning(self) -> bool:
        """An alert before a deadline, not a non-conformity."""
        return self.code in WARNING_CODES
