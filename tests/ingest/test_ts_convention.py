"""Readings files stamped at interval starts (``--ts-convention``, column ``ts_convention``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.errors import InputError
from kilnwatch.ingest.payloads import parse_csv_readings
from kilnwatch.ingest.readings_file import import_readings_file
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.stamps import convention_of
from kilnwatch.store.models import Meter, Reading
from zone import POLICY

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
T0 = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture
def loaded(session: Session) -> Session:
    import_registry(session, REGISTRY)
    session.commit()
    return session


def _file(tmp_path: Path, rows: list[tuple[str, int, float, str]], column: bool) -> Path:
    """Rows (meter, minutes after T0, value, convention) as a readings CSV."""
    header = "meter_code,ts,value" + (",ts_convention" if column else "")
    lines = [header]
    for code, minutes, value, convention in rows:
        ts = (T0 + timedelta(minutes=minutes)).isoformat()
        lines.append(f"{code},{ts},{value}" + (f",{convention}" if column else ""))
    path = tmp_path / "readings.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _stored(session: Session, code: str) -> list[tuple[int, float]]:
    rows = session.execute(
        select(Reading.ts, Reading.value)
        .join(Meter, Meter.id == Reading.meter_id)
        .where(Meter.code == code)
        .order_by(Reading.ts)
    ).all()
    return [(int((ts.replace(tzinfo=UTC) - T0).total_seconds() // 60), v) for ts, v in rows]


def test_start_stamps_move_by_the_meters_own_interval(loaded: Session, tmp_path: Path) -> None:
    coal = [("M-JN-C0", 60 * h, 1.0 + h, "") for h in range(4)]  # hourly interval meter
    grid = [("M-JN-E0", 15 * k, 100.0 + k, "") for k in range(5)]  # 15-min counter
    so2 = [("M-JN-SO2", 60 * h, 30.0, "") for h in range(2)]  # instant: never moves
    path = _file(tmp_path, coal + grid + so2, column=False)
    report = import_readings_file(loaded, path, policy=POLICY, chunk_rows=3,
                                  ts_convention="start")  # fmt: skip
    assert report.moved_to_interval_end == 9
    assert _stored(loaded, "M-JN-C0") == [(60, 1.0), (120, 2.0), (180, 3.0), (240, 4.0)]
    assert [m for m, _v in _stored(loaded, "M-JN-E0")] == [15, 30, 45, 60, 75]
    assert [m for m, _v in _stored(loaded, "M-JN-SO2")] == [0, 60]


def test_the_column_decides_per_row_and_end_is_the_default(loaded: Session, tmp_path: Path) -> None:
    rows = [("M-JN-C0", 60 * h, 1.0, "start") for h in range(3)]
    rows += [("M-JN-E1", 60 * h, 10.0 + h, "") for h in range(3)]
    report = import_readings_file(loaded, _file(tmp_path, rows, column=True), policy=POLICY)
    assert report.moved_to_interval_end == 3
    assert [m for m, _v in _stored(loaded, "M-JN-C0")] == [60, 120, 180]
    assert [m for m, _v in _stored(loaded, "M-JN-E1")] == [0, 60, 120]


def test_a_bad_convention_or_an_unknown_interval_is_located(
    loaded: Session, tmp_path: Path
) -> None:
    bad = _file(tmp_path, [("M-JN-C0", 0, 1.0, ""), ("M-JN-C0", 60, 1.0, "begin")], column=True)
    with pytest.raises(InputError, match=r"row 2, field 'ts_convention': 'begin'"):
        import_readings_file(loaded, bad, policy=POLICY)
    loaded.rollback()
    single = _file(tmp_path, [("M-JN-C0", 0, 1.0, "start")], column=True)
    with pytest.raises(InputError, match=r"row 1, field 'ts': meter M-JN-C0 has a single"):
        import_readings_file(loaded, single, policy=POLICY)
    loaded.rollback()
    with pytest.raises(InputError, match="is not one of end, start"):
        convention_of("middle")


def test_payloads_refuse_the_column() -> None:
    text = "meter_code,ts,value,ts_convention\nM-JN-C0,2025-03-01T00:00:00+00:00,1,start\n"
    with pytest.raises(InputError, match="read by file imports"):
        parse_csv_readings(text)
