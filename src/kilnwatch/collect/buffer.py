"""The on-disk buffer of the edge collector (SQLite, standard library only).

Every polled reading is written here first (WAL, ``synchronous=FULL``: on disk when the
transaction returns), and deleted only after the platform acknowledged the batch that carried
it. Row ids never repeat (``AUTOINCREMENT``), so a batch is deleted by its ids even while new
readings arrive. The last value of each counter is kept beside, in the same transaction, for
the roll-over check after a restart; events (roll-overs, resets, refused values) are kept for
the operator.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    meter_code TEXT NOT NULL, ts TEXT NOT NULL, value REAL NOT NULL, unit TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    meter_code TEXT PRIMARY KEY, value REAL NOT NULL, ts TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL, code TEXT NOT NULL, meter_code TEXT NOT NULL, message TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class BufferedReading:
    """A reading as the platform's JSON payload carries it (docs/formats.md)."""

    meter_code: str
    ts: datetime
    value: float
    unit: str

    def to_json(self) -> dict[str, object]:
        return {"meter_code": self.meter_code, "ts": self.ts.isoformat(),
                "value": self.value, "unit": self.unit}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime
    code: str
    meter_code: str
    message: str


class Buffer:
    """A SQLite file holding readings not yet acknowledged by the platform."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def add(self, readings: Sequence[BufferedReading], counters: Iterable[BufferedReading] = (),
            events: Iterable[Event] = ()) -> None:  # fmt: skip
        """Store readings, the new last value of counters and events in one transaction."""
        with self._transaction():
            self._db.executemany(
                "INSERT INTO readings (meter_code, ts, value, unit) VALUES (?, ?, ?, ?)",
                [(r.meter_code, r.ts.isoformat(), r.value, r.unit) for r in readings])  # fmt: skip
            self._db.executemany(
                "INSERT INTO counters (meter_code, value, ts) VALUES (?, ?, ?) ON CONFLICT "
                "(meter_code) DO UPDATE SET value = excluded.value, ts = excluded.ts",
                [(c.meter_code, c.value, c.ts.isoformat()) for c in counters])  # fmt: skip
            self._db.executemany(
                "INSERT INTO events (at, code, meter_code, message) VALUES (?, ?, ?, ?)",
                [(e.at.isoformat(), e.code, e.meter_code, e.message) for e in events])  # fmt: skip

    def oldest(self, limit: int) -> list[tuple[int, BufferedReading]]:
        """Up to ``limit`` readings in the order they were buffered, with their ids."""
        rows = self._db.execute(
            "SELECT id, meter_code, ts, value, unit FROM readings ORDER BY id LIMIT ?", (limit,)
        )
        return [(i, BufferedReading(m, datetime.fromisoformat(ts), v, u))
                for i, m, ts, v, u in rows]  # fmt: skip

    def delete(self, ids: Sequence[int]) -> None:
        """Forget acknowledged readings."""
        with self._transaction():
            self._db.executemany("DELETE FROM readings WHERE id = ?", [(i,) for i in ids])

    def count(self) -> int:
        row = self._db.execute("SELECT count(*) FROM readings").fetchone()
        return int(row[0])

    def last_counters(self) -> dict[str, float]:
        """Last buffered value of every counter."""
        return dict(self._db.execute("SELECT meter_code, value FROM counters").fetchall())

    def events(self, limit: int = 100) -> list[Event]:
        rows = self._db.execute(
            "SELECT at, code, meter_code, message FROM events ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [Event(datetime.fromisoformat(a), c, m, msg) for a, c, m, msg in rows]

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self._db.execute("ROLLBACK" if exc_type is not None else "COMMIT")


def utc_now() -> datetime:
    return datetime.now(UTC)
