"""Discharge permits in force in a span of days (``emission_permits``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.store.models import EmissionPermit


def permits_in_force(
    session: Session, enterprise_ids: Sequence[int], first: date, stop: date
) -> list[EmissionPermit]:
    """Permit rows of ``enterprise_ids`` valid on some day of ``[first, stop)``."""
    if not enterprise_ids:
        return []
    stmt = select(EmissionPermit).where(
        EmissionPermit.enterprise_id.in_(list(enterprise_ids)),
        EmissionPermit.valid_from < stop,
        EmissionPermit.valid_to >= first,
    )
    return list(session.scalars(stmt.order_by(EmissionPermit.id)))
