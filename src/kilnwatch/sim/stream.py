"""Live mode: play a simulated directory's readings to an ingestion endpoint.

Targets (see docs/formats.md, "Live feeds"):

* ``mqtt://host:port`` - topic ``kilnwatch/v1/<gateway_code>/readings``, QoS 1, JSON
  ``{"readings": [...]}`` in batches of up to 500;
* ``http://host:port`` - ``POST {base}/api/v1/ingest/readings`` with HTTP Basic
  ``gateway_code:secret`` and the same JSON body;
* ``hj212://host:port`` - one TCP connection per ``hj212`` gateway, one CN 2011 frame per
  gateway and timestamp, built by :func:`kilnwatch.ingest.hj212.encode.encode_data_frame`.

Readings go out in file order (the delivery order the simulator wrote), grouped by timestamp.
``rate`` limits readings (MQTT/HTTP) or frames (HJ 212) per second; ``speedup`` paces by
simulated time (e.g. 900 = 15 simulated minutes per wall-clock second).
"""

from __future__ import annotations

import csv
import json
import socket
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from kilnwatch.errors import ConfigError

MAX_BATCH = 500
TOPIC = "kilnwatch/v1/{gateway}/readings"
INGEST_PATH = "/api/v1/ingest/readings"
HJ212_CN_REALTIME = "2011"
HJ212_FLAG_NO_ANSWER = 4  # HJ 212-2017 version bits, answer not requested
Reading = dict[str, Any]


@dataclass
class StreamSummary:
    readings: int = 0
    messages: int = 0  # MQTT messages, HTTP requests or HJ 212 frames
    errors: int = 0
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class _Meter:
    gateway: str
    protocol: str
    hj212_code: str


class Sender(Protocol):
    def send(self, gateway: str, rows: list[Reading]) -> int: ...  # returns messages sent

    def close(self) -> None: ...


def _read_csv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        yield from csv.DictReader(fh)


def load_directory(source: Path) -> tuple[dict[str, _Meter], dict[str, tuple[str, str, str]]]:
    """Meters (code -> gateway, protocol, HJ 212 code) and gateways (code -> protocol, mn,
    secret)."""
    gateways = {
        g["gateway_code"]: (g["protocol"], g["mn"], g["secret"])
        for g in _read_csv(source / "gateways.csv")
    }
    meters = {
        m["meter_code"]: _Meter(m["gateway_code"], gateways[m["gateway_code"]][0], m["hj212_code"])
        for m in _read_csv(source / "meters.csv")
    }
    return meters, gateways


class HttpSender:
    """POSTs batches with HTTP Basic auth per gateway."""

    def __init__(self, base: str, gateways: dict[str, tuple[str, str, str]]) -> None:
        self.client = httpx.Client(base_url=base, timeout=30.0)
        self.gateways = gateways

    def send(self, gateway: str, rows: list[Reading]) -> int:
        sent = 0
        for i in range(0, len(rows), MAX_BATCH):
            response = self.client.post(
                INGEST_PATH,
                json={"readings": rows[i : i + MAX_BATCH]},
                auth=(gateway, self.gateways[gateway][2]),
            )
            response.raise_for_status()
            sent += 1
        return sent

    def close(self) -> None:
        self.client.close()


class MqttSender:
    """Publishes batches with QoS 1 through one client connection."""

    def __init__(self, host: str, port: int, client_id: str) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.connect(host, port)
        self.client.loop_start()

    def send(self, gateway: str, rows: list[Reading]) -> int:
        infos = []
        for i in range(0, len(rows), MAX_BATCH):
            payload = json.dumps({"readings": rows[i : i + MAX_BATCH]}, separators=(",", ":"))
            infos.append(self.client.publish(TOPIC.format(gateway=gateway), payload, qos=1))
        for info in infos:
            info.wait_for_publish(timeout=30.0)
        return len(infos)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class Hj212Sender:
    """One TCP connection per HJ 212 device; one frame per device and timestamp."""

    def __init__(
        self,
        host: str,
        port: int,
        gateways: dict[str, tuple[str, str, str]],
        meters: dict[str, _Meter],
    ) -> None:
        from kilnwatch.ingest.hj212.encode import encode_data_frame

        self.encode = encode_data_frame
        self.host, self.port = host, port
        self.gateways, self.meters = gateways, meters
        self.sockets: dict[str, socket.socket] = {}

    def _socket(self, gateway: str) -> socket.socket:
        if gateway not in self.sockets:
            self.sockets[gateway] = socket.create_connection((self.host, self.port), timeout=30)
        return self.sockets[gateway]

    def send(self, gateway: str, rows: list[Reading]) -> int:
        by_ts: dict[str, dict[str, tuple[float, str]]] = defaultdict(dict)
        for row in rows:
            code = self.meters[row["meter_code"]].hj212_code
            by_ts[row["ts"]][code] = (row["value"], row["flag"] or "N")
        _proto, mn, secret = self.gateways[gateway]
        for ts, values in by_ts.items():
            frame = self.encode(
                mn=mn,
                pw=secret,
                cn=HJ212_CN_REALTIME,
                data_time=datetime.fromisoformat(ts),
                values=values,
                flag=HJ212_FLAG_NO_ANSWER,
            )
            self._socket(gateway).sendall(frame)
        return len(by_ts)

    def close(self) -> None:
        for sock in self.sockets.values():
            sock.close()


