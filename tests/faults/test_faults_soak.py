"""The soak's short form (issue 22): ``benchmarks/soak.py`` for a few seconds on PostgreSQL —
the three ingest paths and API/page reads at once against the real servers: nothing lost,
nothing doubled, no 5xx. ``make soak`` runs the long form (``KILNWATCH_SOAK_S``, default an
hour) with the memory check."""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
from pathlib import Path

import psycopg

from servers import need_server

PG = os.environ.get("KILNWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
_spec = importlib.util.spec_from_file_location(
    "bench_soak", Path(__file__).parents[2] / "benchmarks" / "soak.py"
)
assert _spec and _spec.loader
soak = importlib.util.module_from_spec(_spec)
sys.modules["bench_soak"] = soak  # its dataclasses look their module up
_spec.loader.exec_module(soak)


def _reachable() -> bool:
    try:
        with (
            psycopg.connect(PG, connect_timeout=3),
            socket.create_connection(("127.0.0.1", 1883), 2),
        ):
            return True
    except OSError:
        return False


def test_short_soak_loses_doubles_and_fails_nothing() -> None:
    need_server(_reachable(), "PostgreSQL at 5432 and Mosquitto at 1883")
    result = soak.main(["--pg", PG, "--duration-s", "5", "--rate", "40", "--requests-per-s", "4",
                        "--max-growth-mib", "1024"])  # fmt: skip
    acked = result["readings_acknowledged"]
    assert all(n > 0 for n in acked.values()), result
    assert result["readings_stored"] == acked, result
    assert (result["lost"], result["doubled"], result["http_5xx"]) == (0, 0, 0), result
    assert result["requests_ok"] == result["requests"] > 0, result
    assert result["ok"], result
