"""A real saving on one unit of a two-unit plant is no meter reading low (tuning sim plain
122: a retrofit saving 4.6 % of one power unit's coal from the 14th was an intensity drop):
the entry coal meter, parent of both units' coal meters, reads the saving too once the other
unit's metered coal is set aside; a unit meter reading low leaves the parent unchanged."""

from __future__ import annotations

import numpy as np
from peer_plants import HOURS, WINDOW, hourly_series

from kilnwatch.analytics.meters import EnterpriseInfo, MeterInfo, UnitInfo
from kilnwatch.verify.checks import run_checks
from kilnwatch.verify.context import EnterpriseContext, Sources, build_context
from kilnwatch.verify.settings import verify_settings

DAY = 24


def _meter(i: int, code: str, carrier: str, unit: int | None, parent: int | None) -> MeterInfo:
    level = "entry" if unit is None else "sub_unit"
    uom = "kWh" if carrier.startswith("product:") else "t"
    return MeterInfo(i, code, 1, unit, carrier, level, parent, "interval", uom, 0.5, None)


def _plant(*, saving: float = 0.0, reading_low: float = 0.0, seed: int = 4) -> EnterpriseContext:
    """Two coal-fired units; from day 13 the second one burns ``saving`` less coal per kWh
    (a retrofit) or its coal meter reads ``reading_low`` low, while the first one runs about
    3 % harder and the second about 3 % less (each unit's own dispatch)."""
    rng = np.random.default_rng(seed)
    late = np.arange(HOURS) >= 13 * DAY
    out1 = 800_000.0 * (1 + 0.02 * rng.standard_normal(HOURS)) * np.where(late, 1.03, 1.0)
    out2 = 850_000.0 * (1 + 0.02 * rng.standard_normal(HOURS)) * np.where(late, 0.97, 1.0)
    coal1 = 3.1e-4 * out1 * (1 + 0.004 * rng.standard_normal(HOURS))
    coal2 = 3.3e-4 * out2 * (1 + 0.004 * rng.standard_normal(HOURS))
    coal2[late] *= 1 - saving
    entry = (coal1 + coal2) * (1 + 0.003 * rng.standard_normal(HOURS))
    coal2[late] *= 1 - reading_low
    units = (
        UnitInfo(1, "U01", 1, "coal_power_unit", "electricity_supplied", "kWh"),
        UnitInfo(2, "U02", 1, "coal_power_unit", "electricity_supplied", "kWh"),
    )
    meters = (
        _meter(1, "IN-COAL", "raw_coal", None, None),
        _meter(2, "U01-COAL", "raw_coal", 1, 1),
        _meter(3, "U02-COAL", "raw_coal", 2, 1),
        _meter(4, "U01-OUT", "product:electricity_supplied", 1, None),
        _meter(5, "U02-OUT", "product:electricity_supplied", 2, None),
    )
    values = {1: entry, 2: coal1, 3: coal2, 4: out1, 5: out2}
    series = {i: hourly_series(v, lag_s=600) for i, v in values.items()}
    info = EnterpriseInfo(1, "U1", "power", meters, units)
    return build_context(info, WINDOW, series, Sources(), verify_settings())


def _drops(ctx: EnterpriseContext) -> list[str]:
    codes = {m.info.id: m.info.code for m in ctx.meters.values()}
    return [
        codes[f.meter_id]
        for f in run_checks(ctx)
        if f.rule_code == "verify.meter.intensity_drop" and f.severity != "info"
    ]


def test_a_saving_on_one_unit_is_no_meter_reading_low() -> None:
    assert _drops(_plant(saving=0.046)) == []


def test_a_unit_meter_reading_low_beside_its_sibling_is_found() -> None:
    assert _drops(_plant(reading_low=0.046)) == ["U02-COAL"]
