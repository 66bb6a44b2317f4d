"""The stop event of a long-running process (receivers, workers, the collector, the
scheduler): set when the process is asked to end by SIGTERM (a service manager) or SIGINT
(Ctrl-C), so that its loop finishes the batch in hand and returns instead of dying mid-write.
"""

from __future__ import annotations

import asyncio
import signal
import threading

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def stop_on_signals() -> threading.Event:
    """An event that :data:`STOP_SIGNALS` set, for a loop in threads (call in the main
    thread: Python runs signal handlers there)."""
    stop = threading.Event()
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda *_: stop.set())
    return stop


def loop_stop_on_signals() -> asyncio.Event:
    """An event that :data:`STOP_SIGNALS` set, for the running asyncio loop (call inside it)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    return stop


__all__ = ["STOP_SIGNALS", "loop_stop_on_signals", "stop_on_signals"]
