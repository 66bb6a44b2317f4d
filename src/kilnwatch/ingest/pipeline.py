"""The ingest pipeline: validate, lock, store (dedup/versioning), roll up, dead-letter.

One path for every source. The caller owns the transaction: it commits after
:func:`ingest_deliveries` returns and only then acknowledges the delivery (MQTT ack, HJ 212
reply, HTTP response), so that an acknowledged value is always stored and a crash before the
commit leads to a redelivery that the idempotent store absorbs.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.ingest.validate import (
    GatewayInfo,
    MeterInfo,
    RawReading,
    Rejection,
    ValidationPolicy,
    ValidReading,
    check_rates,
    validate_reading,
)
from kilnwatch.store.bulk import ReadingRow, StoredReading, lock_meters, store_readings
from kilnwatch.store.models import SOURCE_CODES, Gateway, IngestBatch, Meter, ProductionUnit
from kilnwatch.store.repos.dead_letters import DeadLetterRow, add_dead_letters
from kilnwatch.store.repos.rollups import latest_state, refresh_rollups


@dataclass(frozen=True)
class Delivery:
    """Readings from one sender: source key (``SOURCE_CODES``), reference and gateway."""

    source: str
    source_ref: str
    rows: Sequence[RawReading]
    gateway: GatewayInfo | None = None


@dataclass
class IngestResult:
    """What happened to one delivery."""

    batch_id: int
    received: int
    accepted: int
    duplicates: int
    corrections: int
    rejected: list[Rejection] = field(default_factory=list)

    def reasons(self) -> dict[str, int]:
        """Rejections counted by reason code."""
        counts: dict[str, int] = defaultdict(int)
        for r in self.rejected:
            counts[r.code] += 1
        return dict(counts)


def load_meters(session: Session, codes: Iterable[str | None]) -> dict[str, MeterInfo]:
    """Validation facts of the meters with these codes (unknown codes are left out)."""
    wanted = sorted({c for c in codes if c})
    found: dict[str, MeterInfo] = {}
    for start in range(0, len(wanted), 1000):
        stmt = (
            select(Meter.id, Meter.code, Meter.enterprise_id, Meter.gateway_id, Meter.carrier,
                   Meter.measurement, Meter.unit_of_measure, ProductionUnit.commissioned_on)
            .outerjoin(ProductionUnit, ProductionUnit.id == Meter.unit_id)
            .where(Meter.code.in_(wanted[start : start + 1000]))
        )  # fmt: skip
        for row in session.execute(stmt):
            found[row[1]] = MeterInfo(*row)
    return found


def gateway_info(gateway: Gateway) -> GatewayInfo:
    return GatewayInfo(gateway.id, gateway.code, gateway.enterprise_id, gateway.protocol)


def find_gateway(session: Session, code: str) -> Gateway | None:
    """An active gateway by code."""
    return session.scalar(select(Gateway).where(Gateway.code == code, Gateway.active.is_(True)))


def _dead_letter(d: Delivery, r: Rejection, batch_id: int, now: datetime) -> DeadLetterRow:
    enterprise = r.meter.enterprise_id if r.meter is not None else None
    if enterprise is None and d.gateway is not None:
        enterprise = d.gateway.enterprise_id
    return DeadLetterRow(
        source=SOURCE_CODES[d.source],
        source_ref=d.source_ref,
        reason=r.code,
        message=r.message,
        payload=json.dumps(dict(r.payload), ensure_ascii=False, default=str),
        received_at=now,
        gateway_id=d.gateway.id if d.gateway is not None else None,
        enterprise_id=enterprise,
        batch_id=batch_id,
        row_no=r.row_no,
    )


def _row(v: ValidReading, source: int, batch_id: int, now: datetime) -> ReadingRow:
    return ReadingRow(v.meter.id, v.ts, v.value, v.flag, source, batch_id, now)


def _new_batch(session: Session, d: Delivery, now: datetime) -> IngestBatch:
    batch = IngestBatch(
        source=SOURCE_CODES[d.source],
        source_ref=d.source_ref[:300],
        gateway_id=d.gateway.id if d.gateway is not None else None,
        received_at=now,
    )
    session.add(batch)
    return batch


def _refresh(session: Session, stored: Sequence[StoredReading], meters: dict[int, MeterInfo],
             policy: ValidationPolicy) -> None:  # fmt: skip
    changed: dict[int, list[datetime]] = defaultdict(list)
    for s in stored:
        changed[s.meter_id].append(s.ts)
    measurements = {m: meters[m].measurement for m in changed}
    refresh_rollups(session, changed, measurements, policy.tz)


def ingest_deliveries(
    session: Session,
    deliveries: Sequence[Delivery],
    *,
    policy: ValidationPolicy | None = None,
    now: datetime | None = None,
    dead_letters: bool = True,
) -> list[IngestResult]:
    """Validate and store the deliveries in the session's transaction (no commit).

    Rejected rows go to ``dead_letters`` unless ``dead_letters`` is False (an all-or-nothing
    import that will roll back anyway).
    """
    policy = policy or ValidationPolicy()
    now = now or datetime.now(UTC)
    meters = load_meters(session, (r.meter_code for d in deliveries for r in d.rows))
    checked: list[tuple[list[ValidReading], list[Rejection]]] = []
    for d in deliveries:
        outcomes = [validate_reading(r, meters, d.gateway, now, policy) for r in d.rows]
        ok = [o for o in outcomes if isinstance(o, ValidReading)]
        checked.append((ok, [o for o in outcomes if isinstance(o, Rejection)]))
    by_id = {m.id: m for m in meters.values()}
    lock_meters(session, (v.meter.id for ok, _ in checked for v in ok))
    batches = [_new_batch(session, d, now) for d in deliveries]
    session.flush()
    previous = latest_state(session, list({v.meter.id for ok, _ in checked for v in ok}))
    rows: list[ReadingRow] = []
    for d, batch, (ok, bad) in zip(deliveries, batches, checked, strict=True):
        passed, too_fast = check_rates(ok, previous, policy)
        bad.extend(too_fast)
        ok[:] = passed
        rows.extend(_row(v, SOURCE_CODES[d.source], batch.id, now) for v in passed)
    outcome = store_readings(session, rows)
    _refresh(session, outcome.inserted, by_id, policy)
    return _finish(session, deliveries, batches, checked, outcome.inserted, now, dead_letters)


def _finish(
    session: Session,
    deliveries: Sequence[Delivery],
    batches: Sequence[IngestBatch],
    checked: Sequence[tuple[list[ValidReading], list[Rejection]]],
    inserted: Sequence[StoredReading],
    now: datetime,
    keep_dead_letters: bool,
) -> list[IngestResult]:
    new: dict[int, int] = defaultdict(int)
    corrected: dict[int, int] = defaultdict(int)
    for s in inserted:
        new[s.batch_id or 0] += 1
        corrected[s.batch_id or 0] += s.version > 1
    results: list[IngestResult] = []
    letters: list[DeadLetterRow] = []
    for d, batch, (ok, bad) in zip(deliveries, batches, checked, strict=True):
        bad.sort(key=lambda r: r.row_no or 0)
        batch.accepted = new[batch.id]
        batch.duplicates = len(ok) - new[batch.id]
        batch.rejected = len(bad)
        results.append(IngestResult(batch.id, len(d.rows), batch.accepted, batch.duplicates,
                                    corrected[batch.id], bad))  # fmt: skip
        if keep_dead_letters:
            letters.extend(_dead_letter(d, r, batch.id, now) for r in bad)
    add_dead_letters(session, letters)
    session.flush()
    return results


def ingest_readings(
    session: Session,
    rows: Sequence[RawReading],
    source: str,
    source_ref: str,
    *,
    gateway: GatewayInfo | None = None,
    policy: ValidationPolicy | None = None,
    now: datetime | None = None,
    dead_letters: bool = True,
) -> IngestResult:
    """One delivery through :func:`ingest_deliveries`."""
    delivery = Delivery(source, source_ref, rows, gateway)
    return ingest_deliveries(
        session, [delivery], policy=policy, now=now, dead_letters=dead_letters
    )[0]


def reject_delivery(
    session: Session,
    source: str,
    source_ref: str,
    code: str,
    message: str,
    payload: str,
    *,
    gateway: GatewayInfo | None = None,
    now: datetime | None = None,
) -> None:
    """Dead-letter a whole delivery that could not be read (bad JSON, unknown gateway…)."""
    row = DeadLetterRow(
        source=SOURCE_CODES[source],
        source_ref=source_ref,
        reason=code,
        message=message,
        payload=payload,
        received_at=now or datetime.now(UTC),
        gateway_id=gateway.id if gateway is not None else None,
        enterprise_id=gateway.enterprise_id if gateway is not None else None,
    )
    add_dead_letters(session, [row])
