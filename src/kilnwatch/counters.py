"""Run counters: what a long-running loop counts while it runs (the edge collector, the
forwarding worker, the HJ 212 receiver, the MQTT worker, the log writer), with one plain copy
of them for logs and the commands' last line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, is_dataclass


@dataclass
class RunCounters:
    """Base of a loop's counters: a dataclass of numbers, count maps (``Counter``) and nested
    dataclasses of counts (e.g. the readings by outcome)."""

    def snapshot(self) -> dict[str, object]:
        """Plain copy of the counters (JSON-friendly): count maps and nested counts as dicts."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def _plain(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value
