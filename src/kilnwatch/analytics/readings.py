"""Bulk-load readings into numpy: per set of meters, or a whole period in one table scan.

The database computes integer epoch seconds and packs each row into four values: a key
``meter_id << 32 | ts``, the value, the flag and ``source + 8 * version + 2**20 *
received_at`` (``received_at`` only for real-time sources, the only ones for which a delivery
lag means anything). Few Python objects per row and no per-row datetime parsing; numpy then
sorts by (key, version), keeps the latest version per (meter, ts) with the number of versions
and the first version's value (for the detectors of corrections and late data), and splits
the arrays per meter.

A whole period (:func:`load_period_readings`) is read by one sequential scan of the period's
time range instead of an index walk per meter: rows are stored in delivery order (all meters
of a time step together), so reading one meter's rows through the primary key touches pages
all over the table, while a scan reads each page once. To hold a part of the meters at a
time, :func:`split_period_readings` makes the same one scan and writes each group's packed
rows to a file of its own (28 bytes a reading), which :meth:`SplitRows.load` reads back one
group at a time: one read of the period, whatever the number of groups.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from kilnwatch.store.dialects import PG_EPOCH_S, SQLITE_EPOCH_S, sqlite_timestamp
from kilnwatch.store.models import SOURCE_CODES

#: Sources that deliver in real time.
REAL_TIME_SOURCES = ("http", "mqtt", "hj212")
F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
#: Bits of the packed columns (meter id above the epoch seconds; source, version and
#: received epoch seconds in one integer).
TS_BITS = 32
SOURCE_BITS = 3
VERSION_BITS = 17
RECEIVED_SHIFT = SOURCE_BITS + VERSION_BITS
FETCH_ROWS = 500_000
SPLIT_FETCH_ROWS = 100_000
"""Rows per fetch of :func:`split_period_readings`, whose memory is one fetch (Python tuples):
with the 500 000 of :data:`FETCH_ROWS` a verification of 200 enterprises in chunks of 100 000
readings peaked at 434 MB, with 100 000 at 362 MB (docs/scaling.md, "Memory")."""


@dataclass(frozen=True)
class Series:
    """One meter's readings in a window, latest version per timestamp, sorted by time."""

    ts_s: I64  # [s since the epoch]
    value: F64
    flag: NDArray[np.object_]  # HJ 212 flag text, "" when none
    versions: I64  # number of stored versions of the timestamp
    first_value: F64  # value of version 1
    lag_s: I64  # received_at - ts of the latest version [s]; real-time sources only
    source: I64  # source code of the latest version (``SOURCE_CODES``)

    @property
    def size(self) -> int:
        return int(self.ts_s.size)


def empty_series() -> Series:
    f = np.zeros(0, dtype=np.float64)
    i = np.zeros(0, dtype=np.int64)
    return Series(i, f, np.zeros(0, dtype=object), i, f, i, i)


_SQLITE_EPOCH = SQLITE_EPOCH_S
_PG_EPOCH = PG_EPOCH_S
_LIVE = ",".join(str(SOURCE_CODES[k]) for k in REAL_TIME_SOURCES)


def _packed_sql(epoch: str, meter_filter: str, mark: str) -> str:
    ts, received = epoch.format(col="ts"), epoch.format(col="received_at")
    return (
        f"SELECT (CAST(meter_id AS BIGINT) << {TS_BITS}) | {ts}, value, COALESCE(flag, ''),"
        f" source + {1 << SOURCE_BITS} * version + CASE WHEN source IN ({_LIVE})"
        f" THEN {1 << RECEIVED_SHIFT} * {received} ELSE 0 END"
        f" FROM readings WHERE ts >= {mark} AND ts <= {mark}{meter_filter}"
    )


_SQLITE_REPEATS = (
    f"SELECT meter_id, {_SQLITE_EPOCH.format(col='ts')} FROM delivery_repeats"
    " WHERE ts >= ? AND ts <= ?{meters}"
)
_POSTGRES_REPEATS = (
    f"SELECT meter_id, {_PG_EPOCH.format(col='ts')} FROM delivery_repeats"
    " WHERE ts >= %s AND ts <= %s{meters}"
)


