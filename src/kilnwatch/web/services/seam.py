"""The one place where the web application imports accounting, periods and rollup queries.

Everything in ``web/`` that needs them imports from here (docs/web.md, "Where the numbers come
from"); when those modules move, only this file changes.
"""

from __future__ import annotations

from kilnwatch.accounting.groups import GroupAccount, group_accounts
from kilnwatch.accounting.inputs import MeterInput, co2_of, energy_kgce_of
from kilnwatch.accounting.intensity import PeriodFigures
from kilnwatch.accounting.units import UnitAccount, unit_account, unit_accounts
from kilnwatch.domain.periods import Period, parse_period
from kilnwatch.store.repos.rollups import RollupPoint, latest_state, meter_series, meter_totals

__all__ = [
    "GroupAccount",
    "MeterInput",
    "Period",
    "PeriodFigures",
    "RollupPoint",
    "UnitAccount",
    "co2_of",
    "energy_kgce_of",
    "group_accounts",
    "latest_state",
    "meter_series",
    "meter_totals",
    "parse_period",
    "unit_account",
    "unit_accounts",
]
