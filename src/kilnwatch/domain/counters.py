"""Cumulative registers (counters): consumption between two readings, roll-over and reset.

One rule for the whole platform: the rollups of ``store`` and the edge collector of
``collect`` read a decreasing register the same way.

A decrease is a roll-over when the previous value was near the top of its register (the next
power of ten above it, a decimal register's capacity) and the new one near zero: the
consumption is ``top - previous + new``. Any other decrease is a reset (consumption 0 for
that step). Consumption is never negative.

No standard fixes how a platform reads a decreasing register; the rule and its fractions are
the platform's own, documented in docs/formats.md (Readings, counter meters) so that every
reader applies the same one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ROLLOVER = "rollover"
RESET = "reset"


@dataclass(frozen=True)
class CounterPolicy:
    """How a decreasing register is read (platform tunables, not regulatory figures).

    A decrease is a roll-over when ``previous >= rollover_high_fraction * top`` and
    ``new <= rollover_low_fraction * top``, ``top`` being the next power of ten above
    ``previous`` (the register's capacity); otherwise it is a reset.

    Parameters
    ----------
    rollover_high_fraction : float
        The share of the register's capacity the previous value must reach [-]
    rollover_low_fraction : float
        The share of the capacity the new value must stay below [-]

    References
    ----------
    .. [1] kilnwatch docs/formats.md, "Readings": counter meters, roll-over and reset.
    """

    rollover_high_fraction: float = 0.9
    rollover_low_fraction: float = 0.1


def register_top(value: float) -> float:
    """The next power of ten above ``value`` (the capacity of a decimal register).

    Parameters
    ----------
    value : float
        A register value [meter unit]

    Returns
    -------
    float
        ``10 ** (floor(log10(value)) + 1)``, or 1 for a value of 0 or less [meter unit].

    References
    ----------
    .. [1] kilnwatch docs/formats.md, "Readings": counter meters, roll-over and reset.
    """
    if value <= 0:
        return 1.0
    return float(10 ** (math.floor(math.log10(value)) + 1))


def counter_delta(previous: float, value: float, policy: CounterPolicy) -> tuple[float, str | None]:
    """Consumption between two register values and the kind of decrease, if any.

    Parameters
    ----------
    previous : float
        The earlier register value [meter unit]
    value : float
        The later register value [meter unit]
    policy : CounterPolicy
        The roll-over fractions [-]

    Returns
    -------
    tuple of (float, str or None)
        Consumption [meter unit] and ``"rollover"``, ``"reset"`` or None (no decrease).

    Notes
    -----
    ``value - previous`` when the register did not decrease; ``top - previous + value`` on a
    roll-over (``top`` from :func:`register_top`); 0 on a reset.

    References
    ----------
    .. [1] kilnwatch docs/formats.md, "Readings": counter meters, roll-over and reset.
    """
    if value >= previous:
        return value - previous, None
    top = register_top(previous)
    if previous >= policy.rollover_high_fraction * top and value <= (
        policy.rollover_low_fraction * top
    ):
        return top - previous + value, ROLLOVER
    return 0.0, RESET
