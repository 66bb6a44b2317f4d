"""A readings file's day and month rollups and CEMS hours written once per file (issue 20).

A time-ordered file of several meters (counters with a reset, an interval meter, a monitored
analyser with flags) is imported in small chunks twice: with the rollups written after every
chunk (``per_chunk_rollups``, the path before) and held over the file
(:mod:`kilnwatch.store.rollups.deferred`). Readings, ``rollups`` and ``emission_hours`` must be
the same to the bit, periods stored before the file (the first hours of the first day) and a
correction in the middle of the file (a meter leaves the append path) included.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from kilnwatch.errors import ImportRejected
from kilnwatch.ingest.readings_file import import_readings_file
from kilnwatch.ingest.registry import import_registry
from zone import POLICY

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
T0 = datetime(2025, 3, 1, tzinfo=UTC)
STEP = timedelta(minutes=15)
STEPS = 4 * 24 * 3  # three days of 15-minute readings
EARLIER = 8  # the first two hours, imported before the file
CHUNK_ROWS = 37  # a few rows of every meter per chunk, chunks cut inside hours
UNITS = {"M-JN-E0": "kWh", "M-JN-E1": "kWh", "M-JN-C0": "t", "M-JN-SO2": "mg/m3"}
METERS = tuple(UNITS)
CORRECTED_AT = 100  # step of M-JN-C0 sent again with another value, 40 steps later
HEADER = "meter_code,ts,value,unit,flag\n"
TABLES = {
    "readings": "SELECT meter_id, ts, version, value, flag FROM readings "
    "ORDER BY meter_id, ts, version",
    "rollups": "SELECT * FROM rollups ORDER BY meter_id, grain, period_start",
    "emission_hours": "SELECT * FROM emission_hours ORDER BY meter_id, period_start",
}


def _value(code: str, i: int) -> tuple[str, str]:
    """Value and flag of ``code`` at step ``i``: irregular decimals (sums that round)."""
    if code == "M-JN-E0":
        return f"{1000 + 1.37 * i:.2f}", ""
    if code == "M-JN-E1":  # a reset after step 150
        return f"{(500 + 0.73 * i) if i <= 150 else 0.91 * (i - 150):.2f}", ""
    if code == "M-JN-C0":
        return f"{3.1 + (i % 7) * 0.37:.2f}", ""
    return f"{40 + (i * 13 % 17) * 0.11:.2f}", ("F" if i % 29 == 0 else "N")


def _line(code: str, i: int, value: str | None = None) -> str:
    v, flag = _value(code, i)
    return f"{code},{(T0 + i * STEP).isoformat()},{value or v},{UNITS[code]},{flag}\n"


def _file(path: Path, steps: range, correction: bool) -> Path:
    lines = []
    for i in steps:
        lines += [_line(code, i) for code in METERS]
        if correction and i == CORRECTED_AT + 40:
            lines.append(_line("M-JN-C0", CORRECTED_AT, "9.99"))
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def _wipe(session: Session) -> None:
    for table in ("emission_hours", "rollups", "delivery_repeats", "readings", "dead_letters"):
        session.execute(text(f"DELETE FROM {table}"))
    session.commit()


def _snapshot(session: Session) -> dict[str, list[Any]]:
    return {name: [tuple(r) for r in session.execute(text(sql))] for name, sql in TABLES.items()}


def _rollup_writes(session: Session) -> int | None:
    """Row versions written to ``rollups`` by this transaction (PostgreSQL), else None."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    found = session.execute(
        text("SELECT n_tup_ins + n_tup_upd FROM pg_stat_xact_user_tables "
             "WHERE relname = 'rollups'")
    ).scalar()  # fmt: skip
    return int(found or 0)


def _import(session: Session, tmp_path: Path, per_chunk: bool) -> tuple[dict[str, Any], int | None]:
    _wipe(session)
    import_registry(session, REGISTRY)
    earlier = _file(tmp_path / "earlier.csv", range(EARLIER), correction=False)
    import_readings_file(session, earlier, policy=POLICY)
    session.commit()
    path = _file(tmp_path / "readings.csv", range(EARLIER, STEPS), correction=True)
    report = import_readings_file(
        session, path, chunk_rows=CHUNK_ROWS, policy=POLICY, per_chunk_rollups=per_chunk
    )
    writes = _rollup_writes(session)
    session.commit()
    assert (report.accepted, report.corrections) == ((STEPS - EARLIER) * len(METERS) + 1, 1)
    return _snapshot(session), writes


def test_rollups_held_over_the_file_equal_per_chunk(session: Session, tmp_path: Path) -> None:
    before, writes_before = _import(session, tmp_path, per_chunk=True)
    after, writes_after = _import(session, tmp_path, per_chunk=False)
    assert {k: len(v) for k, v in after.items()} == {k: len(v) for k, v in before.items()}
    assert all(after.values())
    assert after == before
    if writes_before is not None and writes_after is not None:
        # per chunk: every meter's day and month rows rewritten in each chunk; held: each once,
        # beside the hour rows (an hour cut by a chunk is written twice)
        chunks = -(-((STEPS - EARLIER) * len(METERS) + 1) // CHUNK_ROWS)
        assert writes_before > len(after["rollups"]) + 2 * len(METERS) * (chunks - 2)
        assert writes_after <= len(after["rollups"]) + len(METERS) * chunks


def test_bad_row_in_last_chunk_leaves_nothing(session: Session, tmp_path: Path) -> None:
    import_registry(session, REGISTRY)
    session.commit()
    path = _file(tmp_path / "readings.csv", range(EARLIER, STEPS), correction=False)
    with path.open("a", encoding="utf-8") as f:
        f.write(f"M-JN-C0,{(T0 + STEPS * STEP).isoformat()},abc,t,\n")
    with pytest.raises(ImportRejected):
        import_readings_file(session, path, chunk_rows=CHUNK_ROWS, policy=POLICY)
    session.rollback()
    assert all(session.scalar(text(f"SELECT count(*) FROM {t}")) == 0 for t in TABLES)
