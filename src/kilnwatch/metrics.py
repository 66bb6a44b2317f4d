"""Prometheus metrics of every kilnwatch process, and their small HTTP endpoint.

The counters and histograms live in ``prometheus_client``'s default registry, one set per
process: the web application serves them at ``/metrics`` itself; the processes without an
HTTP server (MQTT and HJ 212 front ends, log writers) start :func:`serve_metrics` on their
``--metrics-port``, which answers ``GET /metrics`` (text exposition format) and
``GET /healthz`` (200 ``{"status": "ok"}`` while the process's health check holds, else 503).

Names follow the Prometheus conventions (``_total`` counters, ``_seconds`` histograms);
``source`` is the ingest source (``http``, ``mqtt``, ``hj212``). docs/deployment.md lists
them with what each process reports.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

READINGS_RECEIVED = Counter(
    "kilnwatch_ingest_readings_received",
    "Readings received by a front end (parsed from a request, message or frame).",
    ["source"],
)
READINGS_PUBLISHED = Counter(
    "kilnwatch_ingest_readings_published",
    "Readings a front end published to the ingest log (acknowledged by JetStream).",
    ["source"],
)
MESSAGES_PUBLISHED = Counter(
    "kilnwatch_log_messages_published",
    "Messages published to the ingest log; duplicate='true' when JetStream recognised the "
    "message id within its duplicate window and stored nothing.",
    ["duplicate"],
)
READINGS_STORED = Counter(
    "kilnwatch_ingest_readings_stored",
    "Readings stored (new values and corrections) by this process's commits.",
    ["source"],
)
READINGS_DUPLICATE = Counter(
    "kilnwatch_ingest_readings_duplicate",
    "Readings already stored with the same value (redeliveries, repeats), ignored.",
    ["source"],
)
READINGS_REJECTED = Counter(
    "kilnwatch_ingest_readings_rejected",
    "Readings refused by validation (dead-lettered).",
    ["source"],
)
REDELIVERIES = Counter(
    "kilnwatch_log_redeliveries",
    "Log messages a writer received more than once (an earlier delivery was not acknowledged).",
)
COMMIT_FAILURES = Counter(
    "kilnwatch_ingest_commit_failures",
    "Batch commits that failed (nothing acknowledged; retried or redelivered).",
)
BATCH_COMMIT_SECONDS = Histogram(
    "kilnwatch_ingest_batch_commit_seconds",
    "Time to validate, store and commit one batch.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
CONSUMER_PENDING = Gauge(
    "kilnwatch_log_consumer_pending",
    "Consumer lag: log messages not yet delivered to any writer of this consumer.",
)
CONSUMER_ACK_PENDING = Gauge(
    "kilnwatch_log_consumer_ack_pending",
    "Log messages delivered to writers of this consumer and not yet acknowledged.",
)
MESSAGES_IN_FLIGHT = Gauge(
    "kilnwatch_log_messages_in_flight",
    "Log messages this writer holds (fetched, not yet acknowledged).",
)

Health = Callable[[], bool]


def metrics_text() -> tuple[bytes, str]:
    """The exposition of this process's registry and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def _handler(health: Health) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                body, content_type = metrics_text()
                self._send(200, body, content_type)
            elif path == "/healthz":
                ok = health()
                status = {"status": "ok" if ok else "unavailable"}
                self._send(200 if ok else 503, json.dumps(status).encode(), "application/json")
            else:
                self._send(404, b"not found: /metrics or /healthz\n", "text/plain")

        def _send(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: ARG002
            return  # scrapes every few seconds would flood the process's log

    return Handler


class MetricsServer:
    """``/metrics`` and ``/healthz`` over HTTP in a daemon thread; :meth:`close` stops it."""

    def __init__(self, host: str, port: int, health: Health) -> None:
        self._server = ThreadingHTTPServer((host, port), _handler(health))
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics-http", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def serve_metrics(port: int | None, health: Health, host: str = "0.0.0.0") -> MetricsServer | None:
    """Start the endpoint on ``port`` (0: a free port; None: no endpoint)."""
    if port is None:
        return None
    return MetricsServer(host, port, health)
