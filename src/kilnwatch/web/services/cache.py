"""A per-process cache of computed figures, valid while the data they come from is unchanged.

Figures of a scope and period are recomputed when :func:`store.repos.figures.data_version`
changes (a new delivery, verification run or registry row). Under continuous ingestion that
would be every few seconds, so an entry younger than ``refresh_s`` is served even when the
version moved: pages are then at most ``refresh_s`` behind, and say "as of" when.

A figure of one period may also carry a *fingerprint* of the data of that period
(:func:`store.repos.figures.period_fingerprint`): when the data version moved, the
fingerprint is read again (a few milliseconds) and, if the period's own data did not change,
the entry is kept and re-stamped with the new version. So deliveries for this month do not
recompute last year's or last month's figures.

A figure is computed by one request at a time: others asking for the same key meanwhile wait
for that result instead of computing it again (ten users opening the overview together cost
one computation, not ten competing for the same cores).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from kilnwatch.store.repos.figures import data_version

T = TypeVar("T")


@dataclass
class _Entry:
    version: tuple[int, ...]
    made_at: float
    value: Any
    fingerprint: Any = None
    keep: bool = False


class FigureCache:
    def __init__(self, refresh_s: float = 30.0, max_entries: int = 512, max_kept: int = 64) -> None:
        self.refresh_s = refresh_s
        self.max_entries = max_entries
        self.max_kept = max_kept
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Event] = {}
        self.hits = 0
        self.misses = 0
        self.revalidated = 0

    def get(
        self,
        key: Hashable,
        version: tuple[int, ...],
        compute: Callable[[], T],
        fingerprint: Callable[[], Any] | None = None,
        keep: bool = False,
    ) -> T:
        """The entry of ``key`` if still valid for ``version``, else ``compute()``; with
        ``fingerprint``, an entry of an older version whose fingerprint is unchanged is kept.
        A ``keep`` entry (the figures every page shares, a few per period) is not evicted to
        make room: only replaced by a newer computation."""
        while True:
            now = time.monotonic()
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and (
                    entry.version == version or now - entry.made_at < self.refresh_s
                ):
                    self._entries.move_to_end(key)
                    self.hits += 1
                    value: T = entry.value
                    return value
                running = self._computing.get(key)
                if running is None:
                    done = self._computing[key] = threading.Event()
                    break
            # another request computes it: wait, then read its entry (or, if it failed,
            # compute it here)
            running.wait()
        try:
            mark = fingerprint() if fingerprint is not None else None
            if entry is not None and fingerprint is not None and entry.fingerprint == mark:
                with self._lock:
                    self.revalidated += 1
                    self._entries[key] = _Entry(version, now, entry.value, mark, keep)
                kept: T = entry.value
                return kept
            result = compute()
            with self._lock:
                self.misses += 1
                self._entries[key] = _Entry(version, now, result, mark, keep)
                self._evict()
        finally:
            with self._lock:
                del self._computing[key]
            done.set()
        return result

    def _evict(self) -> None:
        """Drop the least recently used entries not marked ``keep`` while over
        ``max_entries``, and the least recently used ``keep`` entries beyond ``max_kept``
        (periods nobody looks at any more)."""
        kept = [k for k, e in self._entries.items() if e.keep]
        others = [k for k, e in self._entries.items() if not e.keep]
        for key in others[: max(0, len(self._entries) - self.max_entries)]:
            del self._entries[key]
        for key in kept[: max(0, len(kept) - self.max_kept)]:
            del self._entries[key]


def version_of(request_state: Any, session: Session) -> tuple[int, ...]:
    """The data version, read once per request."""
    if not hasattr(request_state, "data_version"):
        request_state.data_version = data_version(session)
    found: tuple[int, ...] = request_state.data_version
    return found
