"""The ingest pipeline: validate, lock, store (dedup/versioning), roll up, dead-letter.

One path for every source, vectorised: the rows of all deliveries of a call become one Polars
frame, validated column-wise (:mod:`kilnwatch.ingest.vectorised`; rows failing a check are
decided, with their reason code, by the per-row :mod:`kilnwatch.ingest.validate`), stored
set-based (:mod:`kilnwatch.store.staging`) and rolled up in SQL
(:mod:`kilnwatch.store.rollups`). The caller owns the transaction: it commits after
:func:`ingest_deliveries` returns and only then acknowledges the delivery (MQTT ack, HJ 212
reply, HTTP response), so that an acknowledged value is always stored and a crash before the
commit leads to a redelivery that the idempotent store absorbs.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

import polars as pl
from sqlalchemy.orm import Session

from kilnwatch.ingest.meters import MeterCache
from kilnwatch.ingest.validate import GatewayInfo, RawReading, Rejection, ValidationPolicy
from kilnwatch.ingest.vectorised import (
    RawOf,
    check_frame_rates,
    raw_frame_from_readings,
    validate_frame,
)
from kilnwatch.metrics import READINGS_DUPLICATE, READINGS_REJECTED, READINGS_STORED
from kilnwatch.store.locks import lock_meters
from kilnwatch.store.models import SOURCE_CODES, IngestBatch
from kilnwatch.store.repos.dead_letters import DeadLetterRow, add_dead_letters
from kilnwatch.store.repos.rollups import latest_state
from kilnwatch.store.rollups.append import refresh_after_store
from kilnwatch.store.rollups.deferred import DeferredRollups
from kilnwatch.store.rollups.emission_hours import monitored, refresh_emission_hours
from kilnwatch.store.staging import UTC_US, FrameOutcome, store_frame


@dataclass(frozen=True)
class Delivery:
    """Readings from one sender: source key (``SOURCE_CODES``), reference and gateway.

    Deliveries of one call with the same ``batch_key`` share one ``ingest_batches`` row
    (e.g. the HJ 212 frames of one group commit); ``None`` gives each its own.
    """

    source: str
    source_ref: str
    rows: Sequence[RawReading]
    gateway: GatewayInfo | None = None
    batch_key: str | None = None


@dataclass(frozen=True)
class RejectedDelivery:
    """A whole delivery refused before its rows could be read (unknown gateway, bad JSON):
    dead-lettered by :func:`reject_delivery` (directly, or by a log writer)."""

    source: str
    source_ref: str
    code: str
    message: str
    payload: str
    gateway: GatewayInfo | None = None


Outlet = Callable[[Sequence[Delivery], Sequence[RejectedDelivery]], object]
"""Where a front end sends what it received instead of storing it itself: the ingest log's
publisher (:meth:`kilnwatch.ingest.log.publisher.LogPublisher.publish`), which returns once
the deliveries are durable and raises otherwise."""


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


@dataclass
class ReadingCounts:
    """Readings of many deliveries (a file's chunks, a worker's batches) by outcome:
    ``accepted`` stored (new values and corrections), ``duplicates`` already stored with the
    same value and ignored, ``corrections`` stored as a new version of a stored value (also
    counted in ``accepted``), ``rejected`` refused by validation, by reason code in
    ``reasons``."""

    accepted: int = 0
    duplicates: int = 0
    corrections: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, result: IngestResult) -> None:
        """Count one delivery's outcome."""
        self.accepted += result.accepted
        self.duplicates += result.duplicates
        self.corrections += result.corrections
        self.rejected += len(result.rejected)
        for code, n in result.reasons().items():
            self.reasons[code] = self.reasons.get(code, 0) + n


def count_stored(source: str, result: IngestResult) -> None:
    """Add a committed delivery's outcome to the process's Prometheus counters."""
    READINGS_STORED.labels(source).inc(result.accepted)
    READINGS_DUPLICATE.labels(source).inc(result.duplicates)
    READINGS_REJECTED.labels(source).inc(len(result.rejected))


@dataclass(frozen=True)
class DeliveryMeta:
    """A delivery without its rows: who sent how many (for files, rows stay in a frame)."""

    source: str
    source_ref: str
    received: int
    gateway: GatewayInfo | None = None
    batch_key: str | None = None


def _dead_letter(d: DeliveryMeta, r: Rejection, batch_id: int, now: datetime) -> DeadLetterRow:
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


def _new_batches(
    session: Session, metas: Sequence[DeliveryMeta], now: datetime
) -> list[IngestBatch]:
    """One batch row per delivery, or per ``batch_key`` shared by several deliveries."""
    shared: dict[str, IngestBatch] = {}
    out: list[IngestBatch] = []
    for d in metas:
        batch = shared.get(d.batch_key) if d.batch_key is not None else None
        if batch is None:
            batch = IngestBatch(
                source=SOURCE_CODES[d.source],
                source_ref=(d.batch_key or d.source_ref)[:300],
                gateway_id=d.gateway.id if d.gateway is not None else None,
                received_at=now, accepted=0, duplicates=0, rejected=0,
            )  # fmt: skip
            session.add(batch)
            if d.batch_key is not None:
                shared[d.batch_key] = batch
        elif d.gateway is None or batch.gateway_id != d.gateway.id:
            batch.gateway_id = None
        out.append(batch)
    return out


def _store_frame(valid: pl.DataFrame, metas: Sequence[DeliveryMeta],
                 batches: Sequence[IngestBatch], now: datetime) -> pl.DataFrame:  # fmt: skip
    per_delivery = pl.DataFrame(
        {
            "delivery": list(range(len(metas))),
            "source": [SOURCE_CODES[d.source] for d in metas],
            "batch_id": [b.id for b in batches],
        },
        schema={"delivery": pl.Int64, "source": pl.Int64, "batch_id": pl.Int64},
    )
    return valid.join(per_delivery, on="delivery", how="left").with_columns(
        pl.lit(now, UTC_US).alias("received_at"), pl.col("delivery").alias("part")
    )


