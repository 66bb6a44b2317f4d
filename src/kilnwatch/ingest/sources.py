"""Parsing delivered payloads into :class:`RawReading` rows (pure: bytes/text in, rows out).

The payloads are those of docs/formats.md: a JSON object ``{"readings": [...]}``, a single
reading object, or readings CSV text (``meter_code, ts, value, unit, flag``). A payload that
cannot be read at all raises :class:`~kilnwatch.errors.InputError` with code
``ingest.malformed``; a row with a wrong field still becomes a RawReading and is refused by
validation with its own code, so every row is accounted for.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

from kilnwatch.errors import InputError
from kilnwatch.identity import verify_secret
from kilnwatch.ingest.validate import RawReading

READING_FIELDS = ("meter_code", "ts", "value", "unit", "flag")
REQUIRED_FIELDS = ("meter_code", "ts", "value")
MALFORMED = "ingest.malformed"


class ReadingSource(Protocol):
    """Anything that yields readings in delivery order (files, decoded messages, tests)."""

    def __iter__(self) -> Iterator[RawReading]: ...


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def reading_from_mapping(item: Mapping[str, Any], row_no: int) -> RawReading:
    """One reading object (JSON or CSV row) as a RawReading; the mapping is the payload."""
    value = item.get("value")
    return RawReading(
        meter_code=_text(item.get("meter_code")),
        ts=_text(item.get("ts")),
        value=value
        if isinstance(value, int | float) and not isinstance(value, bool)
        else _text(value),
        unit=_text(item.get("unit")) or None,
        flag=_text(item.get("flag")) or None,
        row_no=row_no,
        payload=dict(item),
    )


def parse_json_readings(data: bytes | str) -> list[RawReading]:
    """Readings of a JSON payload (``{"readings": [...]}`` or one reading object)."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"not JSON: {exc}", code=MALFORMED) from None
    items: Iterable[object]
    if isinstance(doc, dict) and "readings" in doc:
        items = doc["readings"] if isinstance(doc["readings"], list) else [None]
    elif isinstance(doc, dict):
        items = [doc]
    else:
        raise InputError("expected an object with 'readings' or a reading object", code=MALFORMED)
    rows = []
    for row_no, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise InputError("each reading must be an object", row=row_no, code=MALFORMED)
        rows.append(reading_from_mapping(item, row_no))
    return rows


def check_columns(fieldnames: Iterable[str] | None, file: str | None = None) -> None:
    """Refuse a header with unknown or missing columns (docs/formats.md)."""
    names = [n.strip() for n in fieldnames or ()]
    unknown = sorted(set(names) - set(READING_FIELDS))
    missing = sorted(set(REQUIRED_FIELDS) - set(names))
    if unknown or missing:
        reason = f"unknown column(s) {unknown}, missing column(s) {missing}"
        raise InputError(reason, file=file, row=None, code=MALFORMED)


def iter_csv_readings(lines: Iterable[str], file: str | None = None) -> Iterator[RawReading]:
    """Readings of CSV text lines in the readings format, row numbers from 1."""
    reader = csv.DictReader(lines)
    if reader.fieldnames:
        reader.fieldnames = [n.lstrip("\ufeff").strip() for n in reader.fieldnames]
    check_columns(reader.fieldnames, file)
    for row_no, row in enumerate(reader, start=1):
        yield reading_from_mapping({k: v for k, v in row.items() if k is not None}, row_no)


def parse_csv_readings(data: bytes | str) -> list[RawReading]:
    """Readings of a CSV payload."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    return list(iter_csv_readings(io.StringIO(text)))


def payload_json(raw: RawReading) -> str:
    """The received row as JSON text for the dead-letter store."""
    return json.dumps(dict(raw.payload), ensure_ascii=False, default=str)


class SecretCache:
    """Outcomes of scrypt checks of gateway secrets, so that scrypt runs once per secret.

    Whether a presented secret matches a stored hash never changes, so both matches and
    mismatches are kept (a device sending a wrong password in every frame costs one scrypt,
    not one per frame) until the stored hash changes: the key is the stored hash (with its
    salt) and a SHA-256 of the presented secret, so a rotated secret takes effect at once and
    the old one no longer opens the gateway. The least recently used entry goes when
    ``max_entries`` is reached. Safe to share between threads (a lost update only costs one
    more scrypt).
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._known: OrderedDict[tuple[str, bytes], bool] = OrderedDict()
        self.checks = 0
        """scrypt checks run (the rest were answered from the cache)."""

    @staticmethod
    def _key(secret: str, stored_hash: str) -> tuple[str, bytes]:
        return stored_hash, hashlib.sha256(secret.encode()).digest()

    def cached(self, secret: str, stored_hash: str | None) -> bool | None:
        """The known outcome for ``secret``, or None when only scrypt can tell."""
        if not stored_hash:
            return False
        key = self._key(secret, stored_hash)
        known = self._known.get(key)
        if known is not None:
            with contextlib.suppress(KeyError):  # another thread may have evicted it
                self._known.move_to_end(key)
        return known

    def verify(self, secret: str, stored_hash: str | None) -> bool:
        """Whether ``secret`` matches ``stored_hash`` (scrypt at most once per secret)."""
        known = self.cached(secret, stored_hash)
        if known is not None:
            return known
        assert stored_hash is not None  # cached() answers False without a hash
        self.checks += 1
        outcome = verify_secret(secret, stored_hash)
        while len(self._known) >= self.max_entries:
            with contextlib.suppress(KeyError, StopIteration):
                self._known.popitem(last=False)
        self._known[self._key(secret, stored_hash)] = outcome
        return outcome
