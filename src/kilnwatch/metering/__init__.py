"""Metering instruments (issue 18): the GB 17167 census, calibration and operation.

* :mod:`.compliance` (pure): configuration rate and accuracy class against GB 17167-2006;
* :mod:`.census`: required vs installed instruments per enterprise, level and carrier, with
  every gap named (:mod:`.gaps`: stable dotted codes);
* :mod:`.operation`: online rate, completeness, silent/stuck meters, replacements, and the
  per-enterprise "meter operation" figures (:func:`enterprise_operation`).

See docs/metering.md.
"""

from kilnwatch.metering.census import CensusRow, EnterpriseCensus, enterprise_census
from kilnwatch.metering.gaps import Gap
from kilnwatch.metering.operation import (
    EnterpriseOperation,
    MeterOperation,
    OperationEvent,
    OperationSettings,
    enterprise_operation,
)

__all__ = [
    "CensusRow",
    "EnterpriseCensus",
    "EnterpriseOperation",
    "Gap",
    "MeterOperation",
    "OperationEvent",
    "OperationSettings",
    "enterprise_census",
    "enterprise_operation",
]
