"""Who may send readings, for every protocol: the gateway directory and the secret check.

* :class:`GatewayEntry`: an active registered gateway (采集网关 / 数采仪): who it is
  (:class:`~kilnwatch.ingest.validate.GatewayInfo`), its stored secret hash and, for an HJ 212
  data logger, its MN, its allowed protocol deviations and its meters by pollutant code.
* :func:`load_gateways`: the one query that builds entries from the registry (``gateways`` and
  the ``hj212_code`` of their meters).
* :class:`GatewayDirectory`: the active gateways of one protocol by code (MQTT topics) or by MN
  (HJ 212), reloaded every minute, for long-running receivers.
* :func:`gateway_by_code`: one gateway read in the caller's transaction (HTTP, per request, so
  that a deactivated gateway or a rotated secret applies at once).
* :class:`SecretCheck`: scrypt of a presented secret against the stored hash, run once per
  (stored hash, secret); :meth:`~SecretCheck.verify` for threads, :meth:`~SecretCheck.verify_soon`
  for event loops (scrypt in one background thread, off the loop).

HTTP checks the Basic-auth password and HJ 212 the frame's ``PW`` with the same
:class:`SecretCheck`; MQTT leaves authentication to the broker (docs/ingestion.md) and uses the
directory to know a topic's gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kilnwatch.identity import verify_secret
from kilnwatch.ingest.hj212.model import STRICT, Compat, parse_compat
from kilnwatch.ingest.validate import GatewayInfo
from kilnwatch.store.models import Gateway, Meter

RELOAD_S = 60.0
"""Age of a directory after which the next lookup reloads it [s]."""
MISS_RELOAD_S = 1.0
"""Shortest interval between reloads caused by an unknown key [s] (a new gateway is found
within a second, and a sender with an unknown key cannot make the directory reload faster)."""


@dataclass(frozen=True)
class GatewayEntry:
    """An active gateway of the registry with what it takes to authenticate and map its data.

    ``hj212_meters`` maps an HJ 212 pollutant code (``a21026``) to the code of the meter of
    this gateway that measures it.
    """

    gateway: GatewayInfo
    secret_hash: str | None
    mn: str | None = None
    hj212_compat: frozenset[Compat] = STRICT
    hj212_meters: Mapping[str, str] = field(default_factory=dict)


def load_gateways(
    session: Session, *, protocol: str | None = None, code: str | None = None
) -> list[GatewayEntry]:
    """Active gateways (of ``protocol``, or the one with ``code``) with their HJ 212 meters."""
    stmt = select(Gateway).where(Gateway.active.is_(True))
    if protocol is not None:
        stmt = stmt.where(Gateway.protocol == protocol)
    if code is not None:
        stmt = stmt.where(Gateway.code == code)
    gateways = session.scalars(stmt).all()
    hj212_ids = [g.id for g in gateways if g.protocol == "hj212"]
    meters: dict[int, dict[str, str]] = {}
    if hj212_ids:
        rows = select(Meter.gateway_id, Meter.hj212_code, Meter.code).where(
            Meter.hj212_code.is_not(None)
        )
        if code is not None:
            rows = rows.where(Meter.gateway_id.in_(hj212_ids))
        for gateway_id, hj212_code, meter_code in session.execute(rows):
            if gateway_id is not None and hj212_code is not None:
                meters.setdefault(gateway_id, {})[hj212_code] = meter_code
    return [
        GatewayEntry(
            GatewayInfo(g.id, g.code, g.enterprise_id, g.protocol),
            g.secret_hash,
            g.mn,
            parse_compat(g.hj212_compat) if g.hj212_compat else STRICT,
            meters.get(g.id, {}),
        )  # fmt: skip
        for g in gateways
    ]


def gateway_by_code(session: Session, code: str) -> GatewayEntry | None:
    """The active gateway with ``code``, read now in the session's transaction."""
    found = load_gateways(session, code=code)
    return found[0] if found else None


class GatewayDirectory:
    """The active gateways of one protocol, by code or by MN, from the registry.

    Reloaded when older than :data:`RELOAD_S` and, at most every ``miss_reload_s`` (None:
    never), when asked for an unknown key. ``generation`` grows at every reload, so that
    caches built from registry data can tell when to drop themselves.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        protocol: str,
        *,
        by: Literal["code", "mn"] = "code",
        miss_reload_s: float | None = MISS_RELOAD_S,
    ) -> None:
        self._factory = factory
        self.protocol = protocol
        self.by = by
        self.miss_reload_s = miss_reload_s
        self._entries: dict[str, GatewayEntry] = {}
        self._loaded = -RELOAD_S
        self.generation = 0

    def reload(self) -> None:
        """Read the protocol's active gateways again."""
        with self._factory() as session:
            entries = load_gateways(session, protocol=self.protocol)
        keyed = ((e.mn if self.by == "mn" else e.gateway.code, e) for e in entries)
        self._entries = {key: e for key, e in keyed if key}
        self._loaded = time.monotonic()
        self.generation += 1

    def lookup(self, key: str) -> GatewayEntry | None:
        """The gateway with this code (or MN), or None."""
        age = time.monotonic() - self._loaded
        if age > RELOAD_S or (
            self.miss_reload_s is not None and key not in self._entries and age > self.miss_reload_s
        ):
            self.reload()
        return self._entries.get(key)


class SecretCheck:
    """Gateway secrets checked against their stored scrypt hashes, each outcome kept.

    Whether a presented secret matches a stored hash never changes, so both matches and
    mismatches are kept (a device sending a wrong password in every frame costs one scrypt,
    not one per frame) until the stored hash changes: the key is the stored hash (with its
    salt) and a SHA-256 of the presented secret, so a rotated secret takes effect at once and
    the old one no longer opens the gateway. The least recently used outcome goes when
    ``max_entries`` is reached. Safe to share between threads (a lost update only costs one
    more scrypt).
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._known: OrderedDict[tuple[str, bytes], bool] = OrderedDict()
        self._pending: dict[tuple[str, bytes], asyncio.Future[bool]] = {}
        self._executor: ThreadPoolExecutor | None = None
        self.checks = 0
        """scrypt checks run (the rest were answered from the kept outcomes)."""

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
        """Whether ``secret`` matches ``stored_hash`` (blocks for scrypt, at most once)."""
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

    def verify_soon(self, secret: str, stored_hash: str | None) -> asyncio.Future[bool]:
        """:meth:`verify` for a caller on an event loop, as a future of the running loop.

        scrypt (≈ 65 ms) runs in this check's one background thread, so a reconnect storm
        takes at most one core and verified senders are not held up; callers presenting the
        same secret for the same hash meanwhile share one run.
        """
        loop = asyncio.get_running_loop()
        known = self.cached(secret, stored_hash)
        if known is not None:
            answered = loop.create_future()
            answered.set_result(known)
            return answered
        assert stored_hash is not None
        key = self._key(secret, stored_hash)
        pending = self._pending.get(key)
        if pending is None or pending.get_loop() is not loop:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="secret-check")
            pending = loop.run_in_executor(self._executor, self.verify, secret, stored_hash)
            self._pending[key] = pending
            pending.add_done_callback(lambda _done: self._pending.pop(key, None))
        return pending

    def close(self) -> None:
        """Stop the background thread (a later :meth:`verify_soon` starts another)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
