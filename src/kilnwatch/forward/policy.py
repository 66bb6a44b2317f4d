"""Delivery policy of a forwarding target: answer timeout, attempts, back-off with jitter.

The answer timeout defaults to HJ 212-2017 Table 1 for a wired link (``reference/
hj212_link_timeouts.csv``); the attempt count and the back-off bounds are platform tunables
(not regulatory figures).

References
----------
.. [1] HJ 212-2017, section 6 (message flows: an upload with Flag bit A = 1 is answered with
       a data reply 9014; the sender resends after the timeout), Table 1 (OverTime, ReCount).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from kilnwatch.reference.hj212 import load_hj212_link_timeouts

WIRED_LINK = "ADSL"  # the fixed-line row of HJ 212-2017 Table 1: platform to platform


def _default_ack_timeout_s() -> float:
    return load_hj212_link_timeouts()[WIRED_LINK].overtime_s


class ForwardPolicy(BaseModel):
    """How a target is served (frozen; stored per target in ``forward_targets``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ack_timeout_s: float = Field(default_factory=_default_ack_timeout_s, gt=0)
    """Wait this long for the 9014 data reply of a frame [s]."""
    max_attempts: int = Field(default=8, ge=1, le=1000)
    """Sends without an acknowledgement before a frame goes to the dead letters."""
    backoff_initial_s: float = Field(default=1.0, gt=0)
    """Wait before the second attempt [s]; doubles with every further attempt."""
    backoff_max_s: float = Field(default=300.0, gt=0)
    """Longest wait between two attempts (and between two connection attempts) [s]."""
    late_window_s: int = Field(default=6 * 3600, ge=60)
    """Readings whose ``ts`` is this recent are looked at for forwarding [s]; late data older
    than that is forwarded only by ``kilnwatch forward enqueue --since``."""
    window_frames: int = Field(default=20, ge=1, le=1000)
    """Frames sent before waiting for their replies (one round)."""
