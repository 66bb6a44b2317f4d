"""HJ 212 devices known to the server, and an in-memory directory loaded from a file.

A devices file is JSON (a list of objects) or CSV, with per device: ``mn``, ``password``,
``compat`` (compat option names), ``meters`` (map key -> meter code) and optionally
``utc_offset_h`` and ``minute_interval_min``. In CSV, ``compat`` is written
``crc_modbus;lf_only`` and ``meters`` ``a21026=SO2-01;a21026-Zs=SO2-01-ZS``.

Map keys, most specific first: ``<code>-<Suffix>`` (e.g. ``a00000-Cou``), then
``<code>-Zs`` for every converted (折算) value or ``<code>`` for every measured value.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta, timezone, tzinfo
from functools import lru_cache
from pathlib import Path

from kilnwatch.errors import InputError
from kilnwatch.ingest.hj212.model import Compat, parse_compat
from kilnwatch.ingest.hj212.timefmt import CHINA_UTC_OFFSET

_CSV_COLUMNS = {"mn", "password", "compat", "meters", "utc_offset_h", "minute_interval_min"}


@dataclass(frozen=True)
class Device:
    """A data logger (数采仪) allowed to send, identified by its MN."""

    mn: str
    password: str
    compat: frozenset[Compat] = frozenset()
    meters: Mapping[str, str] = field(default_factory=dict)
    utc_offset: timedelta = CHINA_UTC_OFFSET
    minute_interval_min: int | None = None

    @property
    def tz(self) -> tzinfo:
        """Zone of the device's DataTime stamps."""
        return _zone(self.utc_offset)


@lru_cache(maxsize=64)
def _zone(offset: timedelta) -> tzinfo:
    return timezone(offset)


class InMemoryDeviceDirectory:
    """A dict of devices by MN, implementing the server's ``DeviceDirectory`` protocol."""

    def __init__(self, devices: Iterable[Device] = ()) -> None:
        self._devices: dict[str, Device] = {}
        for device in devices:
            self.add(device)

    def add(self, device: Device) -> None:
        """Register (or replace) a device."""
        self._devices[device.mn] = device

    def lookup(self, mn: str) -> Device | None:
        """The device with this MN, or None."""
        return self._devices.get(mn)

    def __len__(self) -> int:
        return len(self._devices)


def _device_from_mapping(raw: Mapping[str, object], where: str) -> Device:
    mn, password = raw.get("mn"), raw.get("password")
    if not isinstance(mn, str) or not mn or not isinstance(password, str):
        raise InputError("mn and password are required text", file=where)
    compat_raw = raw.get("compat") or ()
    meters = raw.get("meters") or {}
    if not isinstance(meters, Mapping) or not isinstance(compat_raw, str | list | tuple):
        raise InputError("meters must be a map and compat a list", file=where, field="meters")
    try:
        compat = parse_compat(compat_raw)
    except ValueError as exc:
        raise InputError(str(exc), file=where, field="compat") from None
    return Device(
        mn=mn,
        password=password,
        compat=compat,
        meters={str(k): str(v) for k, v in meters.items()},
        utc_offset=_offset(raw.get("utc_offset_h"), where),
        minute_interval_min=_optional_int(raw.get("minute_interval_min"), where),
    )


def _offset(value: object, where: str) -> timedelta:
    if value in (None, ""):
        return CHINA_UTC_OFFSET
    try:
        return timedelta(hours=float(str(value)))
    except ValueError:
        raise InputError(f"bad utc_offset_h {value!r}", file=where) from None


def _optional_int(value: object, where: str) -> int | None:
    if value in (None, ""):
        return None
    text = str(value)
    if not text.isdigit() or int(text) <= 0:
        raise InputError(f"bad minute_interval_min {value!r}", file=where)
    return int(text)


def _pairs(text: str, where: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(f"meters entry {part!r} is not code=meter", file=where)
        result[key.strip()] = value.strip()
    return result


def parse_devices_csv(text: str, *, file: str = "devices.csv") -> list[Device]:
    """Devices from CSV text (columns mn, password, compat, meters, ...)."""
    reader = csv.DictReader(text.lstrip("\ufeff").splitlines())
    unknown = set(reader.fieldnames or ()) - _CSV_COLUMNS
    if unknown:
        raise InputError(f"unknown column(s) {sorted(unknown)}", file=file)
    devices = []
    for row_no, row in enumerate(reader, start=1):
        where = f"{file}, row {row_no}"
        raw: dict[str, object] = dict(row)
        raw["compat"] = [c for c in (row.get("compat") or "").split(";") if c.strip()]
        raw["meters"] = _pairs(row.get("meters") or "", where)
        devices.append(_device_from_mapping(raw, where))
    return devices


def parse_devices_json(text: str, *, file: str = "devices.json") -> list[Device]:
    """Devices from JSON text: a list of objects."""
    data = json.loads(text)
    if not isinstance(data, list):
        raise InputError("expected a JSON list of devices", file=file)
    devices = []
    for index, item in enumerate(data, start=1):
        where = f"{file}, item {index}"
        if not isinstance(item, dict):
            raise InputError("each device must be a JSON object", file=where)
        devices.append(_device_from_mapping(item, where))
    return devices


def read_devices(path: Path) -> InMemoryDeviceDirectory:
    """Load a devices file (``.json`` or ``.csv``) into a directory."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        devices = parse_devices_json(text, file=str(path))
    else:
        devices = parse_devices_csv(text, file=str(path))
    return InMemoryDeviceDirectory(devices)
