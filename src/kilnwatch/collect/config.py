"""The collector's configuration file (TOML or YAML), e.g. ``plant.toml``::

    [platform]
    transport = "http"                    # http | mqtt
    url = "https://platform.example/api/v1/ingest/readings"   # mqtt: "mqtt://host:1883"
    gateway = "GW-JN-01"                  # registered gateway (HTTP Basic user, MQTT topic)
    secret = "s3cret-jn-01"

    [[devices]]
    name = "main-switchboard"
    host = "192.168.1.20"
    port = 502
    unit_id = 1
    interval_s = 60                       # poll interval of its points (a point may override)

      [[devices.points]]
      meter = "M-JN-E0"                   # the platform's meter code
      address = 0                         # first register (0-based PDU address)
      function = "holding"                # holding | input
      type = "u32"                        # u16 i16 u32 i32 f32 u64 f64
      word_order = "big"                  # big: first register = most significant word
      byte_order = "big"                  # little: bytes swapped inside each register
      scale = 0.1
      offset = 0
      unit = "kWh"
      kind = "counter"                    # counter | instantaneous

The buffer is a SQLite file next to the configuration (``plant.buffer.sqlite``) unless
``buffer`` names another.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kilnwatch.collect.registers import DataType, Order
from kilnwatch.errors import InputError, rejected_fields

_STRICT = ConfigDict(extra="forbid", frozen=True)


class PointConfig(BaseModel):
    """One value of a device: where it is, how it is encoded, which meter it feeds."""

    model_config = _STRICT

    meter: str = Field(min_length=1, max_length=64)
    address: int = Field(ge=0, le=65535)
    function: Literal["holding", "input"] = "holding"
    type: DataType = "u16"
    word_order: Order = "big"
    byte_order: Order = "big"
    scale: float = 1.0
    offset: float = 0.0
    unit: str = Field(min_length=1, max_length=16)
    kind: Literal["counter", "instantaneous"] = "instantaneous"
    interval_s: float | None = Field(default=None, gt=0)


class DeviceConfig(BaseModel):
    """A Modbus TCP server (a meter or a serial gateway) and its points."""

    model_config = _STRICT

    name: str = Field(min_length=1)
    host: str = Field(min_length=1)
    port: int = Field(default=502, ge=1, le=65535)
    unit_id: int = Field(default=1, ge=0, le=255)
    timeout_s: float = Field(default=3.0, gt=0)
    interval_s: float = Field(default=60.0, gt=0)
    points: list[PointConfig] = Field(min_length=1)


class PlatformConfig(BaseModel):
    """Where readings go and with which gateway credentials."""

    model_config = _STRICT

    transport: Literal["http", "mqtt"]
    url: str = Field(min_length=1)
    gateway: str = Field(min_length=1)
    secret: str = ""
    topic: str | None = None
    """MQTT topic; default ``kilnwatch/v1/<gateway>/readings`` (what ``kilnwatch ingest mqtt``
    subscribes to)."""
    client_id: str | None = None
    batch_max: int = Field(default=500, ge=1, le=10_000)
    timeout_s: float = Field(default=10.0, gt=0)
    retry_initial_s: float = Field(default=1.0, gt=0)
    retry_max_s: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _url_fits_transport(self) -> PlatformConfig:
        schemes = ("mqtt://", "tcp://") if self.transport == "mqtt" else ("http://", "https://")
        if not self.url.startswith(schemes):
            raise ValueError(f"url of the {self.transport} transport must start with {schemes}")
        return self


class CollectorConfig(BaseModel):
    model_config = _STRICT

    platform: PlatformConfig
    devices: list[DeviceConfig] = Field(min_length=1)
    buffer: Path | None = None


def _read_mapping(path: Path) -> object:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        return yaml.safe_load(text)
    return tomllib.loads(text)


def read_config(path: Path) -> CollectorConfig:
    """Parse a collector configuration (``.toml``, ``.yaml`` or ``.yml``).

    The buffer path, when relative or not given, is resolved next to the file.

    Raises
    ------
    InputError
        When the file cannot be read as TOML/YAML.
    ImportRejected
        Every invalid field, named by its path (``devices[0].points[2].type``).
    """
    try:
        doc = _read_mapping(path)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read the configuration: {exc}", file=str(path)) from None
    try:
        config = CollectorConfig.model_validate(doc)
    except ValidationError as exc:
        raise rejected_fields(exc.errors(), str(path)) from None
    buffer = config.buffer or Path(f"{path.stem}.buffer.sqlite")
    if not buffer.is_absolute():
        buffer = path.parent / buffer
    return config.model_copy(update={"buffer": buffer})
