"""The emissions figures read from the hourly rollup (``emission_hours``) equal those grouped
from the raw readings, on a simulated month: every hour of every pollutant (status, means,
amounts, substitution), every account, the totals of every grouping and the annual permit
status; again after corrections (flags, values) and late readings were ingested (the rollup
kept at ingest), and the rollup rebuilt from the readings equals the one kept at ingest.

By default one simulated stack (its five analysers, 15-minute readings, calibration, fault,
maintenance and stop flags); ``KILNWATCH_FUZZ=long`` takes every stack of 14 enterprises.
"""

from __future__ import annotations

import csv
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _emissions_factory import (
    STACK_METERS,
    USCC,
    _registry_and_readings,
    stack_day_readings,
)
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kilnwatch.domain.periods import Period
from kilnwatch.emissions.annual import annual_permit_status
from kilnwatch.emissions.service import GROUPINGS, emissions_scope, stack_rows
from kilnwatch.identity import Principal, Role
from kilnwatch.ingest.permits import import_permits
from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.readings_file import import_readings_file
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import RawReading
from kilnwatch.reference.emissions import MONITORED_CARRIERS
from kilnwatch.sim.config import SimParams
from kilnwatch.sim.run import simulate_to_dir
from kilnwatch.store.models import EmissionHour, Meter
from kilnwatch.store.rollups.emission_hours import rebuild_emission_hours
from zone import POLICY, SHANGHAI

ADMIN = Principal("t", Role.ADMIN)
LONG = os.environ.get("KILNWATCH_FUZZ") == "long"
PARAMS = SimParams(seed=3, enterprises=14 if LONG else 2, days=31, start=date(2025, 3, 1),
                   output_format="csv")  # fmt: skip
MONTH = Period.containing("month", date(2025, 3, 1), SHANGHAI)
HOUR_FIELDS = ("status", "concentration_mg_m3", "flow_m3_per_h", "o2_pct", "corrected_mg_m3",
               "amount_kg", "substituted")  # fmt: skip