def _query(
    session: Session, kind: str, meter_ids: Sequence[int] | None, start_at: datetime,
    end_at: datetime,
) -> tuple[str, tuple[Any, ...]]:  # fmt: skip
    """SQL and parameters of ``kind`` (``readings`` or ``repeats``) for this dialect."""
    ids = None if meter_ids is None else [int(i) for i in meter_ids]
    if session.get_bind().dialect.name == "sqlite":
        where = "" if ids is None else f" AND meter_id IN ({','.join(map(str, ids))})"
        bounds: tuple[Any, ...] = (sqlite_timestamp(start_at), sqlite_timestamp(end_at))
        if kind == "readings":
            return _packed_sql(_SQLITE_EPOCH, where, "?"), bounds
        return _SQLITE_REPEATS.format(meters=where), bounds
    where = "" if ids is None else " AND meter_id = ANY(%s)"
    params = (start_at, end_at) if ids is None else (start_at, end_at, ids)
    if kind == "readings":
        return _packed_sql(_PG_EPOCH, where, "%s"), params
    return _POSTGRES_REPEATS.format(meters=where), params


def _chunks(
    session: Session, sql: str, params: tuple[Any, ...], server_side: bool = False,
    rows: int = FETCH_ROWS,
) -> Iterator[Sequence[Any]]:  # fmt: skip
    """Rows straight from the DB-API cursor, in chunks: the hot path skips ORM processing.
    ``server_side``: on PostgreSQL a named cursor, which fetches each chunk from the server
    (a plain cursor receives the whole result into the client at once: a month's scan held
    every row twice, as the driver's result and as arrays)."""
    session.flush()
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    on_server = server_side and session.get_bind().dialect.name == "postgresql"
    cursor = dbapi.cursor(name="kilnwatch_period_readings") if on_server else dbapi.cursor()
    try:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(rows):
            yield chunk
    finally:
        cursor.close()


@dataclass(frozen=True)
class PackedRows:
    """Columns of :func:`_packed_sql` rows, in no particular order."""

    key: I64
    value: F64
    flag: NDArray[np.object_]
    extra: I64

    @classmethod
    def from_chunks(cls, chunks: Iterator[Sequence[Any]]) -> PackedRows:
        keys, values, flags, extras = [], [], [], []
        for rows in chunks:
            n = len(rows)
            keys.append(np.fromiter(map(itemgetter(0), rows), np.int64, n))
            values.append(np.fromiter(map(itemgetter(1), rows), np.float64, n))
            flags.append(np.fromiter(map(itemgetter(2), rows), object, n))
            extras.append(np.fromiter(map(itemgetter(3), rows), np.int64, n))
        if not keys:
            return cls(
                np.zeros(0, np.int64), np.zeros(0), np.zeros(0, object), np.zeros(0, np.int64)
            )
        return cls(
            np.concatenate(keys), np.concatenate(values), np.concatenate(flags),
            np.concatenate(extras),
        )  # fmt: skip


def series_by_meter(rows: PackedRows) -> dict[int, Series]:
    """Latest version per (meter, ts), with version counts and first values, per meter."""
    if rows.key.size == 0:
        return {}
    version = (rows.extra >> SOURCE_BITS) & ((1 << VERSION_BITS) - 1)
    order = np.lexsort((version, rows.key))
    key, extra = rows.key[order], rows.extra[order]
    new_key = np.empty(key.size, dtype=bool)
    new_key[0] = True
    np.not_equal(key[1:], key[:-1], out=new_key[1:])
    first = np.flatnonzero(new_key)
    last = np.append(first[1:] - 1, key.size - 1)
    ukey, latest = key[last], extra[last]
    meter, ts = ukey >> TS_BITS, ukey & ((1 << TS_BITS) - 1)
    received = latest >> RECEIVED_SHIFT
    columns = (
        ts,
        rows.value[order[last]],
        rows.flag[order[last]],
        (last - first + 1).astype(np.int64),
        rows.value[order[first]],
        np.where(received > 0, received - ts, 0),
        latest & ((1 << SOURCE_BITS) - 1),
    )
    cuts = np.flatnonzero(np.diff(meter)) + 1
    starts = np.concatenate(([0], cuts))
    parts = [np.split(c, cuts) for c in columns]
    return {int(meter[s]): Series(*(p[i] for p in parts)) for i, s in enumerate(starts)}


def load_readings(
    session: Session, meter_ids: Sequence[int], start_at: datetime, end_at: datetime
) -> dict[int, Series]:
    """Readings of ``meter_ids`` with ``start_at <= ts <= end_at``, per meter."""
    if not meter_ids:
        return {}
    sql, params = _query(session, "readings", meter_ids, start_at, end_at)
    return series_by_meter(PackedRows.from_chunks(_chunks(session, sql, params)))


def load_period_readings(
    session: Session, start_at: datetime, end_at: datetime
) -> dict[int, Series]:
    """Readings of every meter with ``start_at <= ts <= end_at``, per meter: one scan."""
    sql, params = _query(session, "readings", None, start_at, end_at)
    return series_by_meter(PackedRows.from_chunks(_chunks(session, sql, params, True)))


