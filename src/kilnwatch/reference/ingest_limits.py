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

from kilnwatch.errors import ReferenceDataError
from kilnwatch.reference._csv import read_package_csv

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


def _optional(text: str, where: str) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ReferenceDataError(f"{where}: {text!r} is not a number") from None


def parse_limits(rows: list[dict[str, str]], name: str) -> IngestLimits:
    """Limits from CSV rows; every row must name its source."""
    parsed = []
    for i, row in enumerate(rows, start=1):
        where = f"{name}, row {i}"
        if not row.get("source"):
            raise ReferenceDataError(f"{where}: source is required")
        parsed.append(
            IngestLimit(
                carrier=row["carrier"] or ANY,
                measurement=row["measurement"] or ANY,
                unit=row["unit"] or ANY,
                min_value=_optional(row.get("min_value", ""), where),
                max_value=_optional(row.get("max_value", ""), where),
                max_rate_per_h=_optional(row.get("max_rate_per_h", ""), where),
                source=row["source"],
            )
        )
    return IngestLimits(tuple(parsed))


@lru_cache(maxsize=1)
def load_ingest_limits() -> IngestLimits:
    """The packaged platform defaults."""
    rows = read_package_csv("kilnwatch.reference", "ingest_limits.csv")
    return parse_limits(rows, "ingest_limits.csv")


def read_ingest_limits(path: Path) -> IngestLimits:
    """A deployment's own limits table (same columns)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = [{k: (v or "").strip() for k, v in r.items()} for r in csv.DictReader(handle)]
    return parse_limits(rows, str(path))