def _sender(
    target: str, meters: dict[str, _Meter], gateways: dict[str, tuple[str, str, str]]
) -> tuple[Sender, set[str]]:
    parts = urlsplit(target)
    if parts.hostname is None or parts.port is None:
        raise ConfigError(f"target {target!r} needs host and port", code="sim.stream_target")
    if parts.scheme in ("http", "https"):
        return HttpSender(f"{parts.scheme}://{parts.netloc}", gateways), {"http", "mqtt"}
    if parts.scheme == "mqtt":
        return MqttSender(parts.hostname, parts.port, "kilnwatch-sim"), {"http", "mqtt"}
    if parts.scheme == "hj212":
        return Hj212Sender(parts.hostname, parts.port, gateways, meters), {"hj212"}
    raise ConfigError(f"unknown stream target scheme {parts.scheme!r}", code="sim.stream_target")


def _reading(row: dict[str, str]) -> Reading:
    return {
        "meter_code": row["meter_code"],
        "ts": row["ts"],
        "value": float(row["value"]),
        "unit": row["unit"],
        "flag": row["flag"] or None,
    }


class _Pacer:
    def __init__(self, rate: float, speedup: float | None) -> None:
        self.rate, self.speedup = rate, speedup
        self.started = time.monotonic()
        self.first_ts: datetime | None = None
        self.units = 0

    def step(self, ts: str, units: int) -> None:
        if self.speedup:
            at = datetime.fromisoformat(ts)
            self.first_ts = self.first_ts or at
            due = (at - self.first_ts).total_seconds() / self.speedup
            self._sleep_until(due)
        self.units += units
        if self.rate > 0:
            self._sleep_until(self.units / self.rate)

    def _sleep_until(self, due_s: float) -> None:
        wait = due_s - (time.monotonic() - self.started)
        if wait > 0:
            time.sleep(wait)


def stream(
    source: Path,
    target: str,
    *,
    rate: float = 0.0,
    speedup: float | None = None,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> StreamSummary:
    """Play ``source/readings.csv`` to ``target``; returns what was sent."""
    meters, gateways = load_directory(source)
    sender, protocols = _sender(target, meters, gateways)
    pacer = _Pacer(rate, speedup)
    summary = StreamSummary()
    started = time.monotonic()
    group: dict[str, list[Reading]] = defaultdict(list)
    current = ""
    try:
        for row in _read_csv(source / "readings.csv"):
            if limit is not None and summary.readings >= limit:
                break
            meter = meters[row["meter_code"]]
            if meter.protocol not in protocols:
                continue
            if row["ts"] != current and group:
                _flush(sender, group, pacer, current, summary, protocols)
                if progress is not None:
                    progress(summary.readings)
            current = row["ts"]
            group[meter.gateway].append(_reading(row))
            summary.readings += 1
        if group:
            _flush(sender, group, pacer, current, summary, protocols)
    finally:
        sender.close()
    summary.elapsed_s = time.monotonic() - started
    return summary


def _flush(
    sender: Sender,
    group: dict[str, list[Reading]],
    pacer: _Pacer,
    ts: str,
    summary: StreamSummary,
    protocols: set[str],
) -> None:
    sent_units = 0
    for gateway in sorted(group):
        try:
            messages = sender.send(gateway, group[gateway])
        except (httpx.HTTPError, OSError):
            summary.errors += 1
            continue
        summary.messages += messages
        sent_units += messages if "hj212" in protocols else len(group[gateway])
    group.clear()
    pacer.step(ts, sent_units)
