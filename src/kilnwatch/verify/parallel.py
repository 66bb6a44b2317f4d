"""Verification in parallel across enterprises: the enterprise checks in worker processes.

``kilnwatch verify --jobs N`` splits the enterprises (in id order) into N contiguous chunks
(more when a chunk would hold more than ``--chunk-readings`` readings:
:func:`kilnwatch.verify.enterprises.enterprise_chunks`) and runs each chunk's enterprise
checks (:func:`kilnwatch.verify.enterprises.check_enterprises`) in a process of its own, with
its own engine and session, reading committed data. A process sends back its findings and
the enterprises' summaries (:func:`kilnwatch.verify.enterprises.summary`: the contexts without
their readings; the checks over every enterprise need the meters' totals and daily figures,
the month's source rows and what they read of the readings, not the raw series). The caller
puts the chunks back in enterprise order and runs the checks over every enterprise, the sync
of findings and the scores in its own session, so the findings are those of one job, in the
same order.

Processes are forked from a fork server (``forkserver``): a clean single-threaded process
that imports this module once per parent process, so workers inherit no database connection
or thread of the parent and start without importing the package again; the first pool of a
process pays that import (about two seconds of CPU), and a worker's first chunk loads the
reference tables; the pool is kept for the process's next runs (the next month). So
``--jobs`` pays off for provinces, not for a handful of enterprises.
"""

from __future__ import annotations

import math
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from sqlalchemy.orm import Session

from kilnwatch.analytics.meters import EnterpriseInfo, load_enterprises
from kilnwatch.domain.periods import Period
from kilnwatch.store.engine import engine_for_url
from kilnwatch.verify.context import PeriodWindow
from kilnwatch.verify.enterprises import (
    Checked,
    Loaded,
    Progress,
    check_enterprises,
    enterprise_chunks,
    summary,
)
from kilnwatch.verify.parameters import VerifySettings

CHUNKS_PER_JOB = 1
"""Chunks of enterprises per worker process. One: a chunk reads its meters' readings by the
primary key, which touches most pages of the month's partition whatever the chunk's size
(rows are stored in arrival order, all meters of a time step together), so every extra chunk
reads the month again (measured: the same 25 enterprises in 8 chunks took 7.9 s, in 2 chunks
5.6 s, one after the other in one process, under load)."""


def chunks(ids: list[int], jobs: int) -> list[list[int]]:
    """``ids`` in order, cut into about ``CHUNKS_PER_JOB * jobs`` contiguous chunks."""
    size = max(1, math.ceil(len(ids) / (CHUNKS_PER_JOB * jobs)))
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def check_chunk(url: str, month: Period, ids: list[int], settings: VerifySettings) -> Checked:
    """The enterprise checks of the enterprises ``ids`` for ``month``, in a session of its own
    on the database at ``url`` (run in a worker process)."""
    engine = engine_for_url(url)
    try:
        with Session(engine) as session:
            window = PeriodWindow(month)
            infos = load_enterprises(session, ids)
            loaded = Loaded.load_meters(session, window, [m.id for i in infos for m in i.meters])
            checked = check_enterprises(session, infos, window, settings, loaded)
    finally:
        engine.dispose()
    checked.contexts = [summary(c) for c in checked.contexts]
    return checked


def check_in_processes(
    session: Session,
    infos: list[EnterpriseInfo],
    window: PeriodWindow,
    settings: VerifySettings,
    jobs: int,
    progress: Progress | None = None,
    chunk_readings: int | None = None,
) -> Checked:
    """The enterprise checks of ``infos`` in ``jobs`` processes, merged in ``infos`` order:
    ``jobs`` chunks, or chunks of at most ``chunk_readings`` readings when there are more."""
    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    parts = chunks([i.id for i in infos], jobs)
    if chunk_readings is not None:
        bounded = enterprise_chunks(session, infos, window, chunk_readings)
        if len(bounded) > len(parts):
            parts = [[i.id for i in part] for part in bounded]
    merged = Checked()
    done = 0
    pool = _pool(jobs)
    try:
        futures: list[Future[Checked]] = [
            pool.submit(check_chunk, url, window.month, part, settings) for part in parts
        ]
        for future in futures:  # in submission order: enterprise order, deterministic
            part = future.result()
            merged.extend(part)
            done += len(part.found_by)
            if progress:
                progress(done, len(infos))
    except BrokenProcessPool:
        _POOLS.pop(jobs, None)
        raise
    return merged


_POOLS: dict[int, ProcessPoolExecutor] = {}


def _pool(jobs: int) -> ProcessPoolExecutor:
    """The process's pool of ``jobs`` workers, kept for its next runs (a month after another):
    a worker's first chunk pays for loading the reference tables and lazily imported
    modules, later chunks do not."""
    pool = _POOLS.get(jobs)
    if pool is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["__main__", __name__])
        pool = _POOLS[jobs] = ProcessPoolExecutor(max_workers=jobs, mp_context=context)
    return pool
