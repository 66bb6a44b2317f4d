"""What a report builder gets (:class:`ReportContext`); report modules import this, and the
catalogue imports the report modules, so no report module imports the catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from kilnwatch.identity import Principal
from kilnwatch.reports.document import Fact, Label, ReportDocument, Section
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

    def document(
        self,
        name: str,
        title: Label,
        sections: tuple[Section, ...],
        *,
        facts: tuple[Fact, ...] = (),
        notes: tuple[Label, ...] = (),
        sources: tuple[Label, ...] = (),
    ) -> ReportDocument:
        """Report ``name`` of this context: its scope, period, clock and time zone."""
        return ReportDocument(
            name, title, self.scope.name, self.period.label, self.generated_at, self.timezone,
            sections, facts=facts, notes=notes, sources=sources,
        )  # fmt: skip
