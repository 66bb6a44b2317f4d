from __future__ import annotations

import pytest
from pydantic import ValidationError

from kilnwatch.errors import ConfigError
from kilnwatch.sim.config import PRESETS, SimParams, parse_interval_min, preset


@pytest.mark.parametrize(
    ("text", "minutes"), [("15min", 15), ("5m", 5), ("1h", 60), (" 30 min ", 30)]
)
def test_parse_interval(text: str, minutes: int) -> None:
    assert parse_interval_min(text) == minutes


@pytest.mark.parametrize("text", ["7min", "0min", "15s", "abc", "25h"])
def test_bad_intervals_are_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_interval_min(text)


def test_params_are_frozen_and_checked() -> None:
    params = SimParams()
    with pytest.raises(ValidationError):
        params.seed = 3  # type: ignore[misc]
    with pytest.raises(ValidationError):
        SimParams(interval_min=7)
    with pytest.raises(ValidationError):
        SimParams(unknown=1)  # type: ignore[call-arg]
    assert SimParams(interval_min=15).intervals_per_day == 96


def test_presets() -> None:
    assert set(PRESETS) == {"test", "demo", "benchmark"}
    assert preset("demo", seed=9).seed == 9
    assert preset("demo").enterprises == 60
    with pytest.raises(ConfigError):
        preset("nope")
