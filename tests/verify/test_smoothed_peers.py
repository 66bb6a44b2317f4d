"""A meter smoothed from the month's first hour, against its process's other meters and the
plants of the same process (``verify.meter.smoothed_vs_peers``), on in-memory contexts."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from peer_plants import HOURS, WINDOW, hourly_series

from kilnwatch.analytics.meters import EnterpriseInfo, MeterInfo, UnitInfo
from kilnwatch.verify.checks import run_checks
from kilnwatch.verify.context import EnterpriseContext, Sources, build_context
from kilnwatch.verify.detectors.profile import SMOOTHED
from kilnwatch.verify.detectors.profile_peers import check_smoothed_vs_peers
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.settings import verify_settings

SETTINGS = verify_settings()
DAY_H = 24


def _load(rng: np.random.Generator, shock_sd: float) -> np.ndarray:
    """Hourly output: an autocorrelated load around 85 %."""
    noise = np.zeros(HOURS)
    shocks = shock_sd * rng.standard_normal(HOURS)
    for t in range(1, HOURS):
        noise[t] = 0.85 * noise[t - 1] + shocks[t]
    return 100.0 * 0.85 * (1 + noise)


def _plant(
    idx: int,
    rng: np.random.Generator,
    *,
    smoothed: bool = False,
    shock_sd: float = 0.03,
    coal_noise: float = 0.015,
) -> EnterpriseContext:
    """A clinker line with entry electricity and coal meters (no sub-meters); the coal meter
    reports its trailing 24-hour mean from the first hour when ``smoothed``; ``coal_noise``:
    its readings' relative noise."""
    unit = UnitInfo(idx, "L1", idx, "cement_clinker_line", "clinker", "t")
    elec = MeterInfo(idx * 10 + 1, f"E{idx}", idx, None, "electricity", "entry", None,
                     "interval", "kWh", 0.5, None)  # fmt: skip
    coal = MeterInfo(idx * 10 + 2, f"C{idx}", idx, None, "raw_coal", "entry", None,
                     "interval", "t", 0.5, None)  # fmt: skip
    output = _load(rng, shock_sd)
    kwh = output * 58 * (1 + 0.01 * rng.standard_normal(HOURS)) + 400.0
    coal_t = output * 0.15 * (1 + coal_noise * rng.standard_normal(HOURS))
    if smoothed:
        kept = coal_t.copy()
        coal_t = np.array([kept[max(0, t - DAY_H + 1) : t + 1].mean() for t in range(HOURS)])
    series = {elec.id: hourly_series(kwh), coal.id: hourly_series(coal_t)}
    info = EnterpriseInfo(idx, f"U{idx}", "cement", (elec, coal), (unit,))
    return build_context(info, WINDOW, series, Sources(), SETTINGS)


def _found(plant0: dict[str, object]) -> list[tuple[str, int | None]]:
    rng = np.random.default_rng(3)
    contexts = [_plant(i, rng, **(plant0 if i == 0 else {})) for i in range(8)]  # type: ignore[arg-type]
    own = [f for ctx in contexts for f in run_checks(ctx)]
    assert [f for f in own if f.rule_code == SMOOTHED] == []  # no own other days to judge by
    found = check_smoothed_vs_peers(contexts, own)
    return [(f.rule_code, f.meter_id) for f in found]


def test_a_meter_smoothed_from_the_first_hour_is_found() -> None:
    assert _found({"smoothed": True}) == [(SMOOTHED, 2)]


@pytest.mark.parametrize(
    "plant0",
    [
        {},  # clean
        {"shock_sd": 0.01},  # the whole process runs steadier: every meter alike
    ],
)
def test_no_smoothing_no_finding(plant0: dict[str, object]) -> None:
    assert _found(plant0) == []


def test_a_meter_found_smoothed_is_no_peer() -> None:
    """Five plants, two coal meters smoothed: one already found (by its own other days, say),
    the other smoothed from the first hour is judged against the three clean plants only
    (tuning alt heavy_noise 301: A039-GAS had A037-GAS, found smoothed, among four peers)."""
    rng = np.random.default_rng(3)
    contexts = [_plant(i, rng, smoothed=i < 2) for i in range(5)]
    own = [f for ctx in contexts for f in run_checks(ctx)]
    already = Finding(
        SMOOTHED, 1, "2025-03", WINDOW.start_at, WINDOW.end_at, "medium", "C1 smoothed", {},
        meter_id=12,
    )  # fmt: skip
    found = check_smoothed_vs_peers(contexts, [*own, already])
    assert [(f.rule_code, f.meter_id) for f in found] == [(SMOOTHED, 2)]
    assert found[0].evidence["peers"] == 3


def _scaled(meter_id: int) -> Finding:
    """An integrity finding of a meter reading a share low (its shape intact)."""
    return Finding(
        "verify.meter.intensity_drop", meter_id // 10, "2025-03", WINDOW.start_at,
        WINDOW.end_at, "high", "reads low", {}, meter_id=meter_id,
    )  # fmt: skip


def test_a_peer_found_scaled_stays_a_peer_one_found_clipped_does_not() -> None:
    """Plant 0 smoothed from the first hour, three clean peers of which one was found reading
    14 % low: a factor leaves its variability, it stays a peer (tuning alt heavy_noise 701:
    A006-GAS, scaled, left A053-GAS two peers, fewer than ``min_peers``). Found clipped, the
    peer goes, and two peers judge nothing."""
    rng = np.random.default_rng(3)
    contexts = [_plant(i, rng, smoothed=i == 0) for i in range(4)]
    own = [f for ctx in contexts for f in run_checks(ctx)]
    found = check_smoothed_vs_peers(contexts, [*own, _scaled(12)])
    assert [(f.rule_code, f.meter_id) for f in found] == [(SMOOTHED, 2)]
    clipped = replace(_scaled(12), rule_code="verify.meter.capped")
    assert check_smoothed_vs_peers(contexts, [*own, clipped]) == []


def test_smoother_than_every_one_of_three_scattered_peers() -> None:
    """Three peers whose coal meters read with 1 %, 8 % and 20 % noise scatter widely (their
    spread, widened for three plants, bounds nothing), but plant 0, smoothed from the first
    hour, is more than four times smoother than the smoothest: found (tuning alt heavy_noise
    103 A028-GAS, 4.6 times smoother than the smoothest of three peers, z 2.4)."""
    rng = np.random.default_rng(5)
    contexts = [_plant(0, rng, smoothed=True)]
    contexts += [_plant(i, rng, coal_noise=n) for i, n in ((1, 0.01), (2, 0.08), (3, 0.2))]
    own = [f for ctx in contexts for f in run_checks(ctx)]
    found = check_smoothed_vs_peers(contexts, own)
    assert [(f.rule_code, f.meter_id) for f in found] == [(SMOOTHED, 2)]
    assert found[0].evidence["robust_z"] < 3
