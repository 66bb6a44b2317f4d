"""Checks of polled values before they are buffered (pure).

Counters are read the way the platform reads them (:mod:`kilnwatch.domain.counters`): a
decrease is a roll-over or a reset. The collector still sends the value (the platform draws the
same conclusion from the same numbers) and records the event, so the edge log says what the
platform will see. A value that cannot be sent at all is refused here: not a finite number
(JSON has no NaN; a meter answers NaN for a sensor fault) or a negative counter (the platform
refuses it too, ``reference/ingest_limits.csv``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kilnwatch.domain.counters import CounterPolicy, counter_delta

NOT_FINITE = "collect.value.not_finite"
NEGATIVE_COUNTER = "collect.counter.negative"
ROLLOVER = "collect.counter.rollover"
RESET = "collect.counter.reset"
_EVENT_CODES = {"rollover": ROLLOVER, "reset": RESET}


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether to send a value and the event to record (stable dotted code), if any."""

    send: bool
    code: str | None = None
    message: str = ""


def check_value(kind: str, value: float, previous: float | None,
                policy: CounterPolicy | None = None) -> Verdict:  # fmt: skip
    """Judge one polled value of a point (``kind`` ``counter`` or ``instantaneous``).

    Parameters
    ----------
    value : float
        The scaled value [point unit].
    previous : float, optional
        The last value of the same counter that was buffered [point unit].
    """
    if not math.isfinite(value):
        return Verdict(False, NOT_FINITE, f"value {value!r} is not a finite number")
    if kind != "counter":
        return Verdict(True)
    if value < 0:
        return Verdict(False, NEGATIVE_COUNTER, f"counter value {value:g} is negative")
    if previous is None or value >= previous:
        return Verdict(True)
    consumption, event = counter_delta(previous, value, policy or CounterPolicy())
    assert event is not None
    message = f"{previous:g} -> {value:g}: {event}, consumption {consumption:g}"
    return Verdict(True, _EVENT_CODES[event], message)
