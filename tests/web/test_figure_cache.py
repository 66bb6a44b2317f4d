"""The figure cache computes a figure once even when many requests ask for it together."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from kilnwatch.web.services.cache import FigureCache


def test_concurrent_requests_for_one_figure_compute_it_once() -> None:
    cache, calls = FigureCache(), []

    def compute() -> int:
        calls.append(threading.get_ident())
        time.sleep(0.2)
        return 42

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda _: cache.get("overview", (1,), compute), range(8)))
    assert got == [42] * 8 and len(calls) == 1
    assert (cache.misses, cache.hits) == (1, 7)
    # another key is not held up by this one, and a new data version recomputes
    assert cache.get("city", (1,), lambda: 7) == 7
    stale = FigureCache(refresh_s=0.0)
    stale.get("k", (1,), lambda: 1)
    assert stale.get("k", (2,), lambda: 2) == 2


def test_a_failed_computation_lets_the_next_request_try() -> None:
    cache, started = FigureCache(), threading.Event()

    def failing() -> int:
        started.set()
        time.sleep(0.1)
        raise RuntimeError("database went away")

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(cache.get, "k", (1,), failing)
        started.wait()
        second = pool.submit(cache.get, "k", (1,), lambda: 5)
        with pytest.raises(RuntimeError):
            first.result()
        assert second.result() == 5


def test_the_shared_figures_are_not_evicted_by_the_many_small_ones() -> None:
    cache = FigureCache(max_entries=4, max_kept=2)
    cache.get("province-2025-03", (1,), lambda: "figures", keep=True)
    for i in range(10):  # many enterprises' sections, one after the other
        cache.get(("sections", i), (1,), lambda i=i: i)
    assert cache.get("province-2025-03", (1,), lambda: "computed again") == "figures"
    assert len(cache._entries) <= 4 + 2
    for period in ("2024", "2023", "2022"):  # kept figures of periods nobody looks at go
        cache.get(period, (1,), lambda p=period: p, keep=True)
    assert "province-2025-03" not in cache._entries and "2022" in cache._entries
