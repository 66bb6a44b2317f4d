"""The disk full under the SQLite database (issue 22): a readings import that runs out of
space stops with a clear error (``store.disk_full``, naming the database) and exit code 2; the
database is intact (``PRAGMA integrity_check``, the audit chain) and nothing of the import is
stored; once space is freed the same import stores every reading once.

A small file system: a 4 MiB tmpfs when the test may mount one (root), else a file-size limit
(``RLIMIT_FSIZE``) on the import's process, which SQLite meets the same way (a write refused).
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fault_ingest import add_target, stored
from sqlalchemy import text
from typer.testing import CliRunner

from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.store.audit import check_chain
from kilnwatch.store.engine import make_engine, make_session_factory
from kilnwatch.store.migrate import upgrade

SMALL_FS_BYTES = 4 * 1024 * 1024
HEADROOM_BYTES = 128 * 1024
READINGS = 10_000
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def small_dir(tmp_path: Path) -> Iterator[tuple[Path, bool]]:
    """A folder on a small file system, and whether it is one (else: limit the writer)."""
    mount = tmp_path / "small"
    mount.mkdir()
    size = f"size={SMALL_FS_BYTES}"
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", size, "tmpfs", str(mount)], capture_output=True
    ).returncode == 0  # fmt: skip
    try:
        yield mount, mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(mount)], check=True)


def _limit(bytes_: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a refused write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (bytes_, bytes_))

    return apply


def _import(db: Path, csv: Path, limit: int | None) -> tuple[int, str]:
    """``kilnwatch import readings CSV``: exit code and error output. In this process unless a
    file-size limit is needed (then in a child process, which the limit binds alone)."""
    env = {"KILNWATCH_DATABASE_URL": f"sqlite:///{db}", "KILNWATCH_ENVIRONMENT": "test"}
    args = ["import", "readings", str(csv)]
    if limit is None:
        result = CliRunner().invoke(app, args, env=env)
        return result.exit_code, result.stderr
    code = "from kilnwatch.cli import app; app()"
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env={**os.environ, **env}, capture_output=True,
        text=True, timeout=120, preexec_fn=_limit(limit),
    )  # fmt: skip
    return done.returncode, done.stderr


def test_an_import_onto_a_full_disk_fails_clearly_and_leaves_the_database_usable(
    small_dir: tuple[Path, bool], tmp_path: Path
) -> None:
    folder, mounted = small_dir
    db = folder / "kw.sqlite"
    engine = make_engine(Settings(database_url=f"sqlite:///{db}", environment="test"))
    upgrade(engine)
    target = add_target(engine, "http")
    with engine.begin() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    csv = tmp_path / "readings.csv"
    with csv.open("w") as f:
        f.write("meter_code,ts,value,unit,flag\n")
        f.writelines(
            f"{target.meter_code},{(T0 + timedelta(minutes=i)).isoformat()},{i % 7 + 1},m3,\n"
            for i in range(READINGS)
        )
    filler = folder / "filler"
    limit = None
    if mounted:  # leave only a little room beside the database
        free = os.statvfs(folder)
        filler.write_bytes(b"\0" * max(0, free.f_bavail * free.f_frsize - HEADROOM_BYTES))
    else:
        limit = db.stat().st_size + HEADROOM_BYTES

    status, error = _import(db, csv, limit)

    assert status == 2, error[-2000:]
    assert "store.disk_full" in error and str(db) in error.replace("\n", "")
    assert "Traceback" not in error
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    with make_session_factory(engine)() as session:
        assert check_chain(session).intact
    assert stored(engine, target.meter_id) == (0, 0, 0)  # nothing of the import
    filler.unlink(missing_ok=True)

    status, error = _import(db, csv, None)

    assert status == 0, error[-2000:]
    rows, times, version = stored(engine, target.meter_id)
    figure = {"readings_in_file": READINGS, "stored_when_full": 0, "stored_after": times,
              "readings_doubled": rows - times,
              "small_fs": "tmpfs" if mounted else "rlimit"}  # fmt: skip
    print(f"\nFIGURE disk_full: {figure}")
    assert (rows, times, version) == (READINGS, READINGS, 1)
    engine.dispose()
