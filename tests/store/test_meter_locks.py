"""Writers of the same meters are serialised by advisory locks on the meters' slots; a file of
a whole province takes at most ``LOCK_SLOTS`` locks (17 000 meters in one import overflowed the
server's lock table, ``out of shared memory``: ``benchmarks/scale.py --enterprises 1000``)."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from kilnwatch.store.locks import ADVISORY_LOCK_CLASS, LOCK_SLOTS, lock_meters

_MINE = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
_TRY = "SELECT pg_try_advisory_xact_lock(:cls, :k)"


def test_a_province_of_meters_takes_at_most_the_slots(own_pg_database: str) -> None:
    engine = create_engine(own_pg_database.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with Session(engine) as writer, writer.begin():
            lock_meters(writer, range(1, 20_001))  # more than the lock table holds
            assert writer.scalar(text(_MINE)) == LOCK_SLOTS
    finally:
        engine.dispose()


def test_a_meters_writers_wait_for_each_other_and_others_do_not(own_pg_database: str) -> None:
    engine = create_engine(own_pg_database.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with Session(engine) as first, first.begin(), engine.connect() as other:
            lock_meters(first, [5])
            same_slot = {"cls": ADVISORY_LOCK_CLASS, "k": 5}
            assert other.scalar(text(_TRY), same_slot) is False  # meter 5, or 5 + LOCK_SLOTS
            assert other.scalar(text(_TRY), {**same_slot, "k": 6}) is True
            other.rollback()
    finally:
        engine.dispose()
