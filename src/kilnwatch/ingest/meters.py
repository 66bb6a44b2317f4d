"""The registered meters readings are checked against, read from the store once per run.

:class:`MeterCache` keeps the :class:`~kilnwatch.ingest.validate.IngestMeter` of every meter
code seen so far (and which codes are unknown) with their Polars table for the column checks
(:func:`~kilnwatch.ingest.vectorised.meter_frame`): a file import reads each meter once for all
its chunks, an HJ 212 writer once per directory reload.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.ingest.validate import IngestMeter, ValidationPolicy
from kilnwatch.ingest.vectorised import meter_frame
from kilnwatch.store.models import Meter, ProductionUnit

LOOKUP_BATCH = 1000
"""Meter codes per query (bound parameters per statement stay small on every database)."""


def load_meters(session: Session, codes: Iterable[str | None]) -> dict[str, IngestMeter]:
    """Validation facts of the meters with these codes (unknown codes are left out)."""
    wanted = sorted({c for c in codes if c})
    found: dict[str, IngestMeter] = {}
    for start in range(0, len(wanted), LOOKUP_BATCH):
        stmt = (
            select(Meter.id, Meter.code, Meter.enterprise_id, Meter.gateway_id, Meter.carrier,
                   Meter.measurement, Meter.unit_of_measure, ProductionUnit.commissioned_on)
            .outerjoin(ProductionUnit, ProductionUnit.id == Meter.unit_id)
            .where(Meter.code.in_(wanted[start : start + LOOKUP_BATCH]))
        )  # fmt: skip
        for row in session.execute(stmt):
            found[row[1]] = IngestMeter(*row)
    return found


class MeterCache:
    """Meter facts and their Polars table, loaded once per run (file import chunks)."""

    def __init__(self, policy: ValidationPolicy) -> None:
        self.policy = policy
        self.meters: dict[str, IngestMeter] = {}
        self._missing: set[str] = set()
        self._table: pl.DataFrame | None = None

    def update(self, session: Session, codes: Iterable[str]) -> None:
        """Load the codes not seen yet."""
        new = {c for c in codes if c} - self.meters.keys() - self._missing
        if not new:
            return
        found = load_meters(session, new)
        self.meters.update(found)
        self._missing |= new - found.keys()
        self._table = None

    def table(self) -> pl.DataFrame:
        """The meter table for :func:`~kilnwatch.ingest.vectorised.validate_frame`."""
        if self._table is None:
            self._table = meter_frame(self.meters, self.policy)
        return self._table
