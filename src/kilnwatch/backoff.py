"""Waiting before a retry: exponential back-off with jitter (shared by ``forward`` and
``collect``, both of which retry a remote party that may be down)."""

from __future__ import annotations

import random


def backoff_s(attempts: int, initial_s: float, max_s: float, rng: random.Random) -> float:
    """Wait before the next attempt after ``attempts`` failed ones: exponential, equal jitter.

    ``base = min(max_s, initial_s * 2 ** (attempts - 1))``; the wait is drawn uniformly from
    ``[base / 2, base]``, so that senders that failed together do not retry together.

    Parameters
    ----------
    attempts : int
        Failed attempts so far (>= 1).
    initial_s, max_s : float
        Bounds of the base wait [s].
    rng : random.Random
        Source of the jitter.

    Returns
    -------
    float
        The wait [s].
    """
    exponent = min(max(attempts - 1, 0), 62)
    base = min(max_s, initial_s * 2.0**exponent)
    return base / 2 + rng.uniform(0.0, base / 2)
