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
import hmac
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kilnwatch.config import Settings
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


REMEMBERED_FILE = "gateway-secrets.remembered.json"
"""Under ``Settings.var_dir``: the receivers' remembered matches (:class:`RememberedSecrets`)."""
REMEMBER_WRITE_S = 1.0
"""At most one write of the remembered file per this many seconds (and one on close) [s]."""


class RememberedSecrets:
    """Matches of (stored hash, secret) that survive a receiver restart, without scrypt.

    After scrypt has said that a presented secret matches a stored hash, the receiver keeps
    ``HMAC-SHA256(key, stored hash ∥ secret)`` in a file of its own host (mode 0600, under
    ``var_dir``), indexed by a SHA-256 of the stored hash; ``key`` derives from
    ``Settings.secret_key``, which is not in the database. After a restart a device's first
    frame is answered after one HMAC instead of one scrypt (≈ 65 ms each, one core: 1 000
    devices took ≈ 65 s to be answered).

    Trade-off (docs/ingestion.md, "Restart"): the database still holds only scrypt hashes;
    whoever holds this file *and* the secret key can test guesses at HMAC speed instead of
    scrypt speed. Both live on the receiver host, which sees every HJ 212 password in clear
    text anyway (the ``PW`` of every frame travels over plain TCP). Only matches are kept; a rotated
    secret is a new stored hash, so the old entry is never looked up again.
    """

    def __init__(self, path: Path, secret_key: str) -> None:
        self.path = path
        self._key = hmac.new(secret_key.encode(), b"kilnwatch gateway secrets v1",
                             hashlib.sha256).digest()  # fmt: skip
        self._lock = threading.Lock()
        self._entries: dict[str, str] = self._read()
        self._dirty = False
        self._written = 0.0

    @classmethod
    def for_settings(cls, settings: Settings) -> RememberedSecrets:
        return cls(settings.var_dir / REMEMBERED_FILE, settings.secret_key)

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # none yet, or unreadable: scrypt answers, the file is rewritten
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    @staticmethod
    def _index(stored_hash: str) -> str:
        return hashlib.sha256(stored_hash.encode()).hexdigest()

    def _mac(self, secret: str, stored_hash: str) -> str:
        message = stored_hash.encode() + b"\0" + secret.encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def matches(self, secret: str, stored_hash: str) -> bool:
        """Whether this pair was seen to match before (False: ask scrypt)."""
        known = self._entries.get(self._index(stored_hash))
        return known is not None and hmac.compare_digest(known, self._mac(secret, stored_hash))

    def remember(self, secret: str, stored_hash: str) -> None:
        with self._lock:
            self._entries[self._index(stored_hash)] = self._mac(secret, stored_hash)
            self._dirty = True
            if time.monotonic() - self._written >= REMEMBER_WRITE_S:
                self._write()

    def flush(self) -> None:
        with self._lock:
            if self._dirty:
                self._write()

    def _write(self) -> None:
        """Merge with what other receiver processes wrote, then replace the file atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        merged = {**self._read(), **self._entries}
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(merged, f)
        os.replace(tmp, self.path)
        self._entries, self._dirty, self._written = merged, False, time.monotonic()


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

    def __init__(
        self, max_entries: int = 10_000, remembered: RememberedSecrets | None = None
    ) -> None:
        self.max_entries = max_entries
        self.remembered = remembered
        """Matches kept across restarts (receivers only; see :class:`RememberedSecrets`)."""
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
        elif self.remembered is not None and self.remembered.matches(secret, stored_hash):
            self._known[key] = known = True
        return known

    def verify(self, secret: str, stored_hash: str | None) -> bool:
        """Whether ``secret`` matches ``stored_hash`` (blocks for scrypt, at most once)."""
        known = self.cached(secret, stored_hash)
        if known is not None:
            return known
        assert stored_hash is not None  # cached() answers False without a hash
        self.checks += 1
        outcome = verify_secret(secret, stored_hash)
        if outcome and self.remembered is not None:
            self.remembered.remember(secret, stored_hash)
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
        if self.remembered is not None:
            self.remembered.flush()
