"""An entry meter reading low all month: its carrier's energy per reported product against
the plant's other carriers and the plants of the same process
(``verify.meter.carrier_vs_peers``), on in-memory contexts."""

from __future__ import annotations

import numpy as np
import pytest

from kilnwatch.analytics.meters import EnterpriseInfo, MeterInfo, UnitInfo
from kilnwatch.analytics.readings import Series
from kilnwatch.domain.periods import parse_period
from kilnwatch.store.models import SOURCE_CODES, StatisticalReport
from kilnwatch.verify.context import EnterpriseContext, PeriodWindow, Sources, build_context
from kilnwatch.verify.detectors.carrier_peers import CARRIER_PEERS, check_carrier_vs_peers
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.settings import verify_settings
from zone import SHANGHAI

WINDOW = PeriodWindow(parse_period("2025-03", SHANGHAI))
HOURS = 31 * 24
SETTINGS = verify_settings()


def _series(values: np.ndarray) -> Series:
    ts = WINDOW.start_s + 3600 * np.arange(1, values.size + 1, dtype=np.int64)
    n = values.size
    return Series(
        ts,
        values.astype(np.float64),
        np.full(n, "", dtype=object),
        np.ones(n, dtype=np.int64),
        values.astype(np.float64),
        np.zeros(n, dtype=np.int64),
        np.full(n, SOURCE_CODES["http"]),
    )


def _plant(
    idx: int, rng: np.random.Generator, *, coal_low: float = 0.0, overstated: float = 0.0,
    efficiency: float = 1.0,
) -> EnterpriseContext:  # fmt: skip
    """A clinker line with entry electricity and coal meters; its coal meter reads
    ``coal_low`` low all month, its report overstates production by ``overstated``, it uses
    ``efficiency`` x the energy of its peers on every carrier."""
    unit = UnitInfo(idx, "L1", idx, "cement_clinker_line", "clinker", "t")
    elec = MeterInfo(idx * 10 + 1, f"E{idx}", idx, None, "electricity", "entry", None,
                     "interval", "kWh", 0.5, None)  # fmt: skip
    coal = MeterInfo(idx * 10 + 2, f"C{idx}", idx, None, "raw_coal", "entry", None,
                     "interval", "t", 0.5, None)  # fmt: skip
    output = 100.0 * (1 + 0.03 * rng.standard_normal(HOURS))
    spread = 1 + 0.01 * rng.standard_normal(2)  # plants differ a little per carrier
    series = {
        elec.id: _series(output * 58 * spread[0] * efficiency),
        coal.id: _series(output * 0.15 * spread[1] * efficiency * (1 - coal_low)),
    }
    sources = Sources()
    sources.stats["production:clinker"] = StatisticalReport(
        enterprise_id=idx, period="2025-03", item="production:clinker",
        quantity=float(output.sum()) * (1 + overstated), unit="t",
    )  # fmt: skip
    info = EnterpriseInfo(idx, f"U{idx}", "cement", (elec, coal), (unit,))
    return build_context(info, WINDOW, series, sources, SETTINGS)


def _run(existing: list[Finding] | None = None, **fault: float) -> list[Finding]:
    rng = np.random.default_rng(7)
    contexts = [_plant(i, rng, **(fault if i == 0 else {})) for i in range(10)]
    found = check_carrier_vs_peers(contexts, existing or [])
    return [f for f in found if f.enterprise_id == 0]


@pytest.mark.parametrize("fault", [{"coal_low": 0.08}, {"coal_low": 0.08, "overstated": 0.1}])
def test_a_coal_meter_reading_low_all_month_is_found(fault: dict[str, float]) -> None:
    found = _run(**fault)
    assert [(f.rule_code, f.meter_id) for f in found] == [(CARRIER_PEERS, 2)]
    assert found[0].magnitude_fraction == pytest.approx(0.08, abs=0.03)


@pytest.mark.parametrize(
    "fault",
    [
        {},  # clean
        {"overstated": 0.1},  # every carrier alike: the output, not a meter
        {"efficiency": 0.9},  # really more efficient on every carrier
    ],
)
def test_common_causes_are_not_a_meter(fault: dict[str, float]) -> None:
    assert _run(**fault) == []


def test_a_meter_already_found_is_not_judged_again() -> None:
    known = Finding(
        "verify.meter.intensity_drop", 0, "2025-03", WINDOW.start_at, WINDOW.end_at, "medium",
        "C0 low", {}, meter_id=2,
    )  # fmt: skip
    assert _run([known], coal_low=0.08) == []


def test_one_odd_carrier_does_not_make_the_others_look_low() -> None:
    """A third carrier far above its peers (the plant uses much more of it than they do) is
    no common cause: the median of the other carriers is."""
    rng = np.random.default_rng(7)
    contexts = []
    for i in range(10):
        ctx = _plant(i, rng)
        gas = MeterInfo(i * 10 + 3, f"G{i}", i, None, "natural_gas", "entry", None,
                        "interval", "m3", 1.0, None)  # fmt: skip
        coal = ctx.meters[i * 10 + 2]
        scale = 3.0 if i == 0 else 1.0
        series = {m.info.id: _series(m.qty) for m in ctx.meters.values()}
        series[gas.id] = _series(coal.qty * 100 * scale)
        info = EnterpriseInfo(i, f"U{i}", "cement", (*ctx.info.meters, gas), ctx.info.units)
        contexts.append(build_context(info, WINDOW, series, ctx.sources, SETTINGS))
    assert [f for f in check_carrier_vs_peers(contexts, []) if f.enterprise_id == 0] == []
