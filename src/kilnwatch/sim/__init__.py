"""Synthetic province simulator: registry, meter readings, other sources, retrofits, faults.

Public entry points: :func:`simulate_to_dir` (write a province into a directory) and
:func:`stream` (play a simulated directory to MQTT, HTTP or HJ 212 ingestion).
"""

from kilnwatch.sim.config import PRESETS, SimParams, preset
from kilnwatch.sim.run import SimSummary, build_faults, build_province, simulate_to_dir
from kilnwatch.sim.stream import StreamSummary, stream
from kilnwatch.sim.uscc import make_uscc

__all__ = [
    "PRESETS",
    "SimParams",
    "SimSummary",
    "StreamSummary",
    "build_faults",
    "build_province",
    "make_uscc",
    "preset",
    "simulate_to_dir",
    "stream",
]
