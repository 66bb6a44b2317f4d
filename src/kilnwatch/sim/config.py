"""Parameters of a simulation run: one frozen pydantic object, with named presets.

Every tunable of the synthetic province lives here, so that a run is fully described by its
:class:`SimParams` (and reproducible from it). Process physics live in :mod:`.processes`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kilnwatch.errors import ConfigError

OutputFormat = Literal["csv", "parquet", "both"]
Share = Annotated[float, Field(ge=0, le=1)]
"""A share of a population (enterprises, units, meters, faults), 0 to 1 [-]."""

_INTERVAL_RE = re.compile(r"^\s*(\d+)\s*(min|m|h)\s*$")


def parse_interval_min(text: str) -> int:
    """Parse an interval such as ``15min``, ``5m`` or ``1h`` into minutes.

    Raises
    ------
    ConfigError
        When the text is not an interval or does not divide a day evenly.
    """
    match = _INTERVAL_RE.match(text)
    if match is None:
        raise ConfigError(f"interval {text!r} is not like '15min' or '1h'", code="sim.interval")
    minutes = int(match.group(1)) * (60 if match.group(2) == "h" else 1)
    if minutes <= 0 or (24 * 60) % minutes != 0:
        raise ConfigError(f"interval {text!r} must divide a day evenly", code="sim.interval")
    return minutes


class SimParams(BaseModel):
    """Everything that decides the synthetic province and its data.

    Two runs with equal parameters write byte-identical files.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(default=1, ge=0)
    enterprises: int = Field(default=60, ge=1, le=5000)
    start: date = date(2025, 1, 1)
    days: int = Field(default=30, ge=1, le=3660)
    interval_min: int = Field(default=15, ge=1, le=1440)
    output_format: OutputFormat = "both"
    utc_offset_h: int = Field(default=8, description="local time offset of timestamps [h]")
    production_controlled_fraction: Share = 0.08
    faulty_enterprise_fraction: Share = 0.3
    subtle_fault_fraction: Share = Field(
        default=0.25, description="share of faults with magnitude 3-5 %"
    )
    retrofit_unit_fraction: Share = 0.12
    retrofit_undelivered_fraction: Share = 0.3
    missing_equipment_meter_fraction: Share = 0.15
    overdue_calibration_fraction: Share = 0.04
    wrong_accuracy_fraction: Share = Field(
        default=0.0,
        description="share of entry meters whose class is coarser than GB 17167 requires",
    )
    silent_meter_fraction: Share = Field(
        default=0.0, description="share of meters that fall silent for good"
    )
    meter_replacement_fraction: Share = Field(
        default=0.0,
        description="share of counter meters replaced (register restarts near zero)",
    )
    stock_reporting_fraction: Share = Field(
        default=0.7, description="share of enterprises reporting coal/coke stocks"
    )
    smoothed_meter_fraction: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="share of enterprises whose entry energy meter reports its daily moving "
        "average for weeks (labelled meter_smoothed)",
    )
    underpriced_sales_fraction: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="share of enterprises invoicing one month's sales 5-8 % below their usual "
        "price (labelled revenue_underpriced)",
    )
    sales_price_spread: float = Field(
        default=0.0,
        ge=0,
        le=0.5,
        description="half-width of each enterprise's own sales price level relative to the "
        "market (contracts, grades; uniform)",
    )
    price_history_months: int = Field(
        default=0,
        ge=0,
        le=36,
        description="months before start with sales invoices and market prices (an "
        "enterprise's own price history)",
    )
    start_stamped_meter_fraction: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="share of interval and counter meters whose export stamps each reading at "
        "its interval's start (readings column ts_convention = start)",
    )
    every_city: bool = Field(
        default=False,
        description="place the first enterprises one in each city, so every city has data",
    )

    @field_validator("interval_min")
    @classmethod
    def _divides_day(cls, value: int) -> int:
        if (24 * 60) % value != 0:
            raise ValueError("interval must divide a day evenly")
        return value

    @property
    def intervals_per_day(self) -> int:
        """Number of reading intervals in one day."""
        return (24 * 60) // self.interval_min


PRESETS: dict[str, SimParams] = {
    "test": SimParams(enterprises=10, days=10, start=date(2025, 3, 25)),
    "demo": SimParams(enterprises=60, days=90, start=date(2025, 1, 1)),
    "benchmark": SimParams(enterprises=300, days=90, start=date(2025, 1, 1), output_format="csv"),
}


def preset(name: str, **overrides: object) -> SimParams:
    """Return a named preset, optionally with some fields replaced."""
    if name not in PRESETS:
        raise ConfigError(f"unknown simulator preset {name!r}", code="sim.preset")
    return PRESETS[name].model_copy(update=overrides)
