"""Shared fixtures of the programme tests: clinker line CL1 with hourly readings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import RawReading
from kilnwatch.store.models import ProductionUnit
from zone import POLICY, SHANGHAI

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
FIRST = date(2025, 3, 1)
DAYS = 70
EFFECTIVE = FIRST + timedelta(days=35)


def load_clinker_line(session: Session, tmp_path: Path, saving: float, seed: int) -> ProductionUnit:
    """Clinker line CL1, hourly: clinker ~130 t/h with stops, coal 0.145 t/t clinker + 0.4 t/h
    while running, electricity 60 kWh/t; from EFFECTIVE coal and electricity drop by
    ``saving`` (so the true saving fraction is ``saving``)."""
    import_registry(session, REGISTRY)
    extra = tmp_path / "meters.csv"
    extra.write_text(
        "meter_code,enterprise_uscc,unit_code,carrier,level,measurement,unit_of_measure\n"
        "M-JN-K1,91370100MA3C4XY21E,CL1,product:clinker,sub_unit,interval,t\n",
        encoding="utf-8",
    )
    import_registry(session, extra)
    rng = np.random.default_rng(seed)
    start = datetime(FIRST.year, FIRST.month, FIRST.day, tzinfo=SHANGHAI).astimezone(UTC)
    rows, register = [], 0.0
    rows.append(RawReading("M-JN-E1", start, 0.0, "kWh"))
    for hour in range(DAYS * 24):
        ts = start + timedelta(hours=hour + 1)
        day = hour // 24
        running = not (day % 9 == 4 and hour % 24 < 10)  # a 10-hour stop every 9th day
        clinker = (130 + 15 * np.sin(day / 3) + 3 * rng.standard_normal()) * running
        factor = 1 - saving if FIRST + timedelta(days=day) >= EFFECTIVE else 1.0
        coal = factor * (0.145 * clinker + 0.4 * running) * (1 + 0.01 * rng.standard_normal())
        register += factor * 60 * clinker
        rows += [
            RawReading("M-JN-K1", ts, round(clinker, 3), "t"),
            RawReading("M-JN-C0", ts, round(coal, 4), "t"),
            RawReading("M-JN-E1", ts, round(register, 1), "kWh"),
        ]
    result = ingest_readings(
        session, rows, "file", "test", now=datetime(2026, 1, 1, tzinfo=UTC), policy=POLICY
    )
    assert result.rejected == [], result.rejected[:3]
    session.commit()
    unit = session.scalar(select(ProductionUnit).where(ProductionUnit.code == "CL1"))
    assert unit is not None
    return unit
