"""Forwarding targets: the TOML file an operator writes, stored in ``forward_targets``.

::

    [[target]]
    name = "jinan-city"          # unique
    host = "127.0.0.1"
    port = 9212
    edition = "2017"             # 2005 | 2017 | 2025: the Flag version bits sent upstream
    st = "31"                    # system code upstream
    password = "123456"          # PW of every device unless the device gives its own
    ack_timeout_s = 5            # optional: every ForwardPolicy field

      [[target.device]]
      gateway = "GW-JN-212"      # our gateway
      mn = "37010000000001"      # MN upstream (default: the gateway's own MN)
      password = "654321"        # optional
      pollutants = ["a21026"]    # factor codes of the gateway's meters (default: all)
      meters = { "M-JN-E0" = "e01" }  # single meters and the factor code they are sent as

With neither ``pollutants`` nor ``meters`` a device forwards every meter of its gateway that
has an HJ 212 code. Importing the file again updates the targets in place (by name).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kilnwatch.errors import ImportRejected, InputError, NotFoundError, rejected_fields
from kilnwatch.forward.policy import ForwardPolicy
from kilnwatch.store.models import (
    ForwardDevice,
    ForwardFrame,
    ForwardMeter,
    ForwardTarget,
    Gateway,
    Meter,
)

_TEXT = r"^[^;,=&\s]+$"  # HJ 212 header and data-area text may not hold separators


class DeviceConfig(BaseModel):
    """One of our gateways as a device of the target."""

    model_config = ConfigDict(extra="forbid")

    gateway: str
    mn: str | None = Field(default=None, max_length=32, pattern=_TEXT)
    password: str | None = Field(default=None, max_length=64, pattern=_TEXT)
    pollutants: list[str] = Field(default_factory=list)
    meters: dict[str, str] = Field(default_factory=dict)
    """Meter code -> factor code upstream (empty: the meter's own HJ 212 code)."""


class TargetConfig(ForwardPolicy):
    """A receiving platform and its devices."""

    name: str = Field(min_length=1, max_length=64)
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(ge=1, le=65535)
    edition: Literal["2005", "2017", "2025"] = "2017"
    st: str = Field(min_length=2, max_length=2, pattern=_TEXT)
    password: str = Field(max_length=64, pattern=_TEXT)
    active: bool = True
    start_at: datetime | None = None
    device: list[DeviceConfig] = Field(default_factory=list)


class TargetsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: list[TargetConfig]


def read_targets(path: Path) -> list[TargetConfig]:
    """Parse a targets file.

    Raises
    ------
    ImportRejected
        Every invalid field, named by its path (``target[0].device[1].mn``).
    """
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not a TOML file: {exc}", file=str(path)) from None
    try:
        return TargetsFile.model_validate(doc).target
    except ValidationError as exc:
        raise rejected_fields(exc.errors(), str(path)) from None


def save_targets(session: Session, configs: list[TargetConfig], file: str = "targets") -> int:
    """Create or update the targets (by name) with their devices and meters; flush only.

    Raises
    ------
    ImportRejected
        Unknown gateways or meters, a gateway without MN and none given, or a device
        dropped from the file while frames of it are still queued.
    """
    errors: list[InputError] = []
    now = datetime.now(UTC)
    for t_index, config in enumerate(configs):
        target = session.scalar(select(ForwardTarget).where(ForwardTarget.name == config.name))
        if target is None:
            target = ForwardTarget(name=config.name, start_at=config.start_at or now)
            session.add(target)
        _apply(target, config)
        session.flush()
        errors += _save_devices(session, target, config, f"target[{t_index}]", file)
    if errors:
        raise ImportRejected(errors, file=file)
    session.flush()
    return len(configs)


def _apply(target: ForwardTarget, config: TargetConfig) -> None:
    target.host, target.port, target.edition = config.host, config.port, config.edition
    target.st, target.password, target.active = config.st, config.password, config.active
    if config.start_at is not None:
        target.start_at = config.start_at
    for name in ForwardPolicy.model_fields:
        setattr(target, name, getattr(config, name))


def _save_devices(
    session: Session, target: ForwardTarget, config: TargetConfig, where: str, file: str
) -> list[InputError]:
    errors: list[InputError] = []
    old = {d.gateway_id: d for d in session.scalars(
        select(ForwardDevice).where(ForwardDevice.target_id == target.id))}  # fmt: skip
    kept: set[int] = set()
    for d_index, dev in enumerate(config.device):
        at = f"{where}.device[{d_index}]"
        gateway = session.scalar(select(Gateway).where(Gateway.code == dev.gateway))
        if gateway is None:
            errors.append(InputError(f"unknown gateway {dev.gateway!r}", file=file,
                                     field=f"{at}.gateway"))  # fmt: skip
            continue
        mn = dev.mn or gateway.mn
        if not mn:
            errors.append(InputError("the gateway has no MN: give mn", file=file,
                                     field=f"{at}.mn"))  # fmt: skip
            continue
        device = old.get(gateway.id) or ForwardDevice(target_id=target.id, gateway_id=gateway.id)
        device.mn, device.password = mn, dev.password
        device.pollutants = ",".join(dev.pollutants) or None
        session.add(device)
        session.flush()
        kept.add(gateway.id)
        errors += _save_meters(session, device, dev, at, file)
    for gateway_id, device in old.items():
        if gateway_id not in kept:
            errors += _drop_device(session, device, where, file)
    return errors


def _save_meters(
    session: Session, device: ForwardDevice, dev: DeviceConfig, at: str, file: str
) -> list[InputError]:
    session.execute(delete(ForwardMeter).where(ForwardMeter.device_id == device.id))
    errors: list[InputError] = []
    for code, factor in dev.meters.items():
        meter = session.scalar(select(Meter).where(Meter.code == code))
        factor_code = factor or (meter.hj212_code if meter is not None else None)
        if meter is None or not factor_code:
            reason = f"unknown meter {code!r}" if meter is None else "no factor code: give one"
            errors.append(InputError(reason, file=file, field=f"{at}.meters.{code}"))
            continue
        session.add(ForwardMeter(device_id=device.id, meter_id=meter.id, factor_code=factor_code))
    return errors


def _drop_device(
    session: Session, device: ForwardDevice, where: str, file: str
) -> list[InputError]:
    queued = session.scalar(select(ForwardFrame.id).where(ForwardFrame.device_id == device.id))
    if queued is not None:
        reason = (f"device MN {device.mn} is not in the file but has queued frames; "
                  "keep it until its queue is empty")  # fmt: skip
        return [InputError(reason, file=file, field=f"{where}.device")]
    session.execute(delete(ForwardMeter).where(ForwardMeter.device_id == device.id))
    session.delete(device)
    return []


def target_by_name(session: Session, name: str) -> ForwardTarget:
    """The target called ``name``.

    Raises
    ------
    NotFoundError
    """
    target = session.scalar(select(ForwardTarget).where(ForwardTarget.name == name))
    if target is None:
        raise NotFoundError(f"no forwarding target {name!r} (kilnwatch forward targets import)")
    return target


@dataclass(frozen=True, slots=True)
class Selected:
    """Where a forwarded meter goes: device and factor code upstream."""

    device_id: int
    factor_code: str
    meter_unit: str


def selected_meters(session: Session, target_id: int) -> dict[int, Selected]:
    """Every meter the target forwards, resolved now (new meters of a gateway join)."""
    selected: dict[int, Selected] = {}
    devices = session.scalars(select(ForwardDevice).where(ForwardDevice.target_id == target_id))
    for device in devices:
        explicit = session.execute(
            select(ForwardMeter.meter_id, ForwardMeter.factor_code, Meter.unit_of_measure)
            .join(Meter, Meter.id == ForwardMeter.meter_id)
            .where(ForwardMeter.device_id == device.id)
        ).all()
        codes = [c for c in (device.pollutants or "").split(",") if c]
        if codes or not explicit:
            stmt = select(Meter.id, Meter.hj212_code, Meter.unit_of_measure).where(
                Meter.gateway_id == device.gateway_id, Meter.hj212_code.is_not(None)
            )
            if codes:
                stmt = stmt.where(Meter.hj212_code.in_(codes))
            for meter_id, code, unit in session.execute(stmt):
                selected[meter_id] = Selected(device.id, code or "", unit)
        for meter_id, code, unit in explicit:
            selected[meter_id] = Selected(device.id, code, unit)
    return selected
