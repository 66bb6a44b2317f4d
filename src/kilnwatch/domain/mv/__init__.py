"""Measurement and verification (M&V) of energy savings from metered data (pure).

Shaped like eemeter (OpenEEmeter/CalTRACK): daily data with sufficiency warnings
(:mod:`.data`), a baseline model with ``fit``/``predict``/``to_json``/``from_json``
(:mod:`.model`), savings with an uncertainty (:mod:`.savings`), the Guideline 14 statistics
(:mod:`.stats`) and a frozen settings object (:mod:`.settings`).

References
----------
.. [1] IPMVP Core Concepts (EVO 10000-1:2022), Options B and C.
.. [2] ASHRAE Guideline 14-2014, Measurement of Energy, Demand, and Water Savings, Annex B.
.. [3] CalTRACK Methods 2.0 (daily methods, data sufficiency).
"""

from kilnwatch.domain.mv.data import DailyData, MVWarning, is_blocking, sufficiency_warnings
from kilnwatch.domain.mv.model import ProductionModel
from kilnwatch.domain.mv.savings import Adjustment, SavingsResult, measure_savings
from kilnwatch.domain.mv.settings import MVSettings

__all__ = [
    "Adjustment",
    "DailyData",
    "MVSettings",
    "MVWarning",
    "ProductionModel",
    "SavingsResult",
    "is_blocking",
    "measure_savings",
    "sufficiency_warnings",
]
