"""A small metered enterprise for the metering tests: the fixture registry, census points and
three days of hourly readings with one replacement, one stuck and one silent spell."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import RawReading
from kilnwatch.store.models import Enterprise, Meter, MeteringPoint
from zone import POLICY

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
JINAN = "91370100MA3C4XY21E"
START = datetime(2025, 3, 1, tzinfo=UTC)
HOURS = 72
REPLACED_AT, STUCK_HOURS, SILENT_HOURS = 30, range(10, 16), range(40, 66)


def load_registry(session: Session, tmp: Path | None = None) -> Enterprise:
    """The fixture registry and, with ``tmp``, the clinker output meter of line CL1."""
    import_registry(session, REGISTRY)
    if tmp is not None:
        extra = tmp / "meters.csv"
        extra.write_text(
            "meter_code,enterprise_uscc,unit_code,carrier,level,measurement,unit_of_measure\n"
            f"M-JN-K1,{JINAN},CL1,product:clinker,sub_unit,interval,t\n",
            encoding="utf-8",
        )
        import_registry(session, extra)
    return session.scalars(select(Enterprise).where(Enterprise.uscc == JINAN)).one()


def add_points(session: Session, ent: Enterprise) -> None:
    """Entry and sub-unit electricity installed, two equipment meters missing, entry coal on
    a static scale (0.5 installed where 0.1 is required)."""
    meters = {m.code: m.id for m in session.scalars(select(Meter))}
    for code, level, carrier, meter, variant in (
        ("P-E0", "entry", "electricity", "M-JN-E0", None),
        ("P-E1", "sub_unit", "electricity", "M-JN-E1", None),
        ("P-EQ1", "equipment", "electricity", None, None),
        ("P-EQ2", "equipment", "electricity", None, None),
        ("P-C0", "entry", "raw_coal", "M-JN-C0", "static"),
    ):
        session.add(
            MeteringPoint(enterprise_id=ent.id, code=code, name=code, level=level,
                          carrier=carrier, meter_id=meters.get(meter or ""),
                          accuracy_variant=variant, planned_on=date(2025, 12, 31))
        )  # fmt: skip
    session.flush()


def load_readings(session: Session, *, with_output: bool = True) -> None:
    """Hourly readings over ``HOURS`` hours: E0 replaced, E1 stuck while the clinker output
    K1 runs, C0 silent for 26 h."""
    rows = []
    e0 = e1 = 0.0
    for h in range(HOURS + 1):
        ts = START + timedelta(hours=h)
        e0 = 5.0 if h == REPLACED_AT else e0 + 1000.0
        e1 = e1 if h - 1 in STUCK_HOURS else e1 + 500.0
        rows += [RawReading("M-JN-E0", ts, 1e6 + e0 if h < REPLACED_AT else e0, "kWh"),
                 RawReading("M-JN-E1", ts, e1, "kWh")]  # fmt: skip
        if h and h - 1 not in SILENT_HOURS:
            rows.append(RawReading("M-JN-C0", ts, 10.0 + h % 3, "t"))
        rows.append(RawReading("M-JN-SO2", ts, 20.0 + h % 5, "mg/m3"))
        if h and with_output:
            rows.append(RawReading("M-JN-K1", ts, 100.0 + h % 2, "t"))
    result = ingest_readings(
        session, rows, "file", "test", now=datetime(2025, 4, 1, tzinfo=UTC), policy=POLICY
    )
    assert not result.rejected, result.rejected[:3]