#: One packed row on disk (:func:`split_period_readings`): the flag as an index into the
#: flags met in the scan.
SPLIT_ROW = np.dtype([("key", np.int64), ("value", np.float64), ("extra", np.int64),
                      ("flag", np.int32)])  # fmt: skip


@dataclass(frozen=True)
class SplitRows:
    """The rows of one group of meters written by :func:`split_period_readings`."""

    path: Path
    flags: list[str]  # the flags met in the whole scan, by index (filled by the scan)
    rows: int

    def load(self) -> PackedRows:
        """The group's rows, in the order of the scan."""
        if not self.rows:
            return PackedRows.from_chunks(iter(()))
        packed = np.fromfile(self.path, dtype=SPLIT_ROW)
        flags = np.array(self.flags, dtype=object)[packed["flag"]]
        key, value, extra = (np.ascontiguousarray(packed[c]) for c in ("key", "value", "extra"))
        return PackedRows(key, value, flags, extra)  # contiguous columns sort faster


def split_period_readings(
    session: Session, start_at: datetime, end_at: datetime, group_of: Mapping[int, int],
    groups: int, folder: Path,
) -> list[SplitRows]:  # fmt: skip
    """Readings of every meter with ``start_at <= ts <= end_at`` by one scan (as
    :func:`load_period_readings`), written per group of meters to ``folder``.

    Parameters
    ----------
    session : Session
        Where the readings are read.
    start_at, end_at : datetime
        The range of ``ts`` read, both ends included.
    group_of : Mapping[int, int]
        The group (``0 .. groups - 1``) of each meter id; rows of other meters are skipped.
    groups : int
        The number of groups.
    folder : Path
        An existing folder for the groups' files (``group_<n>.rows``; the caller removes it).

    Returns
    -------
    list of SplitRows
        Per group, its file; :meth:`SplitRows.load` gives the rows
        :func:`series_by_meter` takes. Only one fetch of rows is held in memory at a time.
    """
    ids = np.fromiter(group_of.keys(), np.int64, len(group_of))
    lookup = np.full(int(ids.max()) + 2 if ids.size else 1, -1, dtype=np.int64)
    lookup[ids] = np.fromiter(group_of.values(), np.int64, len(group_of))
    codes: dict[str, int] = {}
    counts = [0] * groups
    paths = [folder / f"group_{n}.rows" for n in range(groups)]
    for path in paths:
        path.write_bytes(b"")
    sql, params = _query(session, "readings", None, start_at, end_at)
    for rows in _chunks(session, sql, params, server_side=True, rows=SPLIT_FETCH_ROWS):
        n = len(rows)
        packed = np.empty(n, dtype=SPLIT_ROW)
        packed["key"] = np.fromiter(map(itemgetter(0), rows), np.int64, n)
        packed["value"] = np.fromiter(map(itemgetter(1), rows), np.float64, n)
        flags = np.fromiter(map(itemgetter(2), rows), object, n).astype(str)
        found, index = np.unique(flags, return_inverse=True)
        code = np.array([codes.setdefault(str(f), len(codes)) for f in found], np.int32)
        packed["flag"] = code[index.reshape(-1)]
        packed["extra"] = np.fromiter(map(itemgetter(3), rows), np.int64, n)
        meter = np.minimum(packed["key"] >> TS_BITS, lookup.size - 1)
        group = lookup[meter]
        order = np.argsort(group, kind="stable")  # the scan's order within a group
        bounds = np.searchsorted(group[order], np.arange(groups + 1))
        for g in range(groups):
            first, stop = int(bounds[g]), int(bounds[g + 1])
            if stop > first:
                with paths[g].open("ab") as out:
                    packed[order[first:stop]].tofile(out)
                counts[g] += stop - first
    flags_by_code = list(codes)
    return [SplitRows(p, flags_by_code, c) for p, c in zip(paths, counts, strict=True)]


def load_repeats(
    session: Session, meter_ids: Sequence[int] | None, start_at: datetime, end_at: datetime
) -> dict[int, I64]:
    """Timestamps [epoch s, sorted] of repeated deliveries (``delivery_repeats``) per meter,
    one entry per repeated delivery, with ``start_at <= ts <= end_at`` (every meter when
    ``meter_ids`` is None)."""
    if meter_ids is not None and not meter_ids:
        return {}
    sql, params = _query(session, "repeats", meter_ids, start_at, end_at)
    rows = [r for chunk in _chunks(session, sql, params) for r in chunk]
    if not rows:
        return {}
    pairs = np.asarray(rows, dtype=np.int64).reshape(-1, 2)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    ids, starts = np.unique(pairs[:, 0], return_index=True)
    return {int(m): part for m, part in zip(ids, np.split(pairs[:, 1], starts[1:]), strict=True)}
