"""Range and rate-of-change limits for incoming readings (``ingest_limits.csv``).

The packaged rows are platform defaults of physical plausibility only (a register is not
negative, a percentage lies in 0..100); no rate-of-change limit is packaged because none is
confirmed by a source. A deployment may load its own table with the same columns.

Columns: ``carrier`` (``*`` = any), ``measurement`` (``counter``/``interval``/``instant``/``*``),
``unit`` (the meter's unit the limits are written in; ``*`` = limits hold in any unit, which
is only true for 0 and for no limit), ``min_value``, ``max_value``, ``max_rate_per_h`` (largest
change of the value per hour for ``instant`` meters, of the consumption rate for ``counter``
meters), ``source``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from kilnwatch.reference._csv import Row, package_rows, strip_cells

ANY = "*"


@dataclass(frozen=True, slots=True)
class IngestLimit:
    """One limits row; ``None`` means "no confirmed limit"."""

    carrier: str
    measurement: str
    unit: str
    min_value: float | None
    max_value: float | None
    max_rate_per_h: float | None
    source: str

    def specificity(self) -> int:
        """How specific the row is (more specific rows win)."""
        return sum(v != ANY for v in (self.carrier, self.measurement, self.unit))


@dataclass(frozen=True)
class IngestLimits:
    """A limits table; :meth:`for_meter` picks the most specific matching row."""

    rows: tuple[IngestLimit, ...]
    _memo: dict[tuple[str, str, str], IngestLimit | None] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def for_meter(self, carrier: str, measurement: str, unit: str) -> IngestLimit | None:
        """The most specific row matching the meter, or None (memoised per table).

        Memoised in the instance: asked for every meter of every batch, and hashing the
        whole table for a shared cache would cost more than the look-up.
        """
        key = (carrier, measurement, unit)
        try:
            return self._memo[key]
        except KeyError:
            best = self._memo[key] = _best_row(self.rows, carrier, measurement, unit)
            return best


def _best_row(
    rows: tuple[IngestLimit, ...], carrier: str, measurement: str, unit: str
) -> IngestLimit | None:
    best: IngestLimit | None = None
    for row in rows:
        if not _matches(row, carrier, measurement, unit):
            continue
        if best is None or row.specificity() > best.specificity():
            best = row
    return best


def _matches(row: IngestLimit, carrier: str, measurement: str, unit: str) -> bool:
    return (
        row.carrier in (ANY, carrier)
        and row.measurement in (ANY, measurement)
        and row.unit in (ANY, unit)
    )


def _limit(row: Row) -> IngestLimit:
    def optional(column: str) -> float | None:
        return row.optional_number(column) if row.has(column) else None

    return IngestLimit(
        carrier=row.text("carrier") or ANY,
        measurement=row.text("measurement") or ANY,
        unit=row.text("unit") or ANY,
        min_value=optional("min_value"),
        max_value=optional("max_value"),
        max_rate_per_h=optional("max_rate_per_h"),
        source=row.source(),
    )


def parse_limits(rows: list[Row]) -> IngestLimits:
    """Limits from CSV rows; every row must name its source."""
    return IngestLimits(tuple(_limit(row) for row in rows))


@lru_cache(maxsize=1)
def load_ingest_limits() -> IngestLimits:
    """The packaged platform defaults."""
    return parse_limits(package_rows("kilnwatch.reference", "ingest_limits.csv"))


def read_ingest_limits(path: Path) -> IngestLimits:
    """A deployment's own limits table (same columns)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        cells = strip_cells(csv.DictReader(handle))
    return parse_limits([Row(c, f"{path}, row {i}") for i, c in enumerate(cells, start=1)])
