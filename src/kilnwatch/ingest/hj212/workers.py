"""Several HJ 212 receiver processes on one TCP port (``SO_REUSEPORT``).

One receiver process runs its event loop (framing, CRC, decoding, replies) and its group
commits under one GIL. On a machine with several cores, ``N`` processes each bind the same
port with ``SO_REUSEPORT`` and the kernel spreads the incoming connections over them. Every
connection lives in exactly one process, so the acknowledgement of each frame still follows
the commit of its own data; processes writing the same meters are serialised by the store's
meter locks, which keeps storage exactly-once.

:func:`run_workers` starts the processes (``spawn``), waits until each listens, forwards
SIGTERM/SIGINT to them and collects each one's counters when it stops. The work of one
process is a picklable callable ``target(index, port, events)``: it must listen on ``port``
with ``reuse_port=True``, put ``("ready", index, port)`` on ``events`` once listening and
``("stopped", index, counters)`` before it returns, and stop on SIGTERM.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import signal
import socket
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.process import BaseProcess
from typing import Any

READY = "ready"
STOPPED = "stopped"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 60.0
_POLL_S = 0.2

WorkerTarget = Callable[[int, int, Any], None]


def reserve_port(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` with ``SO_REUSEPORT`` (port 0: a free port).

    It does not listen, so it receives no connections; holding it keeps the port for the
    workers, which bind the same port with ``SO_REUSEPORT``.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def merge_counters(snapshots: Sequence[Mapping[str, object]]) -> dict[str, object]:
    """Sum the ``ServerStats.snapshot()`` of several processes (numbers and count maps)."""
    merged: dict[str, object] = {}
    for snap in snapshots:
        for key, value in snap.items():
            if isinstance(value, Mapping):
                counts = merged.setdefault(key, Counter())
                assert isinstance(counts, Counter)
                counts.update({str(k): int(v) for k, v in value.items()})
            elif isinstance(value, int):
                current = merged.get(key, 0)
                merged[key] = (current if isinstance(current, int) else 0) + value
    return {k: dict(v) if isinstance(v, Counter) else v for k, v in merged.items()}


def run_workers(
    target: WorkerTarget,
    *,
    host: str,
    port: int,
    workers: int,
    on_ready: Callable[[int], None] | None = None,
) -> list[dict[str, object]]:
    """Run ``workers`` receiver processes on one port until SIGTERM/SIGINT.

    Returns
    -------
    list of dict
        The counters each process reported when it stopped.

    Raises
    ------
    RuntimeError
        When a process exits or does not listen within ``READY_TIMEOUT_S``.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    ctx = multiprocessing.get_context("spawn")
    events = ctx.Queue()
    holder = reserve_port(host, port)
    port = int(holder.getsockname()[1])
    procs = [ctx.Process(target=target, args=(i, port, events), daemon=False)
             for i in range(workers)]  # fmt: skip
    stopping: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        stopping.append(signum)
        for proc in procs:
            if proc.pid is not None and proc.is_alive():
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for proc in procs:
            proc.start()
        _await_ready(events, procs)
        holder.close()
        if on_ready is not None:
            on_ready(port)
        return _collect(events, procs)
    finally:
        holder.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
            proc.join(STOP_TIMEOUT_S)


def _await_ready(events: Any, procs: Sequence[BaseProcess]) -> None:
    ready: set[int] = set()
    deadline = time.monotonic() + READY_TIMEOUT_S
    while len(ready) < len(procs):
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(ready)} of {len(procs)} hj212 workers listen")
        dead = [p for p in procs if p.exitcode is not None]
        if dead:
            raise RuntimeError(f"hj212 worker exited with status {dead[0].exitcode}")
        with contextlib.suppress(queue.Empty):
            kind, index, _ = events.get(timeout=_POLL_S)
            if kind == READY:
                ready.add(int(index))


def _collect(events: Any, procs: Sequence[BaseProcess]) -> list[dict[str, object]]:
    stats: dict[int, dict[str, object]] = {}
    while len(stats) < len(procs):
        try:
            kind, index, payload = events.get(timeout=_POLL_S)
        except queue.Empty:
            if all(p.exitcode is not None for p in procs):
                break
            continue
        if kind == STOPPED:
            stats[int(index)] = dict(payload)
    return [stats[i] for i in sorted(stats)]
