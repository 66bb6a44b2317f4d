"""``kilnwatch import readings``: CSV and Parquet, all-or-nothing or --skip-invalid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kilnwatch.config import Settings
from kilnwatch.errors import ImportRejected, InputError
from kilnwatch.ingest.readings_file import import_readings_file
from kilnwatch.ingest.registry import import_registry
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
