"""Live mode against real local servers: an HTTP server, a TCP listener, the Mosquitto broker."""

from __future__ import annotations

import base64
import json
import os
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest

from kilnwatch.errors import ConfigError
from kilnwatch.ingest.hj212.codec import parse_frame
from kilnwatch.sim import SimParams, simulate_to_dir, stream

TINY = SimParams(
    seed=11,
    enterprises=3,
    days=1,
    start=date(2025, 6, 1),
    output_format="csv",
    faulty_enterprise_fraction=0.0,
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny")
    simulate_to_dir(TINY, out)
    return out


def _expected(tiny: Path, protocols: set[str]) -> pl.DataFrame:
    gws = pl.read_csv(tiny / "gateways.csv", infer_schema_length=0)
    meters = pl.read_csv(tiny / "meters.csv", infer_schema_length=0).join(gws, on="gateway_code")
    readings = pl.read_csv(tiny / "readings.csv", infer_schema_length=0)
    return readings.join(meters.filter(pl.col("protocol").is_in(protocols)), on="meter_code")


@pytest.fixture()
def http_server() -> Iterator[tuple[str, list[tuple[str, str, dict[str, object]]]]]:
    received: list[tuple[str, str, dict[str, object]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Authorization"], json.loads(body)))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def test_http_stream_posts_every_reading_with_basic_auth(
    tiny: Path, http_server: tuple[str, list[tuple[str, str, dict[str, object]]]]
) -> None:
    url, received = http_server
    summary = stream(tiny, url)
    expected = _expected(tiny, {"http", "mqtt"})
    assert summary.readings == expected.height and summary.errors == 0
    secrets = dict(
        pl.read_csv(tiny / "gateways.csv", infer_schema_length=0)
        .select("gateway_code", "secret")
        .iter_rows()
    )
    total = 0
    for path, auth, body in received:
        assert path == "/api/v1/ingest/readings"
        gateway, secret = base64.b64decode(auth.split()[1]).decode().split(":")
        assert secrets[gateway] == secret
        rows = body["readings"]
        assert isinstance(rows, list) and 0 < len(rows) <= 500
        assert set(rows[0]) == {"meter_code", "ts", "value", "unit", "flag"}
        total += len(rows)
    assert total == expected.height


def test_rate_limits_the_stream(
    tiny: Path, http_server: tuple[str, list[tuple[str, str, dict[str, object]]]]
) -> None:
    url, _received = http_server
    started = time.monotonic()
    summary = stream(tiny, url, rate=2000.0, limit=600)
    assert summary.readings >= 600
    assert time.monotonic() - started >= (summary.readings - 200) / 2000.0


def test_unknown_target_is_refused(tiny: Path) -> None:
    with pytest.raises(ConfigError):
        stream(tiny, "ftp://127.0.0.1:21")


def test_hj212_stream_sends_one_valid_frame_per_device_and_time(tiny: Path) -> None:
    chunks: list[bytes] = []

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            while data := self.request.recv(65536):
                chunks.append(data)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        summary = stream(tiny, f"hj212://127.0.0.1:{server.server_address[1]}")
        time.sleep(0.3)
    finally:
        server.shutdown()
        server.server_close()
    frames = [f + b"\r\n" for f in b"".join(chunks).split(b"\r\n") if f]
    expected = _expected(tiny, {"hj212"})
    assert summary.messages == len(frames) == expected.select("gateway_code", "ts").n_unique()
    mns = set(expected["mn"])
    packets = [parse_frame(f) for f in frames]
    assert {p.mn for p in packets} == mns and all(p.cn == "2011" for p in packets)


def _broker_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.mark.mqtt
def test_mqtt_stream_publishes_per_gateway_topics(tiny: Path) -> None:
    if not _broker_up():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Mosquitto is not running on 127.0.0.1:1883")
        pytest.skip("Mosquitto is not running")
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    got: list[tuple[str, int]] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="kilnwatch-sim-test")
    client.on_message = lambda _c, _u, msg: got.append(
        (msg.topic, len(json.loads(msg.payload)["readings"]))
    )
    client.connect("127.0.0.1", 1883)
    client.subscribe("kilnwatch/v1/+/readings", qos=1)
    client.loop_start()
    try:
        time.sleep(0.3)
        summary = stream(tiny, "mqtt://127.0.0.1:1883")
        deadline = time.monotonic() + 10
        while sum(n for _t, n in got) < summary.readings and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.loop_stop()
        client.disconnect()
    expected = _expected(tiny, {"http", "mqtt"})
    assert sum(n for _t, n in got) == summary.readings == expected.height
    assert {t for t, _n in got} == {
        f"kilnwatch/v1/{g}/readings" for g in set(expected["gateway_code"])
    }


def test_speedup_paces_by_simulated_time(
    tiny: Path, http_server: tuple[str, list[tuple[str, str, dict[str, object]]]]
) -> None:
    url, _received = http_server
    started = time.monotonic()
    stream(tiny, url, speedup=86400.0 * 2)  # one simulated day in half a second
    assert time.monotonic() - started >= 0.45
