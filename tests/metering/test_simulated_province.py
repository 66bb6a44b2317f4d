"""On a simulated province with planted metering gaps (a seed the rules were not tuned on),
each gap and operation event is found and nothing else is (benchmarks/metering.py at scale)."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from kilnwatch.config import Settings
from kilnwatch.identity import Principal, Role
from kilnwatch.ingest.folder import import_folder
from kilnwatch.ingest.validate import ValidationPolicy
from kilnwatch.metering import OperationSettings, enterprise_census, enterprise_operation
from kilnwatch.metering.evaluate import other_gaps, score
from kilnwatch.metering.imports import import_metering
from kilnwatch.sim import SimParams, simulate_to_dir
from kilnwatch.store.engine import make_engine, make_session_factory
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.models import Enterprise

PARAMS = SimParams(
    seed=31, enterprises=8, days=3, start=date(2025, 3, 1), output_format="csv",
    wrong_accuracy_fraction=0.3, silent_meter_fraction=0.05, meter_replacement_fraction=0.08,
)  # fmt: skip


def _labels(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_every_planted_gap_is_found_and_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    simulate_to_dir(PARAMS, out)
    s = Settings(database_url=f"sqlite:///{tmp_path / 'kw.sqlite'}", environment="test")
    engine = make_engine(s)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        import_folder(session, out, policy=ValidationPolicy(local_tz=s.timezone))
        import_metering(session, out)
        censuses = enterprise_census(session, Principal("t", Role.ADMIN), PARAMS.start)
        start = datetime.combine(PARAMS.start, datetime.min.time(), tzinfo=s.zone)
        start = start.astimezone(UTC)
        ids = list(session.scalars(select(Enterprise.id)))
        ops = enterprise_operation(session, ids, start, start + timedelta(days=PARAMS.days))
    engine.dispose()
    settings = OperationSettings()
    kinds = score(censuses, ops.values(), _labels(out / "metering_labels.csv"),
                  _labels(out / "labels.csv"), silent_h=settings.silent_h,
                  stuck_h=settings.stuck_h)  # fmt: skip
    planted = ("missing_instrument", "wrong_accuracy_class", "overdue_calibration",
               "silent_meter", "meter_replaced")  # fmt: skip
    assert all(kinds[k]["labelled"] for k in planted), kinds
    for kind, result in kinds.items():
        assert (result["missed"], result["extra"]) == ([], []), (kind, result)
    assert other_gaps(censuses) == {}
