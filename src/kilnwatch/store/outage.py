"""Telling a database that is away or full from a bug (issue 22, fault tests).

An ``OperationalError`` is also what SQLite raises for a misspelt column, so only the cases
below count as the store being unavailable: the caller may retry later (the web answers 503
``store.unavailable`` with ``Retry-After``, ingest workers keep the batch and retry). A full
disk is named apart (``store.disk_full``): an import stops with that error and nothing of it
is stored.
"""

from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy.exc import DBAPIError

QUERY_CANCELED = "57014"  # PostgreSQL: statement_timeout reached (or a cancel request)
SESSION_ENDED = frozenset({"25P03", "57P05"})
"""PostgreSQL ended a session idle in a transaction (or idle) too long: its work was rolled
back, the connection is gone; a new one works (``db_idle_in_transaction_timeout_s``)."""
_SQLITE_FULL = ("database or disk is full", "disk i/o error")
_SQLITE_AWAY = ("database is locked", "unable to open database file")


def outage_code(exc: BaseException) -> str | None:
    """``store.disk_full``, ``store.unavailable``, ``store.timeout`` (a statement ran past
    ``statement_timeout``) or None (not an outage: a bug or bad input).
    ``exc`` is SQLAlchemy's wrapper or the driver's own error (bulk paths use raw cursors)."""
    invalidated = isinstance(exc, DBAPIError) and exc.connection_invalidated
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if not isinstance(orig, sqlite3.OperationalError | psycopg.Error):
        return None
    text = str(orig).lower()
    if any(s in text for s in _SQLITE_FULL) or "no space left on device" in text:
        return "store.disk_full"
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate == QUERY_CANCELED:
        return "store.timeout"
    if sqlstate in SESSION_ENDED:
        return "store.unavailable"
    if invalidated or any(s in text for s in _SQLITE_AWAY):
        return "store.unavailable"
    if isinstance(orig, psycopg.OperationalError):
        return "store.unavailable"  # connection refused or lost, server shutting down
    return None
