"""What a report builder gets (:class:`ReportContext`); report modules import this, and the
catalogue imports the report modules, so no report module imports the catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from kilnwatch.identity import Principal
from kilnwatch.reports.scope import ReportScope
from kilnwatch.reports.services import ReportPeriod


@dataclass(frozen=True)
class ReportContext:
    """What a report builder gets: a session, the narrowed scope, the period, the clock."""

    session: Session
    scope: ReportScope
    period: ReportPeriod
    timezone: str
    generated_at: datetime

    @property
    def principal(self) -> Principal:
        return self.scope.principal
