"""Figures shared by every page and every user, computed once per period for all enterprises
and cached; a page keeps the enterprises of its jurisdiction.

The province overview, a city, a county, the public page and an enterprise page all read
the same monthly rollups. Computing them per user scope made the first view of each city
(and of the province for each role) cost the whole computation again; here it is done once
per period for all enterprises (``EVERYONE``), and a page narrows the result to the ids that
:func:`~kilnwatch.store.repos.figures.enterprises_in` gives under the user's own principal,
so scoping stays with ``store/repos/scope.py``.

Figures of a period are kept while that period's data is unchanged
(:func:`~kilnwatch.store.repos.figures.period_fingerprint`); open findings and meters' last
readings follow the data version.

:class:`Prewarmer` (started by ``kilnwatch serve``) computes the figures of the newest month
in the background whenever the data version moves, so that no user waits for them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from kilnwatch.identity import Principal, Role
from kilnwatch.store.repos.figures import (
    Coverage,
    MeterSeen,
    Where,
    coverage,
    data_version,
    meters_last_seen,
    open_findings,
    period_fingerprint,
)
from kilnwatch.web.services.cache import FigureCache
from kilnwatch.web.services.figures import FigureSet, compute_figures
from kilnwatch.web.services.periods import in_year, period_of_kind, trailing_year
from kilnwatch.web.services.region import BASE_YEAR, default_month
from kilnwatch.web.services.seam import Period, UnitAccount, unit_accounts

log = logging.getLogger(__name__)
T = TypeVar("T")

EVERYONE = Principal(subject="page-figures", role=Role.ADMIN)
"""Whose view the shared figures are computed in: every enterprise."""
ALL = Where(EVERYONE)


class Cacher(Protocol):
    """A page environment (``PageEnv``) or the prewarmer: a session and a cache."""

    db: Session

    def cached(
        self, key: Hashable, compute: Callable[[], T], period: Any = None, keep: bool = False
    ) -> T: ...


def shared_figures(env: Cacher, period: Period) -> FigureSet:
    """Entry-meter figures of every enterprise over ``period``."""

    def compute() -> FigureSet:
        return compute_figures(env.db, ALL, period)

    return env.cached(("figs", period.label), compute, period, keep=True)


def shared_accounts(env: Cacher, period: Period) -> list[UnitAccount]:
    """Unit accounts of every production unit over ``period``."""

    def compute() -> list[UnitAccount]:
        return unit_accounts(env.db, EVERYONE, period)

    return env.cached(("accounts", period.label), compute, period, keep=True)


def shared_open_findings(env: Cacher) -> list[tuple[int, str, int, float]]:
    """(enterprise, severity, count, Σ tce) of every open finding."""
    return env.cached(("open-findings",), lambda: open_findings(env.db, ALL), keep=True)


def shared_meters_seen(env: Cacher) -> list[MeterSeen]:
    """Every meter with the time of its newest reading."""
    return env.cached(("meters-seen",), lambda: meters_last_seen(env.db, ALL), keep=True)


def shared_coverage(env: Cacher, period: Period) -> dict[int, Coverage]:
    """Every meter's days, readings and busiest day over ``period`` (daily rollups), by meter
    (a page looks up the meters of its jurisdiction)."""

    def compute() -> dict[int, Coverage]:
        return {c.meter_id: c for c in coverage(env.db, ALL, period.start, period.end)}

    return env.cached(("coverage", period.label), compute, period, keep=True)


@dataclass
class _Direct:
    """:class:`Cacher` outside a request: one session, the data version read once."""

    db: Session
    cache: FigureCache
    version: tuple[int, ...]

    def cached(
        self, key: Hashable, compute: Callable[[], T], period: Any = None, keep: bool = False
    ) -> T:
        mark = None
        if period is not None:
            mark = lambda: period_fingerprint(self.db, period.start, period.end)  # noqa: E731
        return self.cache.get(key, self.version, compute, mark, keep)


def warm(session: Session, cache: FigureCache, tz: str) -> tuple[int, ...]:
    """Compute (or revalidate) what the region and quality pages of the newest month need:
    its figures, the same month a year before and in the base year, the trend, the unit
    accounts, the meters' coverage, open findings and meters' last readings. Returns the
    data version it warmed."""
    from zoneinfo import ZoneInfo

    version = data_version(session)
    env = _Direct(session, cache, version)
    month = period_of_kind("month", default_month(session, ALL, tz), ZoneInfo(tz))
    for p in (month, month.previous_year(), in_year(month, BASE_YEAR), trailing_year(month)):
        shared_figures(env, p)
    shared_accounts(env, month)
    shared_coverage(env, month)
    shared_open_findings(env)
    shared_meters_seen(env)
    return version


class Prewarmer:
    """A daemon thread that calls :func:`warm` when the data version has moved (checked
    every ``interval_s``)."""

    def __init__(
        self, factory: sessionmaker[Session], cache: FigureCache, tz: str, interval_s: float = 5.0
    ) -> None:
        self.factory, self.cache, self.tz, self.interval_s = factory, cache, tz, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="figure-prewarmer", daemon=True)
        self.warmed: tuple[int, ...] | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self.factory() as session:
                    if data_version(session) != self.warmed:
                        self.warmed = warm(session, self.cache, self.tz)
            except Exception:  # a page computes what is missing; keep trying
                log.exception("prewarming page figures failed")
            self._stop.wait(self.interval_s)