def ingest_frame(
    session: Session,
    metas: Sequence[DeliveryMeta],
    raw: pl.DataFrame,
    raw_of: RawOf,
    *,
    policy: ValidationPolicy,
    now: datetime | None = None,
    dead_letters: bool = True,
    cache: MeterCache | None = None,
    deferred: DeferredRollups | None = None,
) -> list[IngestResult]:
    """Validate and store a raw frame (``delivery`` indexes ``metas``); no commit.

    ``deferred``: the day and month rollups and the analyser hours of appended meters are held
    there (a bulk import's chunks; the caller flushes it before committing).
    """
    now = now or datetime.now(UTC)
    cache = cache or MeterCache(policy)
    cache.update(session, raw.get_column("meter_code").drop_nulls().unique().to_list())
    gateways = [d.gateway for d in metas]
    check = validate_frame(raw, cache.meters, gateways, now, policy, raw_of, cache.table())
    valid = check.valid
    by_id = {m.id: m for m in cache.meters.values()}
    lock_meters(session, valid.get_column("meter_id").unique().to_list())
    batches = _new_batches(session, metas, now)
    session.flush()
    previous = partial(latest_state, session)
    valid, too_fast = check_frame_rates(valid, by_id, policy, raw_of, previous)
    outcome = store_frame(session, _store_frame(valid, metas, batches, now))
    measurements = {m: by_id[m].measurement for m in outcome.ranges}
    appended = refresh_after_store(session, outcome, measurements, policy.tz, deferred=deferred)
    analysers = monitored({m: by_id[m].carrier for m in outcome.ranges})
    hours = {m: outcome.ranges[m] for m in analysers}
    if deferred is not None:
        hours = deferred.hold_emission(session, hours, outcome.fresh_flags, appended)
    refresh_emission_hours(session, hours, outcome.fresh_flags)
    rejected: list[list[Rejection]] = [[] for _ in metas]
    for delivery, r in (*check.rejected, *too_fast):
        rejected[delivery].append(r)
    counts = valid.group_by("delivery").len()
    valid_n = dict(zip(counts["delivery"].to_list(), counts["len"].to_list(), strict=True))
    return _finish(session, metas, batches, rejected, valid_n, outcome, now, dead_letters)


def ingest_deliveries(
    session: Session,
    deliveries: Sequence[Delivery],
    *,
    policy: ValidationPolicy,
    now: datetime | None = None,
    dead_letters: bool = True,
) -> list[IngestResult]:
    """Validate and store the deliveries in the session's transaction (no commit).

    Rejected rows go to ``dead_letters`` unless ``dead_letters`` is False (an all-or-nothing
    import that will roll back anyway).
    """
    rows = [r for d in deliveries for r in d.rows]
    raw = raw_frame_from_readings([d.rows for d in deliveries])
    metas = [DeliveryMeta(d.source, d.source_ref, len(d.rows), d.gateway, d.batch_key)
             for d in deliveries]  # fmt: skip
    return ingest_frame(session, metas, raw, rows.__getitem__, policy=policy, now=now,
                        dead_letters=dead_letters)  # fmt: skip


def _finish(
    session: Session,
    metas: Sequence[DeliveryMeta],
    batches: Sequence[IngestBatch],
    rejected: list[list[Rejection]],
    valid_n: dict[int, int],
    outcome: FrameOutcome,
    now: datetime,
    keep_dead_letters: bool,
) -> list[IngestResult]:
    results: list[IngestResult] = []
    letters: list[DeadLetterRow] = []
    # counts summed per batch row first: a group commit shares one row among many deliveries
    totals: dict[int, tuple[IngestBatch, list[int]]] = {}
    for i, (d, batch, bad) in enumerate(zip(metas, batches, rejected, strict=True)):
        if len(bad) > 1:
            bad.sort(key=lambda r: r.row_no or 0)
        accepted = outcome.accepted.get(i, 0)
        duplicates = valid_n.get(i, 0) - accepted
        counts = totals.setdefault(id(batch), (batch, [0, 0, 0]))[1]
        counts[0] += accepted
        counts[1] += duplicates
        counts[2] += len(bad)
        results.append(IngestResult(batch.id, d.received, accepted, duplicates,
                                    outcome.corrections.get(i, 0), bad))  # fmt: skip
        if keep_dead_letters and bad:
            letters.extend(_dead_letter(d, r, batch.id, now) for r in bad)
    for batch, (accepted, duplicates, rejected_n) in totals.values():
        batch.accepted += accepted
        batch.duplicates += duplicates
        batch.rejected += rejected_n
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
    policy: ValidationPolicy,
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
    reject_deliveries(session, [RejectedDelivery(source, source_ref, code, message, payload,
                                                 gateway)], now=now)  # fmt: skip


def reject_deliveries(
    session: Session, rejected: Sequence[RejectedDelivery], *, now: datetime | None = None
) -> None:
    """Dead-letter whole deliveries (:class:`RejectedDelivery`) in the session's transaction."""
    at = now or datetime.now(UTC)
    rows = [
        DeadLetterRow(
            source=SOURCE_CODES[r.source],
            source_ref=r.source_ref,
            reason=r.code,
            message=r.message,
            payload=r.payload,
            received_at=at,
            gateway_id=r.gateway.id if r.gateway is not None else None,
            enterprise_id=r.gateway.enterprise_id if r.gateway is not None else None,
        )
        for r in rejected
    ]
    if rows:
        add_dead_letters(session, rows)
