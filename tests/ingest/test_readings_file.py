"""``kilnwatch import readings``: CSV and Parquet, all-or-nothing or --skip-invalid."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kilnwatch.config import Settings
from kilnwatch.errors import ImportRejected, InputError
from kilnwatch.ingest.readings_file import file_months, import_readings_file
from kilnwatch.ingest.registry import import_registry
from kilnwatch.store import partitions
from kilnwatch.store.models import DeadLetter, Reading
from zone import POLICY

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
T0 = datetime(2025, 3, 1, tzinfo=UTC)
HEADER = "meter_code,ts,value,unit,flag\n"


@pytest.fixture
def loaded(session: Session) -> Session:
    import_registry(session, REGISTRY)
    session.commit()
    return session


def _csv(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "readings.csv"
    path.write_text("\ufeff" + HEADER + "".join(lines), encoding="utf-8")
    return path


def _line(i: int, value: str = "1.5", code: str = "M-JN-C0") -> str:
    return f"{code},{(T0 + timedelta(hours=i)).isoformat()},{value},t,\n"


def _readings(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Reading)) or 0


def test_all_or_nothing_names_file_row_field(loaded: Session, tmp_path: Path) -> None:
    path = _csv(tmp_path, [_line(0), _line(1, "abc"), _line(2), _line(3, "2", "NOPE")])
    with pytest.raises(ImportRejected) as info:
        import_readings_file(loaded, path, chunk_rows=2, policy=POLICY)
    loaded.rollback()
    messages = [str(e) for e in info.value.errors]
    assert messages == [
        f"{path}, row 2, field 'value': not a number: 'abc'",
        f"{path}, row 4, field 'meter_code': unknown meter 'NOPE'",
    ]
    assert [e.code for e in info.value.errors] == ["ingest.bad_value", "ingest.unknown_meter"]
    assert _readings(loaded) == 0


def test_skip_invalid_dead_letters_bad_rows(loaded: Session, tmp_path: Path) -> None:
    path = _csv(tmp_path, [_line(0), _line(1, "abc"), _line(2)])
    report = import_readings_file(loaded, path, skip_invalid=True, policy=POLICY)
    loaded.commit()
    assert (report.accepted, report.rejected) == (2, 1)
    assert loaded.scalar(select(DeadLetter.row_no)) == 2
    again = import_readings_file(loaded, path, skip_invalid=True, policy=POLICY)
    assert (again.accepted, again.duplicates) == (0, 2)


def test_parquet_and_unknown_column(loaded: Session, tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "meter_code": ["M-JN-C0"] * 3,
            "ts": [T0 + timedelta(hours=i) for i in range(3)],
            "value": [1.0, 2.0, 3.0],
            "unit": ["t"] * 3,
            "flag": [None, None, None],
        },
        schema_overrides={"ts": pl.Datetime("us", "UTC"), "flag": pl.Utf8},
    )
    path = tmp_path / "readings.parquet"
    frame.write_parquet(path)
    assert import_readings_file(loaded, path, chunk_rows=2, policy=POLICY).accepted == 3
    bad = tmp_path / "bad.csv"
    bad.write_text("meter_code,ts,value,unit,colour\n", encoding="utf-8")
    with pytest.raises(Exception, match="unknown column"):
        import_readings_file(loaded, bad, policy=POLICY)


def test_cli_import_readings(
    settings: Settings, loaded: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kilnwatch.cli.imports import app

    monkeypatch.setenv("KILNWATCH_DATABASE_URL", settings.effective_database_url)
    path = _csv(tmp_path, [_line(0), _line(1, "abc")])
    runner = CliRunner()
    refused = runner.invoke(app, ["readings", str(path)])
    assert refused.exit_code == 2
    assert "row 2, field 'value'" in refused.output
    ok = runner.invoke(app, ["readings", str(path), "--skip-invalid"])
    assert ok.exit_code == 0, ok.output
    assert "1 stored" in ok.output and "ingest.bad_value" in ok.output


def test_a_fault_read_ahead_after_stored_chunks_leaves_nothing(
    loaded: Session, tmp_path: Path
) -> None:
    """A CSV fault met by the read-ahead thread after earlier chunks were stored in the
    transaction is raised located, and the rollback leaves nothing."""
    bad = 'M-JN-C0,"2025-03-09T00:00:00+00:00,2,t,\n'
    path = _csv(tmp_path, [*(_line(i) for i in range(6)), bad, _line(8)])
    with pytest.raises(InputError) as info:
        import_readings_file(loaded, path, chunk_rows=2, policy=POLICY)
    loaded.rollback()
    where = info.value.location
    assert (where.file, where.row, where.field) == (str(path), 7, "ts")
    assert _readings(loaded) == 0


@pytest.mark.parametrize(
    "settings", [pytest.param("postgresql-own", marks=pytest.mark.postgres)], indirect=True
)
def test_every_month_of_a_file_gets_its_partition_before_the_first_row(
    loaded: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A time-ordered file whose second month starts in a later chunk: its rows go to that
    month's partition, not to DEFAULT (the chunks before hold a lock the attach needs, so a
    partition made when the month is first met waited for the import's own transaction;
    found at 3 000 enterprises by benchmarks/scale.py)."""
    monkeypatch.setattr(partitions, "INGEST_LOCK_TIMEOUT", "200ms")
    partitions._TRIED.known.clear()
    partitions._TRIED.failed.clear()
    start = datetime(2019, 8, 31, 20, tzinfo=UTC)  # 2019: no other data, no partition yet
    lines = [f"M-JN-C0,{(start + timedelta(hours=i)).isoformat()},1.5,t,\n" for i in range(9)]
    path = _csv(tmp_path, lines)
    assert file_months(path) == [date(2019, 8, 1), date(2019, 9, 1)]
    report = import_readings_file(loaded, path, chunk_rows=2, policy=POLICY)
    loaded.commit()
    assert report.accepted == 9
    where = loaded.execute(
        text("SELECT tableoid::regclass::text, count(*) FROM readings GROUP BY 1")
    ).all()
    assert dict(where) == {"readings_2019_08": 4, "readings_2019_09": 5}


def test_file_months_are_the_months_that_hold_rows(tmp_path: Path) -> None:
    """A stray year adds its month, not the years between; refused future rows add none."""
    stamps = ["2019-08-31T23:00:00+00:00", "1990-05-10T00:00:00+08:00", "2999-01-01T00:00:00Z"]
    path = _csv(tmp_path, [f"M-JN-C0,{ts},1.5,t,\n" for ts in stamps])
    latest = datetime(2026, 1, 1, tzinfo=UTC)
    expected = [date(1990, 5, 1), date(2019, 8, 1), date(2019, 9, 1)]
    assert file_months(path, latest=latest) == expected
    parquet = tmp_path / "readings.parquet"
    pl.read_csv(path, infer_schema=False).with_columns(
        pl.col("ts").str.to_datetime(time_zone="UTC")
    ).write_parquet(parquet)
    assert file_months(parquet, latest=latest) == expected
