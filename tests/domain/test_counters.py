"""Counter registers: consumption, roll-over and reset (one rule for store and collect)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kilnwatch.domain.counters import CounterPolicy, counter_delta, register_top


@given(st.floats(0, 1e9), st.floats(0, 1e9))
@settings(max_examples=200)
def test_counter_delta_is_never_negative(previous: float, value: float) -> None:
    delta, event = counter_delta(previous, value, CounterPolicy())
    assert delta >= 0
    assert (event is None) == (value >= previous)


def test_rollover_and_reset() -> None:
    assert register_top(99_990.0) == 100_000.0
    assert register_top(0.0) == 1.0
    assert counter_delta(99_990.0, 10.0, CounterPolicy()) == (20.0, "rollover")
    assert counter_delta(50_000.0, 10.0, CounterPolicy()) == (0.0, "reset")
    assert counter_delta(10.0, 12.5, CounterPolicy()) == (2.5, None)
