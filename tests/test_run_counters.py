"""The one plain copy of a loop's run counters (``kilnwatch.counters``)."""

from __future__ import annotations

import json
from collections import Counter

from kilnwatch.collect.collector import CollectStats
from kilnwatch.ingest.hj212.server import ServerStats
from kilnwatch.ingest.log.writer import WriterStats
from kilnwatch.ingest.pipeline import ReadingCounts


def test_snapshot_copies_numbers_count_maps_and_nested_counts() -> None:
    stats = WriterStats(batches=2, readings=ReadingCounts(accepted=5, reasons={"a.b": 1}))
    stats.messages["stored"] += 3
    snap = stats.snapshot()
    assert snap == {
        "messages": {"stored": 3},
        "batches": 2,
        "readings": {"accepted": 5, "duplicates": 0, "corrections": 0, "rejected": 0,
                     "reasons": {"a.b": 1}},
    }  # fmt: skip
    assert type(snap["messages"]) is dict  # a copy, not the live Counter
    stats.messages["stored"] += 1
    assert snap["messages"] == {"stored": 3}
    json.dumps(snap)


def test_snapshot_of_the_receiver_and_the_collector() -> None:
    server = ServerStats(frames_ok=4, frames_rejected=Counter({"crc": 2}))
    assert server.snapshot()["frames_rejected"] == {"crc": 2}
    assert server.snapshot()["frames_ok"] == 4
    assert CollectStats(polls=1).snapshot()["polls"] == 1
