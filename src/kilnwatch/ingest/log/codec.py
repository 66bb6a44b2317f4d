"""Log messages (pure): deliveries and rejected deliveries as JSON, their id and subject.

A message carries what a front end received and authenticated, for a writer to validate
and store through :func:`kilnwatch.ingest.pipeline.ingest_frame`::

    {"v": 1, "received_at": "2026-11-28T04:30:00.123456+00:00",
     "deliveries": [{"source": "http", "source_ref": "GW-1", "gateway": [7, "GW-1", 3, "http"],
                     "batch_key": null,
                     "rows": [[meter_code, ts, value, unit, flag, row_no, payload], ...]},
                    {"source": "mqtt", "source_ref": "kilnwatch/v1/GW-2/readings",
                     "gateway": null, "reject": ["ingest.unknown_gateway", "message", "payload"]}]}

``ts`` is text (ISO 8601 as received, or the decoded time of an HJ 212 frame in ISO form);
``payload`` is the row as received (kept for dead letters). Large deliveries are split into
messages of at most ``max_bytes`` (JetStream refuses a payload above ``max_payload``, 1 MiB by
default); the rows keep their numbers.

The message id (``Nats-Msg-Id``) is a SHA-256 of the content without the receive time, so a
message published again (a front end retrying after a lost acknowledgement, or a sender's
redelivery after a front end's crash) within the stream's duplicate window is stored once by
JetStream; anything else that repeats is absorbed by the readings store, which is keyed by
(meter, ts, version).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kilnwatch.errors import InputError
from kilnwatch.ingest.pipeline import Delivery, RejectedDelivery
from kilnwatch.ingest.validate import GatewayInfo, RawReading

VERSION = 1
MAX_MESSAGE_BYTES = 512 * 1024
"""Largest message body a front end publishes (JetStream's default ``max_payload`` is 1 MiB)."""
MALFORMED = "ingest.log_malformed"


@dataclass(frozen=True)
class LogMessage:
    """One message to publish: its subject, id (``Nats-Msg-Id``), body and reading count."""

    subject: str
    msg_id: str
    body: bytes
    readings: int
    source: str


@dataclass(frozen=True)
class DecodedMessage:
    """A message as a writer reads it back."""

    received_at: datetime
    deliveries: list[Delivery]
    rejected: list[RejectedDelivery]


ENVELOPE_BYTES = 128
"""Room kept in every message for its envelope (version, receive time, brackets)."""


def _dumps(value: object) -> str:
    """Compact JSON, ASCII only: a part's length in characters is its length in bytes."""
    return json.dumps(value, separators=(",", ":"), default=str)


def _gateway(g: GatewayInfo | None) -> list[object] | None:
    return None if g is None else [g.id, g.code, g.enterprise_id, g.protocol]


def _row(r: RawReading) -> str:
    ts = r.ts.isoformat() if isinstance(r.ts, datetime) else r.ts
    return _dumps([r.meter_code, ts, r.value, r.unit, r.flag, r.row_no, dict(r.payload)])


def partition_subject(subject: str, key: str, partitions: int) -> str:
    """``<subject>.<n>`` with ``n`` = CRC-32 of ``key`` (the gateway) modulo ``partitions``:
    one sender's messages stay on one subject, so writers can be split by subject."""
    return f"{subject}.{zlib.crc32(key.encode()) % partitions}"


def _head(source: str, source_ref: str, gateway: GatewayInfo | None, batch_key: str | None,
          ) -> str:  # fmt: skip
    head = {"source": source, "source_ref": source_ref, "gateway": _gateway(gateway),
            "batch_key": batch_key}  # fmt: skip
    return _dumps(head)[:-1]  # the object left open for its rows


def _message(parts: Sequence[str], readings: int, source: str, key: str, received_at: datetime,
             subject: str, partitions: int) -> LogMessage:  # fmt: skip
    content = "[" + ",".join(parts) + "]"
    msg_id = hashlib.sha256(content.encode()).hexdigest()
    body = f'{{"v":{VERSION},"received_at":"{received_at.isoformat()}","deliveries":{content}}}'
    return LogMessage(partition_subject(subject, key, partitions), msg_id, body.encode(),
                      readings, source)  # fmt: skip


class _Messages:
    """Parts (one per delivery or piece of a delivery) gathered into messages of bounded size."""

    def __init__(self, received_at: datetime, subject: str, partitions: int, max_bytes: int,
                 ) -> None:  # fmt: skip
        self.received_at, self.subject, self.partitions = received_at, subject, partitions
        self.max_bytes = max_bytes - ENVELOPE_BYTES
        self.out: list[LogMessage] = []
        self.parts: list[str] = []
        self.size = self.readings = 0
        self.first: Delivery | RejectedDelivery | None = None

    def add(self, owner: Delivery | RejectedDelivery, part: str, readings: int) -> None:
        if self.parts and self.size + len(part) > self.max_bytes:
            self.flush()
        self.first = self.first or owner
        self.parts.append(part)
        self.size += len(part) + 1
        self.readings += readings

    def room(self) -> int:
        """Bytes left in the message being filled."""
        return self.max_bytes - self.size

    def flush(self) -> None:
        first = self.first
        if self.parts and first is not None:
            key = first.gateway.code if first.gateway is not None else first.source_ref
            self.out.append(_message(self.parts, self.readings, first.source, key,
                                     self.received_at, self.subject, self.partitions))  # fmt: skip
        self.parts, self.size, self.readings, self.first = [], 0, 0, None


def encode(
    deliveries: Sequence[Delivery],
    rejected: Sequence[RejectedDelivery],
    received_at: datetime,
    *,
    subject: str,
    partitions: int,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> list[LogMessage]:
    """The messages carrying these deliveries, in order; a message holds at most ``max_bytes``
    unless one row alone is larger (a delivery too large for one message is split into
    pieces with the same source, each row keeping its number)."""
    messages = _Messages(received_at, subject, partitions, max_bytes)
    for r in rejected:
        head = _head(r.source, r.source_ref, r.gateway, None)
        messages.add(r, head + f',"reject":{_dumps([r.code, r.message, r.payload])}}}', 0)
    for d in deliveries:
        head = _head(d.source, d.source_ref, d.gateway, d.batch_key) + ',"rows":['
        rows = [_row(r) for r in d.rows]
        start = 0
        while True:
            room = messages.room() - len(head) - 2
            if messages.parts and start < len(rows) and room < len(rows[start]) + 1:
                messages.flush()
                room = messages.room() - len(head) - 2
            end, used = start, 0
            while end < len(rows) and (end == start or used + len(rows[end]) + 1 <= room):
                used += len(rows[end]) + 1
                end += 1
            messages.add(d, head + ",".join(rows[start:end]) + "]}", end - start)
            start = end
            if start >= len(rows):
                break
            messages.flush()
    messages.flush()
    return messages.out


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _decode_row(item: object) -> RawReading:
    if not isinstance(item, list) or len(item) != 7:
        raise ValueError("a row is a list of 7 fields")
    code, ts, value, unit, flag, row_no, payload = item
    if isinstance(value, bool) or not isinstance(value, int | float | str | None):
        raise ValueError("value must be a number, text or null")
    if not isinstance(payload, dict):
        raise ValueError("payload must be an object")
    number = int(row_no) if isinstance(row_no, int) else None
    return RawReading(_text(code), _text(ts), value, _text(unit), _text(flag), number, payload)


def _decode_gateway(item: object) -> GatewayInfo | None:
    if item is None:
        return None
    if not isinstance(item, list) or len(item) != 4:
        raise ValueError("gateway is [id, code, enterprise_id, protocol]")
    return GatewayInfo(int(item[0]), str(item[1]), int(item[2]), str(item[3]))


def _decode_delivery(item: Mapping[str, Any]) -> Delivery | RejectedDelivery:
    source, ref = str(item["source"]), str(item["source_ref"])
    gateway = _decode_gateway(item.get("gateway"))
    if "reject" in item:
        code, message, payload = item["reject"]
        return RejectedDelivery(source, ref, str(code), str(message), str(payload), gateway)
    rows = [_decode_row(r) for r in item["rows"]]
    key = item.get("batch_key")
    return Delivery(source, ref, rows, gateway, None if key is None else str(key))


def decode(body: bytes) -> DecodedMessage:
    """Read a message back.

    Raises
    ------
    InputError
        ``ingest.log_malformed``: not a version-1 message of this format.
    """
    try:
        doc = json.loads(body)
        if not isinstance(doc, dict) or doc.get("v") != VERSION:
            raise ValueError(f"not a version {VERSION} log message")
        received_at = datetime.fromisoformat(doc["received_at"])
        deliveries: list[Delivery] = []
        rejected: list[RejectedDelivery] = []
        for item in doc["deliveries"]:
            d = _decode_delivery(item)
            (rejected if isinstance(d, RejectedDelivery) else deliveries).append(d)  # type: ignore[arg-type]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise InputError(f"unreadable log message: {exc}", code=MALFORMED) from None
    return DecodedMessage(received_at, deliveries, rejected)
