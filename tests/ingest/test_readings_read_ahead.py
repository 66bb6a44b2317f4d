"""The file import reads the next chunk in a thread: order, errors and early exits."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from kilnwatch.ingest.readings_file import read_ahead


def test_items_come_in_order_and_the_producer_runs_ahead() -> None:
    produced: list[int] = []

    def items() -> Iterator[int]:
        for i in range(5):
            produced.append(i)
            yield i

    seen = []
    for item in read_ahead(items()):
        if item == 0:
            deadline = time.monotonic() + 5
            while len(produced) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert len(produced) >= 2  # the next one was produced while this one was used
        seen.append(item)
    assert seen == [0, 1, 2, 3, 4]


def test_a_producer_error_is_raised_at_its_place() -> None:
    def items() -> Iterator[int]:
        yield 1
        raise ValueError("row 7: broken")

    got = []
    with pytest.raises(ValueError, match="row 7"):
        for item in read_ahead(items()):
            got.append(item)
    assert got == [1]


def test_leaving_early_stops_and_closes_the_producer() -> None:
    closed = threading.Event()

    def items() -> Iterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    with pytest.raises(RuntimeError):
        for item in read_ahead(items()):
            if item == 3:
                raise RuntimeError("store failed")
    assert closed.is_set()
    assert not any(t.name == "kilnwatch-read-ahead" for t in threading.enumerate())
