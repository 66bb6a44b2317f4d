"""``kilnwatch verify --jobs N``: chunks of enterprises checked in worker processes give the
same findings, in the same order, as one job (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from kilnwatch.cli.verify import app
from kilnwatch.config import Settings
from kilnwatch.domain.periods import parse_period
from kilnwatch.ingest.folder import import_folder
from kilnwatch.ingest.validate import ValidationPolicy
from kilnwatch.sim import SimParams, simulate_to_dir
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import FindingRecord
from kilnwatch.verify.parallel import chunks
from kilnwatch.verify.run import RunReport, verify_period

PARAMS = SimParams(
    seed=11, enterprises=6, days=6, start=date(2025, 3, 10), interval_min=60,
    faulty_enterprise_fraction=0.6, output_format="csv",
)  # fmt: skip
MONTH = parse_period("2025-03", ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def province_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("parallel_province")
    simulate_to_dir(PARAMS, out)
    return out


def _load(engine: Engine, folder: Path) -> None:
    with unit_of_work(make_session_factory(engine)) as session:
        import_folder(session, folder, policy=ValidationPolicy(local_tz="Asia/Shanghai"))


def _signature(report: RunReport) -> list[tuple[str, int, str, str]]:
    return [(f.fingerprint, f.enterprise_id, f.rule_code, f.severity) for f in report.findings]


def test_chunks_keep_order_and_cover_every_enterprise() -> None:
    ids = list(range(1, 24))
    parts = chunks(ids, 2)
    assert [i for p in parts for i in p] == ids and len(parts) == 2
    assert chunks([5], 4) == [[5]]
    r = runner.invoke(app, ["--period", "2025-03", "--jobs", "0"])
    assert r.exit_code == 2 and "--jobs" in r.output


def test_jobs_give_the_findings_of_one_job(
    settings: Settings, engine: Engine, province_dir: Path
) -> None:
    _load(engine, province_dir)
    factory = make_session_factory(engine)
    with factory() as session:
        serial = verify_period(session, MONTH)
        session.rollback()  # both runs on the same committed data
    with factory() as session:
        parallel = verify_period(session, MONTH, jobs=2)
        session.rollback()
    assert serial.enterprises == parallel.enterprises == PARAMS.enterprises
    assert serial.findings, "the simulated faults should give findings"
    assert _signature(parallel) == _signature(serial)
    assert [f.evidence for f in parallel.findings] == [f.evidence for f in serial.findings]
    assert parallel.readings == serial.readings > 0
    # the command: stores them
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url, "COLUMNS": "200"}
    r = runner.invoke(app, ["--period", "2025-03", "--jobs", "2"], env=env)
    assert r.exit_code == 0, r.output
    stored = len(serial.findings)
    assert f"{PARAMS.enterprises} enterprises, {stored} findings ({stored} new" in r.output
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(FindingRecord)) == stored


runner = CliRunner()