@pytest.fixture(scope="module")
def month_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulated month with the readings of its monitored analysers only (one stack by
    default): the emissions figures read nothing else."""
    folder = tmp_path_factory.mktemp("sim")
    simulate_to_dir(PARAMS, folder)
    with (folder / "meters.csv").open(encoding="utf-8") as fh:
        stacks: dict[str, list[str]] = {}
        for row in csv.DictReader(fh):
            if row["carrier"] in MONITORED_CARRIERS:
                stacks.setdefault(row["meter_code"].rsplit("-", 1)[0], []).append(row["meter_code"])
    kept = {c for codes in (stacks.values() if LONG else [min(stacks.values())]) for c in codes}
    lines = (folder / "readings.csv").read_text(encoding="utf-8").splitlines()
    rows = [lines[0]] + [line for line in lines[1:] if line.split(",", 1)[0] in kept]
    (folder / "readings.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def _figures(session: Session, source: str) -> dict[str, Any]:
    scope = emissions_scope(session, ADMIN, MONTH, source=source)
    hours = {
        (a.unit_id, p, f): getattr(h, f)
        for a in scope.accounts
        for p, h in a.hours.items()
        for f in HOUR_FIELDS
    }
    return {
        "hours": hours,
        "capture": {
            (a.unit_id, p): h.capture_pct for a in scope.accounts for p, h in a.hours.items()
        },  # fmt: skip
        "accounts": {a.unit_id: a.pollutants for a in scope.accounts},
        "stacks": stack_rows(scope),
        "totals": {by: [t.as_json() for t in scope.totals(session, by)] for by in GROUPINGS},
        "annual": annual_permit_status(session, ADMIN, MONTH),
    }


def _assert_same(session: Session) -> dict[str, Any]:
    raw, rolled = _figures(session, "readings"), _figures(session, "rollups")
    assert raw["hours"].keys() == rolled["hours"].keys()
    assert raw["hours"], "the month has stacks"
    for key, values in raw["hours"].items():
        assert np.array_equal(values, rolled["hours"][key], equal_nan=True), key
    for name in ("capture", "accounts", "stacks", "totals", "annual"):
        assert raw[name] == rolled[name], name
    return raw


def _stored_hours(session: Session) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in session.execute(
        select(EmissionHour.meter_id, EmissionHour.period_start, EmissionHour.readings,
               EmissionHour.valid, EmissionHour.stopped, EmissionHour.valid_sum,
               EmissionHour.total, EmissionHour.steps)
        .order_by(EmissionHour.meter_id, EmissionHour.period_start)
    )]  # fmt: skip


def _changes(session: Session) -> list[RawReading]:
    """Corrections and late readings of the first stack's SO2 and flow on 10 March (local):
    the 08:00-09:00 hour flagged C (calibration) after the fact, the 09:00-10:00 flow
    readings corrected, and a late SO2 reading at 10:07 (a new time stamp in its hour)."""
    codes = session.scalars(
        select(Meter.code).where(Meter.carrier.in_(["so2", "flue_gas_flow"])).order_by(Meter.code)
    ).all()
    so2 = next(c for c in codes if c.endswith("SO2"))
    flow = next(c for c in codes if c.endswith("FLUE_GAS_FLOW"))
    day = datetime(2025, 3, 10, tzinfo=SHANGHAI).astimezone(UTC)
    rows = [RawReading(so2, day + timedelta(hours=8, minutes=15 * k), 999.0, None, "C")
            for k in range(1, 5)]  # fmt: skip
    rows += [RawReading(flow, day + timedelta(hours=9, minutes=15 * k), 123_456.0, None, "N")
             for k in range(1, 5)]  # fmt: skip
    rows.append(RawReading(so2, day + timedelta(hours=10, minutes=7), 42.0, None, "N"))
    return rows


@pytest.mark.slow
def test_rollup_figures_equal_the_raw_ones_on_a_simulated_month(
    session: Session, month_dir: Path
) -> None:
    import_registry(session, month_dir)
    import_permits(session, month_dir / "permits.csv")
    import_readings_file(session, month_dir / "readings.csv", skip_invalid=False, policy=POLICY)
    session.commit()
    before = _assert_same(session)
    result = ingest_readings(session, _changes(session), "file", "corrections", policy=POLICY)
    assert (result.accepted, result.corrections) == (9, 8)
    session.commit()
    after = _assert_same(session)
    assert after["accounts"] != before["accounts"], "the changes moved the figures"
    kept = _stored_hours(session)
    session.execute(delete(EmissionHour))
    rebuild_emission_hours(session)
    assert _stored_hours(session) == kept
    session.rollback()


def test_a_bulk_load_continuing_a_stored_hour_is_rolled_up_as_from_the_readings(
    session: Session, tmp_path: Path
) -> None:
    """A day of 15-minute CEMS readings in two deliveries, the second starting inside an hour
    the first already holds readings of (02:15 and 02:30 stored, 02:45 onwards new): the
    second's inner hours are computed from the delivery in memory, its first hour from the
    database; the stored rollup equals the one rebuilt from the readings."""
    lines = ["meter_code,enterprise_uscc,unit_code,carrier,level,measurement,unit_of_measure,"
             "hj212_code"]  # fmt: skip
    lines += [f"{c},{USCC},CL1,{carrier},equipment,instant,{u},{h}"
              for c, carrier, u, h in STACK_METERS]  # fmt: skip
    readings = stack_day_readings()
    split = 10 * len(STACK_METERS)  # the first ten time steps: up to 02:30 local
    _registry_and_readings(session, tmp_path, lines, readings[:split])
    result = ingest_readings(session, readings[split:], "file", "rest", policy=POLICY)
    assert result.accepted == len(readings) - split
    session.commit()
    kept = _stored_hours(session)
    assert len(kept) == 24 * len(STACK_METERS)
    assert {r[2] for r in kept} == {4}  # four readings in every hour, the split one too
    session.execute(delete(EmissionHour))
    rebuild_emission_hours(session)
    assert _stored_hours(session) == kept
    session.rollback()
