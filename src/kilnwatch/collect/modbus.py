"""Reading the points of one Modbus TCP device (pymodbus client, blocking).

Each point is read with Read Holding Registers (function 3) or Read Input Registers
(function 4) at its address and register count. A point whose read fails (an exception
response, a timeout) yields an error instead of a value; a lost connection fails the whole
poll and is opened again on the next one.

References
----------
.. [1] Modbus Application Protocol Specification V1.1b3, 6.3 (0x03), 6.4 (0x04), 7 (exception
       responses).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusException

from kilnwatch.collect.config import DeviceConfig, PointConfig
from kilnwatch.collect.registers import decode_registers, register_count, scaled

logger = logging.getLogger("kilnwatch.collect")


@dataclass(frozen=True, slots=True)
class PointValue:
    """A scaled value of a point, or why there is none."""

    point: PointConfig
    value: float | None
    error: str | None = None


class ModbusDevice:
    """A connection to one device, opened on demand."""

    def __init__(self, config: DeviceConfig) -> None:
        self.config = config
        self.client = ModbusTcpClient(config.host, port=config.port, timeout=config.timeout_s,
                                      retries=0, reconnect_delay=0)  # fmt: skip

    def close(self) -> None:
        self.client.close()  # type: ignore[no-untyped-call]

    def read(self, points: list[PointConfig]) -> list[PointValue]:
        """Read ``points`` now; every point gets a value or an error."""
        if not self.client.connected and not self.client.connect():  # type: ignore[no-untyped-call]
            reason = f"cannot connect to {self.config.host}:{self.config.port}"
            return [PointValue(p, None, reason) for p in points]
        out = []
        for point in points:
            try:
                out.append(self._read_point(point))
            except (ModbusException, OSError) as exc:
                self.client.close()  # type: ignore[no-untyped-call]
                out += [PointValue(p, None, f"connection failed: {exc}")
                        for p in points[len(out):]]  # fmt: skip
                break
        return out

    def _read_point(self, point: PointConfig) -> PointValue:
        count = register_count(point.type)
        unit = self.config.unit_id
        if point.function == "input":
            response = self.client.read_input_registers(point.address, count=count, device_id=unit)
        else:
            response = self.client.read_holding_registers(point.address, count=count,
                                                          device_id=unit)  # fmt: skip
        if response.isError():
            return PointValue(point, None, f"exception response {response}")
        raw = decode_registers(response.registers, point.type, point.word_order, point.byte_order)
        return PointValue(point, scaled(raw, point.scale, point.offset))
