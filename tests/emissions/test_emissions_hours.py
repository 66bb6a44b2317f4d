"""Hand-worked cases of the HJ 75-2017 hourly rules (kilnwatch.emissions.hours), each with
its arithmetic: a valid hour, an invalid hour, a stopped hour, a substitution, an O2
correction."""

from __future__ import annotations

import numpy as np
import pytest

from kilnwatch.domain.emissions import hourly_amount_kg, o2_corrected_mg_m3
from kilnwatch.emissions.hours import (
    INVALID,
    STOPPED,
    VALID,
    Analyser,
    ValiditySettings,
    pollutant_hours,
)

H = 3600
Q = 900  # 15-minute readings: 4 expected per hour
T0 = 1_740_758_400  # 2025-03-01 00:00 +08:00


def analyser(values: list[float], flags: list[str], start_s: int = T0) -> Analyser:
    ts = start_s + Q * np.arange(1, len(values) + 1, dtype=np.int64)
    return Analyser(ts, np.array(values, dtype=float), np.array(flags, dtype=object))


def flow(hours: int, m3_h: float = 100_000.0) -> Analyser:
    return analyser([m3_h] * 4 * hours, ["N"] * 4 * hours)


S = ValiditySettings.packaged()


def test_o2_correction_formula_a9() -> None:
    # 30 mg/m3 at 9 % O2, reference 6 %: 30 x (21 - 6) / (21 - 9) = 30 x 15 / 12 = 37.5
    assert o2_corrected_mg_m3(30.0, 9.0, 6.0) == pytest.approx(37.5)
    # sinter head at 15 % O2, reference 16 %: 30 x 5 / 6 = 25
    assert o2_corrected_mg_m3(30.0, 15.0, 16.0) == pytest.approx(25.0)
    # air (21 %): no meaning
    assert np.isnan(o2_corrected_mg_m3(30.0, 21.0, 6.0))


def test_valid_hour_amount() -> None:
    # SO2 30, 32, 34, 36 (all N): mean 33 mg/m3; flow 100 000 m3/h;
    # 33 mg/m3 x 100 000 m3/h x 1 h = 3 300 000 mg = 3.3 kg
    h = pollutant_hours(
        analyser([30, 32, 34, 36], ["N"] * 4), flow(1), 1.0, None, None, T0, 1, 0, S
    )
    assert h.status.tolist() == [VALID]
    assert h.concentration_mg_m3[0] == pytest.approx(33.0)
    assert h.amount_kg[0] == pytest.approx(3.3)
    assert hourly_amount_kg(33.0, 100_000.0) == pytest.approx(3.3)
    assert h.capture_pct == pytest.approx(100.0)


def test_three_valid_of_four_is_valid_two_is_not() -> None:
    # hour 1: 3 of 4 readings N (>= 0.75 x 4 = 3): valid, mean (30 + 32 + 34) / 3 = 32
    # hour 2: 2 of 4 readings N, 2 in calibration (C): invalid
    conc = analyser([30, 32, 34, 90, 30, 30, 80, 80], ["N", "N", "N", "M", "N", "N", "C", "C"])
    h = pollutant_hours(conc, flow(2), 1.0, None, None, T0, 2, 0, S)
    assert h.status.tolist() == [VALID, INVALID]
    assert h.concentration_mg_m3[0] == pytest.approx(32.0)
    assert np.isnan(h.corrected_mg_m3[1])
    # capture 1 valid / 2 running hours = 50 % < 75 %: the invalid hour is not substituted
    assert h.capture_pct == pytest.approx(50.0)
    assert np.isnan(h.amount_kg[1]) and not h.substituted.any()


def test_flow_m3_per_s_is_converted() -> None:
    # 27.78 m3/s x 3600 = 100 008 m3/h; 10 mg/m3 x 100 008 m3/h x 1 h = 1.00008 kg
    h = pollutant_hours(
        analyser([10] * 4, ["N"] * 4), flow(1, 27.78), 3600.0, None, None, T0, 1, 0, S
    )
    assert h.amount_kg[0] == pytest.approx(1.00008)


def test_stopped_hour_counts_nothing_and_leaves_the_capture_rate() -> None:
    # hour 1 valid, hour 2 all readings F (unit stopped): amount 0, not a running hour
    conc = analyser([20] * 4 + [1] * 4, ["N"] * 4 + ["F"] * 4)
    h = pollutant_hours(conc, flow(2), 1.0, None, None, T0, 2, 0, S)
    assert h.status.tolist() == [VALID, STOPPED]
    assert h.amount_kg[1] == 0.0
    assert h.capture_pct == pytest.approx(100.0)  # 1 valid / (2 hours - 1 stopped)


def test_substitution_takes_the_largest_valid_hour_before_the_run() -> None:
    # 9 valid hours at 10..18 mg/m3 (100 000 m3/h: 1.0..1.8 kg), then 1 invalid hour (M):
    # capture 9 / 10 = 90 % >= 90 %, run 1 h <= 24 h -> look back 180 valid hours:
    # substitute = max(1.0 .. 1.8) = 1.8 kg
    values, flags = [], []
    for c in range(10, 19):
        values += [c] * 4
        flags += ["N"] * 4
    values += [99] * 4
    flags += ["M"] * 4
    h = pollutant_hours(analyser(values, flags), flow(10), 1.0, None, None, T0, 10, 0, S)
    assert h.capture_pct == pytest.approx(90.0)
    assert h.status[9] == INVALID and h.substituted[9]
    assert h.amount_kg[9] == pytest.approx(1.8)
    assert float(np.nansum(h.amount_kg)) == pytest.approx(sum(range(10, 19)) / 10 + 1.8)


def test_lookback_depends_on_capture_and_run_length() -> None:
    assert S.lookback_h(95.0, 3) == 180
    assert S.lookback_h(95.0, 30) == 720
    assert S.lookback_h(80.0, 3) == 2160


def test_o2_corrected_hour_at_the_reference() -> None:
    # NOx 40 mg/m3 with O2 9 % (valid), reference 6 %: 40 x 15 / 12 = 50 mg/m3
    conc = analyser([40] * 4, ["N"] * 4)
    o2 = analyser([9.0] * 4, ["N"] * 4)
    h = pollutant_hours(conc, flow(1), 1.0, o2, 6.0, T0, 1, 0, S)
    assert h.corrected_mg_m3[0] == pytest.approx(50.0)
    assert h.amount_kg[0] == pytest.approx(4.0)  # mass from the measured 40, not the 50
