"""Shared by the kiln-line tests (flat caps, busy days and standby values): one cement kiln
line of a product meter, an electricity meter and a coal meter, built from hourly quantities,
and its non-info findings."""

from __future__ import annotations

import numpy as np
from peer_plants import WINDOW, hourly_series

from kilnwatch.analytics.meters import EnterpriseInfo, MeterInfo, UnitInfo
from kilnwatch.verify.checks import run_checks
from kilnwatch.verify.context import EnterpriseContext, Sources, build_context
from kilnwatch.verify.settings import verify_settings


def _meter(i: int, code: str, carrier: str, uom: str) -> MeterInfo:
    return MeterInfo(i, code, 1, 1, carrier, "sub_unit", None, "interval", uom, 0.5, None)


def line_context(
    output: np.ndarray, electricity: np.ndarray, fuel: np.ndarray
) -> EnterpriseContext:
    """The line's context for March 2025: ``L1-OUT`` (clinker, t), ``L1-KWH`` and ``L1-COAL``
    (t) read hourly, delivered ten minutes late."""
    unit = UnitInfo(1, "L1", 1, "cement_clinker_line", "clinker", "t")
    meters = (
        _meter(1, "L1-OUT", "product:clinker", "t"),
        _meter(2, "L1-KWH", "electricity", "kWh"),
        _meter(3, "L1-COAL", "raw_coal", "t"),
    )
    series = {i: hourly_series(v, lag_s=600) for i, v in ((1, output), (2, electricity), (3, fuel))}
    info = EnterpriseInfo(1, "U1", "cement", meters, (unit,))
    return build_context(info, WINDOW, series, Sources(), verify_settings())


def carriers_context(electricity: np.ndarray, fuel: np.ndarray) -> EnterpriseContext:
    """The line without a product meter: ``L1-KWH`` and ``L1-COAL`` (t) read hourly, each the
    other's reference."""
    unit = UnitInfo(1, "L1", 1, "cement_clinker_line", "clinker", "t")
    meters = (_meter(2, "L1-KWH", "electricity", "kWh"), _meter(3, "L1-COAL", "raw_coal", "t"))
    series = {i: hourly_series(v, lag_s=600) for i, v in ((2, electricity), (3, fuel))}
    info = EnterpriseInfo(1, "U1", "cement", meters, (unit,))
    return build_context(info, WINDOW, series, Sources(), verify_settings())


def accusing(ctx: EnterpriseContext) -> list[tuple[str, str | None]]:
    """The line's non-info findings as (rule code, meter code), sorted."""
    codes = {m.info.id: m.info.code for m in ctx.meters.values()}
    return sorted(
        (f.rule_code, codes.get(f.meter_id) if f.meter_id else None)
        for f in run_checks(ctx)
        if f.severity != "info"
    )
