"""Running verification: a batch over a period, or incrementally for what just changed.

Each enterprise's checks run first (:mod:`kilnwatch.verify.enterprises`, in chunks of
enterprises of bounded readings; in parallel processes with ``jobs`` > 1,
:mod:`kilnwatch.verify.parallel`), then the checks over every enterprise of the run; the
findings are synced by fingerprint and the credibility score of each (enterprise, period) is
recomputed from its stored findings, in enterprise order.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from kilnwatch.analytics.meters import load_enterprises
from kilnwatch.domain.periods import Period
from kilnwatch.store.models import VerificationRun
from kilnwatch.store.models.base import utcnow
from kilnwatch.store.repos import findings as repo
from kilnwatch.verify.checks import after_province_checks, run_province_checks
from kilnwatch.verify.context import PeriodWindow
from kilnwatch.verify.enterprises import CHUNK_READINGS, Progress, check_in_chunks
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.parallel import check_in_processes
from kilnwatch.verify.parameters import VerifySettings
from kilnwatch.verify.score import credibility
from kilnwatch.verify.settings import verify_settings
from kilnwatch.verify.unchecked import Unchecked


@dataclass
class RunReport:
    run_id: int
    findings: list[Finding] = field(default_factory=list)
    new: int = 0
    updated: int = 0
    closed: int = 0
    enterprises: int = 0
    seconds: float = 0.0
    readings: int = 0
    unchecked: list[Unchecked] = field(default_factory=list)
    """Statistical items accepted at import that no check could compare (said, not skipped)."""


def verify_period(
    session: Session,
    period: Period,
    enterprise_ids: Sequence[int] | None = None,
    settings: VerifySettings | None = None,
    progress: Progress | None = None,
    trigger: str = "batch",
    jobs: int = 1,
    chunk_readings: int | None = CHUNK_READINGS,
) -> RunReport:
    """Verify every (or the given) enterprise for the month ``period``; returns what changed.

    Verification is monthly: a longer period is verified month by month
    (``period.split("month")``, as ``kilnwatch verify`` does). The enterprises are read and
    checked in chunks of at most ``chunk_readings`` readings of the month (None: all at once;
    :func:`~kilnwatch.verify.enterprises.check_in_chunks`), keeping of each only its findings
    and summary: the same findings as in one chunk. ``jobs`` > 1: the enterprise checks run in
    that many processes over chunks of enterprises, each with its own session on committed
    data (:mod:`kilnwatch.verify.parallel`); the checks over every enterprise, the findings
    and the scores are then done here, in this session, in enterprise order: the same findings
    as with one job.
    """
    settings = settings or verify_settings()
    window = PeriodWindow(period)
    started = time.perf_counter()
    run = VerificationRun(trigger=trigger, periods=window.period, started_at=utcnow())
    session.add(run)
    session.flush()
    report = RunReport(run.id)
    infos = load_enterprises(session, enterprise_ids)
    if jobs < 2 or len(infos) < 2:
        whole = enterprise_ids is None
        checked = check_in_chunks(session, infos, window, settings, chunk_readings, whole, progress)
    else:
        checked = check_in_processes(
            session, infos, window, settings, jobs, progress, chunk_readings
        )  # fmt: skip
    report.readings, report.unchecked = checked.readings, checked.unchecked
    found_by = checked.found_by
    for f in run_province_checks(checked.contexts, [f for fs in found_by.values() for f in fs]):
        found_by[f.enterprise_id].append(f)
    contexts = {ctx.info.id: ctx for ctx in checked.contexts}
    for info in infos:
        found_by[info.id] = after_province_checks(contexts.get(info.id), found_by[info.id])
        counts = repo.sync_findings(session, found_by[info.id], [(info.id, window.period)], run.id)
        _score(session, info.id, window.period, settings)
        report.findings += found_by[info.id]
        report.new, report.updated = report.new + counts.new, report.updated + counts.updated
        report.closed += counts.closed
    report.enterprises = len(infos)
    report.seconds = time.perf_counter() - started
    run.enterprises, run.findings_new = report.enterprises, report.new
    run.findings_updated, run.findings_closed = report.updated, report.closed
    run.finished_at, run.seconds = utcnow(), report.seconds
    session.flush()
    return report


def _score(session: Session, enterprise_id: int, period: str, settings: VerifySettings) -> None:
    scored = credibility(repo.findings_of(session, enterprise_id, period), settings)
    repo.save_score(session, enterprise_id, period, scored.score, scored.deductions)


def verify_changed(
    session: Session,
    enterprise_ids: Iterable[int],
    periods: Iterable[Period],
    settings: VerifySettings | None = None,
) -> list[RunReport]:
    """Re-verify the enterprises whose data changed, for the periods it touched (called by
    ingestion after a batch is stored; the caller commits)."""
    ids = sorted(set(enterprise_ids))
    if not ids:
        return []
    return [
        verify_period(session, p, ids, settings, trigger="incremental")
        for p in sorted(set(periods), key=lambda p: p.first)
    ]
