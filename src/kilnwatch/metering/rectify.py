"""Census gaps turned into rectification items of supervision (issue 18 → issue 15).

Every non-conformity of the GB 17167 census (a missing instrument, a configuration rate or an
accuracy class below the requirement, a calibration overdue, missing or failed, no census at
all) becomes one rectification through
:func:`kilnwatch.supervise.rectification.open_rectification`, with source
``metering.census`` and a reference naming the enterprise, the gap code and the point, meter
or carrier/level: running it again opens nothing twice. Alerts ahead of a deadline
(``metering.calibration.due_soon``) are not non-conformities and open nothing.

The deadline is the point's own ``planned_on`` (the enterprise's rectification date in the
census) when it lies ahead, else the default rectification period of supervision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from kilnwatch.identity import Principal
from kilnwatch.metering.census import EnterpriseCensus, enterprise_census
from kilnwatch.metering.gaps import Gap
from kilnwatch.supervise.items import existing
from kilnwatch.supervise.rectification import KIND, default_due_date, open_rectification

SOURCE_CODE = "metering.census"
DEPARTMENT = "market_regulation"
"""The department that owns metering instruments and their calibration (计量,
``reference/supervise/departments.csv``): the items are its to act on, shared with the rest."""
ACTIONS_ZH = {
    "metering.census.missing": "报送计量器具配备底数（计量点清单）",
    "metering.configuration.missing_instrument": "按 GB 17167 配备缺少的计量器具",
    "metering.configuration.rate_below_minimum": (
        "提高该层级、该能源的计量器具配备率至 GB 17167 表3要求"
    ),
    "metering.accuracy.below_requirement": "更换为满足 GB 17167 准确度等级要求的计量器具",
    "metering.accuracy.unknown": "报送进出用能单位计量器具的准确度等级",
    "metering.calibration.overdue": "完成计量器具检定/校准并上传证书",
    "metering.calibration.missing": "报送计量器具检定/校准记录",
    "metering.calibration.failed": "停用不合格计量器具并更换或修复后重新检定",
}
"""The required action of each non-conformity (what the enterprise must do)."""


@dataclass
class RectifyResult:
    """What a run opened: new item ids, items already open for the same gap, gaps seen."""

    opened: list[int] = field(default_factory=list)
    existing: list[int] = field(default_factory=list)
    gaps: int = 0


def gap_ref(census: EnterpriseCensus, gap: Gap) -> str:
    """The gap's stable reference: ``<uscc>/<code>/<point, meter or carrier:level>``."""
    where = gap.point_code or gap.meter_code or f"{gap.carrier}:{gap.level}"
    return f"{census.uscc}/{gap.code}/{where}"


def _due(gap: Gap, today: date) -> date:
    planned = gap.evidence.get("planned_on")
    if planned:
        day = date.fromisoformat(str(planned))
        if day > today:
            return day
    return default_due_date(today)


def rectify_census_gaps(
    session: Session,
    principal: Principal,
    as_of: date,
    today: date,
    *,
    region_prefix: str | None = None,
) -> RectifyResult:
    """Open a rectification for every census non-conformity of the enterprises the principal
    sees (optionally of one region) on ``as_of``; idempotent. Flushes, never commits."""
    result = RectifyResult()
    for census in enterprise_census(session, principal, as_of, region_prefix=region_prefix):
        for gap in census.gaps:
            if gap.is_warning or gap.code not in ACTIONS_ZH:
                continue
            result.gaps += 1
            where = gap.point_code or gap.meter_code or f"{gap.carrier} {gap.level}".strip()
            ref = gap_ref(census, gap)
            new = existing(session, KIND, SOURCE_CODE, ref) is None
            item = open_rectification(
                session, enterprise_id=census.enterprise_id, source_code=SOURCE_CODE,
                source_ref=ref, title=f"计量器具：{gap.code}（{where}）",
                due_date=_due(gap, today), required_action=ACTIONS_ZH[gap.code],
                department=DEPARTMENT, actor=principal.subject,
            )  # fmt: skip
            (result.opened if new else result.existing).append(item.id)
    return result


__all__ = ["ACTIONS_ZH", "SOURCE_CODE", "RectifyResult", "gap_ref", "rectify_census_gaps"]
