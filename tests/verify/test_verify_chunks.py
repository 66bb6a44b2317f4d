"""Verification in chunks of enterprises (bounded memory): a province read and checked a
chunk at a time gives the findings and scores of one chunk (SQLite and PostgreSQL), and the
checks over every enterprise judge the enterprises' summaries as they judge their full
contexts (peer plants, in memory)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from tempfile import TemporaryDirectory
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import Engine, select
from test_child_peers import _plant as furnace_plant
from test_output_peers import _plant as clinker_plant
from test_smoothed_peers import _plant as smoothing_plant
from typer.testing import CliRunner

from kilnwatch.analytics.meters import load_enterprises
from kilnwatch.analytics.readings import load_readings, series_by_meter, split_period_readings
from kilnwatch.cli.verify import app
from kilnwatch.config import Settings
from kilnwatch.domain.periods import parse_period
from kilnwatch.ingest.folder import import_folder
from kilnwatch.ingest.validate import ValidationPolicy
from kilnwatch.sim import SimParams, simulate_to_dir
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import CredibilityScore
from kilnwatch.verify.checks import after_province_checks, run_checks, run_province_checks
from kilnwatch.verify.context import EnterpriseContext, PeriodWindow
from kilnwatch.verify.detectors.balance import CHILD_LOW, PARENT_EXCEEDS
from kilnwatch.verify.detectors.carrier_peers import CARRIER_PEERS
from kilnwatch.verify.detectors.peers import OUTPUT
from kilnwatch.verify.detectors.profile import SMOOTHED
from kilnwatch.verify.enterprises import OPENING_MARGIN, enterprise_chunks, summary
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.run import RunReport, verify_period

PARAMS = SimParams(
    seed=5, enterprises=7, days=8, start=date(2025, 3, 8), interval_min=60,
    faulty_enterprise_fraction=0.6, smoothed_meter_fraction=0.3, output_format="csv",
)  # fmt: skip
MONTH = parse_period("2025-03", ZoneInfo("Asia/Shanghai"))
runner = CliRunner()


@pytest.fixture(scope="module")
def province_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("chunked_province")
    simulate_to_dir(PARAMS, out)
    return out


def _signature(report: RunReport) -> list[tuple[object, ...]]:
    return [
        (f.fingerprint, f.enterprise_id, f.rule_code, f.severity, f.evidence)
        for f in report.findings
    ]


def _without_id(deduction: dict[str, object]) -> dict[str, object]:
    """A score's deduction without the finding's row id (PostgreSQL does not reuse ids)."""
    return {k: v for k, v in deduction.items() if k != "finding_id"}


def _verified(
    engine: Engine, chunk_readings: int | None, jobs: int = 1
) -> tuple[RunReport, list[object]]:
    """A run over the committed province (rolled back) and the scores it stored."""
    with make_session_factory(engine)() as session:
        report = verify_period(session, MONTH, chunk_readings=chunk_readings, jobs=jobs)
        scores = session.scalars(select(CredibilityScore).order_by(CredibilityScore.enterprise_id))
        stored = [
            (s.enterprise_id, s.period, s.score, [_without_id(d) for d in s.deductions])
            for s in scores
        ]
        session.rollback()
    return report, stored


def test_chunks_of_one_or_two_enterprises_give_the_findings_and_scores_of_one_chunk(
    settings: Settings, engine: Engine, province_dir: Path
) -> None:
    with unit_of_work(make_session_factory(engine)) as session:
        import_folder(session, province_dir, policy=ValidationPolicy(local_tz="Asia/Shanghai"))
    whole, whole_scores = _verified(engine, None)
    assert whole.findings and whole.readings > 0, "the simulated faults should give findings"
    about_two = 2 * whole.readings // whole.enterprises  # readings of about two enterprises
    with make_session_factory(engine)() as session:
        infos = load_enterprises(session, None)
        window = PeriodWindow(MONTH)
        one_each = enterprise_chunks(session, infos, window, 1)  # an enterprise is never split
        assert [len(c) for c in one_each] == [1] * PARAMS.enterprises
        assert [i.id for c in one_each for i in c] == [i.id for i in infos]
        assert 1 < len(enterprise_chunks(session, infos, window, about_two)) < len(infos)
        assert len(enterprise_chunks(session, infos, window, whole.readings)) == 1
    _split_reads_what_meters_read(engine)
    for chunk_readings, jobs in ((1, 1), (about_two, 1), (about_two, 2)):
        chunked, chunked_scores = _verified(engine, chunk_readings, jobs)
        assert _signature(chunked) == _signature(whole), chunk_readings
        assert chunked_scores == whole_scores
        assert (chunked.readings, chunked.enterprises) == (whole.readings, whole.enterprises)
    # the command takes the chunk size
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url, "COLUMNS": "200"}
    r = runner.invoke(app, ["--period", "2025-03", "--chunk-readings", "1"], env=env)
    assert r.exit_code == 0, r.output
    n = len(whole.findings)
    assert f"{PARAMS.enterprises} enterprises, {n} findings ({n} new" in r.output
    r = runner.invoke(app, ["--period", "2025-03", "--chunk-readings", "0"], env=env)
    assert r.exit_code == 2 and "--chunk-readings" in r.output


def _split_reads_what_meters_read(engine: Engine) -> None:
    """The month by one scan into a file per group of meters (a meter in no group left out)
    gives each meter the series its own read gives, flags and versions included."""
    window = PeriodWindow(MONTH)
    start, end = window.start_at - OPENING_MARGIN, window.end_at
    with make_session_factory(engine)() as session, TemporaryDirectory() as folder:
        meters = sorted(m.id for i in load_enterprises(session, None) for m in i.meters)
        group_of = {m: n % 3 for n, m in enumerate(meters[1:])}  # meters[0] in none
        files = split_period_readings(session, start, end, group_of, 3, Path(folder))
        for n, rows in enumerate(files):
            ids = [m for m, g in group_of.items() if g == n]
            split, own = series_by_meter(rows.load()), load_readings(session, ids, start, end)
            assert sorted(split) == sorted(own) and own
            for m, series in own.items():
                for name in ("ts_s", "value", "flag", "versions", "first_value", "lag_s"):
                    assert np.array_equal(getattr(split[m], name), getattr(series, name)), name
        assert {i for f in files for i in series_by_meter(f.load())} == set(group_of)
        assert any(f for rows in files for f in rows.load().flag), "flags should be read"


Plant = Callable[..., EnterpriseContext]


def _province(plant: Plant, seed: int, plants: int, fault: dict[str, object]) -> list[Finding]:
    """The findings of the checks over every enterprise on full contexts, asserted equal to
    those on the enterprises' summaries (and the enterprises' findings after them)."""
    rng = np.random.default_rng(seed)
    contexts = [plant(i, rng, **(fault if i == 0 else {})) for i in range(plants)]
    own = [f for ctx in contexts for f in run_checks(ctx)]
    summaries = [summary(ctx) for ctx in contexts]
    assert all(m.series.size == 0 and m.qty.size == 0 for s in summaries for m in s.meters.values())
    found = run_province_checks(contexts, own)
    assert run_province_checks(summaries, own) == found
    for ctx, kept in zip(contexts, summaries, strict=True):
        mine = [f for f in [*own, *found] if f.enterprise_id == ctx.info.id]
        assert after_province_checks(kept, list(mine)) == after_province_checks(ctx, mine)
    return found


@pytest.mark.parametrize(
    ("plant", "seed", "plants", "fault", "codes"),
    [
        (furnace_plant, 5, 10, {"child_low": 0.15, "from_h": 0}, {CHILD_LOW, PARENT_EXCEEDS}),
        (clinker_plant, 12, 10, {"overstated": 0.06}, {OUTPUT}),
        (clinker_plant, 12, 10, {"coal_low": 0.08}, {CARRIER_PEERS}),
        (smoothing_plant, 3, 8, {"smoothed": True}, {SMOOTHED}),
    ],
    ids=["submeter_peers", "output_peers", "carrier_peers", "smoothed_peers"],
)
def test_summaries_give_the_peer_findings_of_full_contexts(
    plant: Plant, seed: int, plants: int, fault: dict[str, object], codes: set[str]
) -> None:
    found = _province(plant, seed, plants, fault)
    assert {f.rule_code for f in found if f.enterprise_id == 0} == codes
