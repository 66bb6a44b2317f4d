"""The one validation path: dedup, corrections, late data, counters and rollups, on both DBs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import RawReading
from kilnwatch.store.models import DeadLetter, Meter, Reading
from kilnwatch.store.repos.rollups import meter_totals
from kilnwatch.store.rollups.attribution import DAY, HOUR, MONTH
from zone import POLICY

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
T0 = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)  # 08:00 Beijing
NOW = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture
def registry_session(session: Session) -> Session:
    import_registry(session, REGISTRY)
    session.commit()
    return session


def meter_id(session: Session, code: str) -> int:
    found = session.scalar(select(Meter.id).where(Meter.code == code))
    assert found is not None
    return found


def raw(code: str, ts: datetime, value: float, unit: str = "kWh", row: int = 1) -> RawReading:
    payload = {"meter_code": code, "ts": ts.isoformat(), "value": value, "unit": unit}
    return RawReading(code, ts.isoformat(), value, unit, None, row, payload)


def put(session: Session, rows: list[RawReading]):
    result = ingest_readings(session, rows, "file", "test.csv", now=NOW, policy=POLICY)
    session.commit()
    return result


def totals(session: Session, code: str, grain: str = HOUR):
    mid = meter_id(session, code)
    return meter_totals(session, [mid], grain, T0 - timedelta(days=40), T0 + timedelta(days=40))[
        mid
    ]


def test_counter_consumption_dedup_and_correction(registry_session: Session) -> None:
    s = registry_session
    rows = [raw("M-JN-E0", T0 + timedelta(minutes=15 * i), 1000 + 10 * i, row=i) for i in range(8)]
    first = put(s, rows)
    assert (first.accepted, first.duplicates, first.rejected) == (8, 0, [])
    assert totals(s, "M-JN-E0").sum == pytest.approx(70.0)

    again = put(s, rows)
    assert (again.accepted, again.duplicates) == (0, 8)
    assert s.scalar(select(func.count()).select_from(Reading)) == 8

    fix = put(s, [raw("M-JN-E0", T0 + timedelta(minutes=45), 1035)])
    assert (fix.accepted, fix.corrections) == (1, 1)
    assert totals(s, "M-JN-E0").sum == pytest.approx(70.0)  # only the split moved
    mid = meter_id(s, "M-JN-E0")
    hours = meter_totals(s, [mid], HOUR, T0, T0 + timedelta(hours=1))[mid]
    # the hour (T0, T0 + 1 h]: steps ending 00:15, 00:30, 00:45 (corrected), 01:00
    assert hours.sum == pytest.approx(10 + 10 + 15 + 5)
    assert hours.count == 4
    assert totals(s, "M-JN-E0", DAY).sum == pytest.approx(70.0)
    assert totals(s, "M-JN-E0", MONTH).sum == pytest.approx(70.0)


def test_rejections_go_to_dead_letters(registry_session: Session) -> None:
    s = registry_session
    rows = [
        raw("NOPE", T0, 1.0, row=1),
        raw("M-JN-E0", NOW + timedelta(hours=1), 1.0, row=2),
        raw("M-JN-E0", T0, 1.0, unit="t", row=3),
        raw("M-JN-E0", T0, -5.0, row=4),
        raw("M-JN-C0", T0, 2.0, unit="t", row=5),
    ]
    result = put(s, rows)
    assert result.accepted == 1
    assert result.reasons() == {
        "ingest.unknown_meter": 1,
        "ingest.future_timestamp": 1,
        "ingest.unit_mismatch": 1,
        "ingest.out_of_range": 1,
    }
    letters = s.scalars(select(DeadLetter).order_by(DeadLetter.row_no)).all()
    assert [d.reason for d in letters][0] == "ingest.unknown_meter"
    assert '"NOPE"' in letters[0].payload


def test_unit_conversion_to_meter_unit(registry_session: Session) -> None:
    s = registry_session
    put(
        s,
        [raw("M-JN-C0", T0, 2500.0, unit="kg"), raw("M-JN-C0", T0 + timedelta(hours=1), 1.5, "t")],
    )
    assert totals(s, "M-JN-C0").sum == pytest.approx(4.0)


def test_late_data_updates_counter_rollups(registry_session: Session) -> None:
    s = registry_session
    put(s, [raw("M-JN-E0", T0, 100.0), raw("M-JN-E0", T0 + timedelta(hours=3), 400.0)])
    mid = meter_id(s, "M-JN-E0")
    h2 = T0 + timedelta(hours=2)  # the reading at T0 + 3 h closes the hour (h2, h2 + 1 h]
    assert meter_totals(s, [mid], HOUR, h2, h2 + timedelta(hours=1))[mid].sum == 300.0
    put(s, [raw("M-JN-E0", T0 + timedelta(hours=1, minutes=30), 250.0)])
    assert meter_totals(s, [mid], HOUR, h2, h2 + timedelta(hours=1))[mid].sum == 150.0
    h1 = T0 + timedelta(hours=1)
    assert meter_totals(s, [mid], HOUR, h1, h1 + timedelta(hours=1))[mid].sum == 150.0
    assert totals(s, "M-JN-E0", DAY).sum == 300.0


def test_counter_rollover_and_reset_never_negative(registry_session: Session) -> None:
    s = registry_session
    values = [99_980.0, 99_995.0, 5.0, 20.0, 3.0, 10.0]
    put(s, [raw("M-JN-E0", T0 + timedelta(minutes=10 * i), v) for i, v in enumerate(values)])
    total = totals(s, "M-JN-E0")
    # 15 + (100000 - 99995 + 5) + 15 + reset(0) + 7
    assert total.sum == pytest.approx(15 + 10 + 15 + 0 + 7)
    assert (total.rollovers, total.resets) == (1, 1)
    assert total.min >= 0


def test_not_authorised_gateway(registry_session: Session) -> None:
    from kilnwatch.ingest.gateways import gateway_by_code
    from kilnwatch.store.models import Enterprise, Gateway

    s = registry_session
    other = s.scalar(select(Enterprise).where(Enterprise.uscc == "91370200163562681G"))
    assert other is not None
    gw = Gateway(code="GW-QD-01", enterprise_id=other.id, protocol="http")
    s.add(gw)
    s.flush()
    entry = gateway_by_code(s, "GW-QD-01")
    assert entry is not None
    stranger = entry.gateway
    result = ingest_readings(s, [raw("M-JN-E0", T0, 1.0)], "http", "GW-X", gateway=stranger,
                             now=NOW, policy=POLICY)  # fmt: skip
    assert result.reasons() == {"ingest.not_authorised": 1}


def test_before_commissioning(registry_session: Session) -> None:
    s = registry_session
    old = datetime(2012, 5, 31, 15, 59, tzinfo=UTC)  # 23:59 Beijing, the day before
    result = put(s, [raw("M-JN-E1", old, 1.0), raw("M-JN-E1", old + timedelta(minutes=1), 1.0)])
    assert result.reasons() == {"ingest.before_commissioning": 1}
    assert result.accepted == 1
    assert POLICY.future_tolerance_s > 0
