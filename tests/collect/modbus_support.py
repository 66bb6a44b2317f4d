"""pymodbus's own ModbusTcpServer on loopback, with registers the test sets while it runs."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Sequence

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from kilnwatch.collect.registers import DataType as PointType
from kilnwatch.collect.registers import Order, encode_value

REGISTERS = 200  # addresses 0..199 of each table


class LoopbackModbusServer:
    """A real Modbus TCP server (pymodbus) in a thread; ``set`` changes what it answers."""

    def __init__(self, unit_id: int = 1) -> None:
        self.unit_id = unit_id
        self.tables: dict[str, list[int]] = {"holding": [0] * REGISTERS, "input": [0] * REGISTERS}
        self.reads = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: ModbusTcpServer | None = None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port: int = s.getsockname()[1]
        self._thread = threading.Thread(target=self._run, daemon=True)

    def set(self, function: str, address: int, value: float, data_type: PointType,
            word_order: Order = "big", byte_order: Order = "big") -> None:  # fmt: skip
        words = encode_value(value, data_type, word_order, byte_order)
        with self._lock:
            self.tables[function][address : address + len(words)] = words

    def set_words(self, function: str, address: int, words: Sequence[int]) -> None:
        with self._lock:
            self.tables[function][address : address + len(words)] = list(words)

    async def _action(self, function_code: int, start: int, _address: int, _count: int,
                      registers: list[int], _values: object) -> None:  # fmt: skip
        table = self.tables["input" if function_code == 4 else "holding"]
        with self._lock:
            registers[:] = table[start : start + len(registers)]
            self.reads += 1

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def main() -> None:
            bits = [SimData(0, count=16, values=False, datatype=DataType.BITS)]
            words = [SimData(0, count=REGISTERS, values=0, datatype=DataType.REGISTERS)]
            blocks = (bits, list(bits), words, list(words))
            device = SimDevice(id=self.unit_id, simdata=blocks, action=self._action)
            self._server = ModbusTcpServer(device, address=("127.0.0.1", self.port))
            self._ready.set()
            await self._server.serve_forever()
            await asyncio.sleep(0.1)  # let the closed connections' transports finish closing

        self._loop.run_until_complete(main())

    def __enter__(self) -> LoopbackModbusServer:
        self._thread.start()
        assert self._ready.wait(10)
        deadline = time.monotonic() + 10
        # serve_forever starts listening a moment after it is called
        while self._server is None or not self._server.is_active():
            assert time.monotonic() < deadline, "the Modbus server did not start listening"
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop).result(10)
        self._thread.join(10)
        self._loop.close()
