"""Sending buffered readings to the platform; a batch counts as delivered only when the
platform acknowledged it.

* HTTP: ``POST`` the JSON payload of docs/formats.md to ``/api/v1/ingest/readings`` with the
  gateway's HTTP Basic credentials; a 200 answer means the batch is committed (rows the
  platform refuses are kept there as dead letters with their reason).
* MQTT: publish the same payload with QoS 1 to the topic ``kilnwatch ingest mqtt`` subscribes
  to; the broker's PUBACK means the broker holds it for the platform's workers, which take it
  off only after their commit (persistent session, acknowledgement after commit).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from typing import Protocol
from urllib.parse import urlparse

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kilnwatch.collect.buffer import BufferedReading
from kilnwatch.collect.config import PlatformConfig
from kilnwatch.ingest.mqtt.parse import readings_topic

logger = logging.getLogger("kilnwatch.collect")
MQTT_QOS = 1  # at least once: PUBACK after the broker took responsibility (MQTT 3.1.1, 4.3.2)


class NotAcknowledged(Exception):
    """The platform did not acknowledge the batch; it stays in the buffer."""


class Sender(Protocol):
    def send(self, readings: Sequence[BufferedReading]) -> None: ...

    def close(self) -> None: ...


def payload(readings: Sequence[BufferedReading]) -> bytes:
    """The JSON body ``{"readings": [...]}`` (docs/formats.md)."""
    return json.dumps({"readings": [r.to_json() for r in readings]}).encode("utf-8")


class HttpSender:
    """``POST /api/v1/ingest/readings`` with HTTP Basic ``gateway:secret``."""

    def __init__(self, config: PlatformConfig) -> None:
        self.url = config.url
        self.client = httpx.Client(auth=(config.gateway, config.secret),
                                   timeout=config.timeout_s)  # fmt: skip

    def send(self, readings: Sequence[BufferedReading]) -> None:
        try:
            response = self.client.post(self.url, content=payload(readings),
                                        headers={"content-type": "application/json"})  # fmt: skip
        except httpx.HTTPError as exc:
            raise NotAcknowledged(f"{type(exc).__name__}: {exc}") from None
        if response.status_code != httpx.codes.OK:
            raise NotAcknowledged(f"HTTP {response.status_code}: {response.text[:300]}")

    def close(self) -> None:
        self.client.close()


class MqttSender:
    """Publish with QoS 1 and wait for the broker's PUBACK."""

    def __init__(self, config: PlatformConfig) -> None:
        parsed = urlparse(config.url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 1883
        self.topic = config.topic or readings_topic(config.gateway)
        self.timeout_s = config.timeout_s
        client_id = config.client_id or f"kilnwatch-collect-{config.gateway}"
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                                  client_id=client_id, protocol=mqtt.MQTTv311)  # fmt: skip
        if config.secret:
            self.client.username_pw_set(config.gateway, config.secret)
        self._connected = threading.Event()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self._started = False

    def _on_connect(self, _c: object, _u: object, _f: object, rc: object, _p: object) -> None:
        if not getattr(rc, "is_failure", False):
            self._connected.set()

    def _on_disconnect(self, *_args: object) -> None:
        self._connected.clear()

    def _ensure_connected(self) -> None:
        """Connect on first use; afterwards paho reconnects by itself, and a send while it is
        disconnected fails at once (the poll loop must not wait for the broker)."""
        if self._started:
            if not self._connected.is_set():
                raise NotAcknowledged(f"broker {self.host}:{self.port} disconnected")
            return
        try:
            self.client.connect(self.host, self.port, keepalive=30)
        except OSError as exc:
            raise NotAcknowledged(f"broker {self.host}:{self.port}: {exc}") from None
        self.client.loop_start()
        self._started = True
        if not self._connected.wait(self.timeout_s):
            raise NotAcknowledged(f"broker {self.host}:{self.port} refused the connection")

    def send(self, readings: Sequence[BufferedReading]) -> None:
        self._ensure_connected()
        info = self.client.publish(self.topic, payload(readings), qos=MQTT_QOS)
        try:
            info.wait_for_publish(self.timeout_s)
        except (RuntimeError, ValueError) as exc:
            raise NotAcknowledged(f"publish failed: {exc}") from None
        if not info.is_published():
            raise NotAcknowledged(f"no PUBACK within {self.timeout_s:g} s")

    def close(self) -> None:
        if self._started:
            self.client.disconnect()
            self.client.loop_stop()


def make_sender(config: PlatformConfig) -> Sender:
    return MqttSender(config) if config.transport == "mqtt" else HttpSender(config)
