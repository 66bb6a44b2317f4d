"""Archiving old months of readings to Parquet (``kilnwatch db archive``) and reading them
back beside the live table (``analytics/archive.py``, ``export readings --archive``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kilnwatch.analytics.archive import read_readings
from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.errors import ArchiveError
from kilnwatch.ingest.registry import import_registry
from kilnwatch.store import archive, partitions
from kilnwatch.store.models import Meter
from kilnwatch.store.staging import FRAME_SCHEMA, store_frame

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
ON_POSTGRESQL = pytest.mark.parametrize(
    "settings", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
# archiving takes every month before the cut, so the months other tests left as (empty)
# partitions in the session's shared database would be archived too: a database of its own
ON_OWN_POSTGRESQL = pytest.mark.parametrize(
    "settings", [pytest.param("postgresql-own", marks=pytest.mark.postgres)], indirect=True
)
runner = CliRunner()
START, END = datetime(2018, 11, 1, tzinfo=UTC), datetime(2019, 2, 1, tzinfo=UTC)


def _frame(meter_id: int, first: datetime, hours: int, value0: float) -> pl.DataFrame:
    stamps = [first + timedelta(hours=6 * h) for h in range(hours)]
    n = len(stamps)
    return pl.DataFrame(
        {"meter_id": [meter_id] * n, "ts": stamps, "value": [value0 + h for h in range(n)],
         "flag": ["N"] * n, "source": [1] * n, "batch_id": [None] * n,
         "received_at": [first] * n, "part": [0] * n},
        schema=FRAME_SCHEMA,
    )  # fmt: skip


@pytest.fixture
def meters(session: Session) -> list[int]:
    """Two meters with readings over November 2018 – January 2019, and a correction."""
    import_registry(session, REGISTRY)
    ids = list(session.scalars(select(Meter.id).order_by(Meter.id)).all()[:2])
    for n, m in enumerate(ids):
        store_frame(session, _frame(m, START + timedelta(days=20), 4 * 60, 100.0 * n))
    store_frame(session, _frame(ids[0], START + timedelta(days=20), 1, 55.5))  # version 2
    session.commit()
    return ids


def _export(env: dict[str, str], out: Path, *extra: str) -> str:
    args = ["export", "readings", "--start", "2018-11-01T00:00+00:00",
            "--end", "2019-02-01T00:00+00:00", "--out", str(out), *extra]  # fmt: skip
    r = runner.invoke(app, args, env=env)
    assert r.exit_code == 0, r.output
    return out.read_text(encoding="utf-8")


def test_read_readings_keeps_the_latest_version(session: Session, meters: list[int]) -> None:
    frame = read_readings(session, meters, START, END)
    assert frame.height == 2 * 4 * 60
    first = frame.filter(pl.col("meter_id") == meters[0]).row(0, named=True)
    assert (first["version"], first["value"]) == (2, 55.5)
    assert frame.get_column("meter_id").is_sorted()


@ON_OWN_POSTGRESQL
def test_archive_months_then_read_them_beside_the_live_table(
    settings: Settings, engine: Engine, session: Session, meters: list[int], tmp_path: Path
) -> None:
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url}
    before = read_readings(session, meters, START, END)
    exported = _export(env, tmp_path / "live.csv")
    session.rollback()
    folder = tmp_path / "archive"
    r = runner.invoke(app, ["db", "archive", "--before", "2019-01", "--to", str(folder)], env=env)
    assert r.exit_code == 0, r.output
    manifest = archive.read_manifest(folder)
    assert sorted(manifest) == ["2018-11", "2018-12"]
    assert archive.check_archive(folder) == []
    assert (
        sum(m.rows for m in manifest.values())
        == 4 * 60 * 2 + 1 - before.filter(pl.col("ts") >= datetime(2019, 1, 1, tzinfo=UTC)).height
    )
    with engine.connect() as conn:
        months = partitions.monthly_partitions(conn)
        assert date(2018, 12, 1) not in months and date(2019, 1, 1) in months
        live = conn.execute(text("SELECT count(*) FROM readings WHERE ts < '2019-01-01Z'"))
        assert live.scalar() == 0
    # analysis still reads them: the same rows, from the archive and the live table
    after = read_readings(session, meters, START, END, folder)
    assert after.equals(before)
    assert read_readings(session, meters, START, END).height < before.height
    assert _export(env, tmp_path / "both.csv", "--archive", str(folder)) == exported
    # a tampered file is found by the check
    path = folder / manifest["2018-11"].file
    path.write_bytes(path.read_bytes()[:-1] + b"x")
    assert archive.check_archive(folder) == ["2018-11: readings_2018_11.parquet does not match "
                                             "its checksum"]  # fmt: skip
    # an archived month is not archived again into the same folder
    store_frame(session, _frame(meters[0], datetime(2018, 12, 30, tzinfo=UTC), 2, 9.0))
    session.commit()
    with engine.begin() as conn, pytest.raises(ArchiveError, match="already in the archive"):
        archive.archive_before(conn, date(2019, 1, 1), folder)


@ON_POSTGRESQL
def test_a_file_that_does_not_read_back_keeps_the_partition(
    engine: Engine, meters: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def short(path: Path) -> tuple[object, ...]:
        n, *rest = real(path)
        return (n - 1, *rest)

    real = archive._file_figures
    monkeypatch.setattr(archive, "_file_figures", short)
    with pytest.raises(ArchiveError, match="the partition is kept"), engine.begin() as conn:
        archive.archive_before(conn, date(2018, 12, 1), tmp_path)
    with engine.connect() as conn:
        assert date(2018, 11, 1) in partitions.monthly_partitions(conn)
    assert not (tmp_path / "readings_2018_11.parquet").exists()
    assert archive.read_manifest(tmp_path) == {}


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_archive_on_sqlite_does_nothing(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url}
    r = runner.invoke(app, ["db", "archive", "--before", "2019-01", "--to", str(tmp_path)], env=env)
    assert r.exit_code == 0 and "nothing to do" in r.output
    r = runner.invoke(app, ["db", "archive", "--before", "2019", "--to", str(tmp_path)], env=env)
    assert r.exit_code == 2
