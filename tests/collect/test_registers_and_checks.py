"""Register decoding (checked against pymodbus's own encoder and real Modbus reads), scaling,
counter checks with the platform's roll-over rule."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from modbus_support import LoopbackModbusServer
from pymodbus.client import ModbusTcpClient

from kilnwatch.collect.checks import (
    NEGATIVE_COUNTER,
    NOT_FINITE,
    RESET,
    ROLLOVER,
    check_value,
)
from kilnwatch.collect.config import DeviceConfig, PointConfig
from kilnwatch.collect.modbus import ModbusDevice
from kilnwatch.collect.registers import decode_registers, encode_value, register_count, scaled

PYMODBUS_TYPES = {"u16": ModbusTcpClient.DATATYPE.UINT16, "i16": ModbusTcpClient.DATATYPE.INT16,
                  "u32": ModbusTcpClient.DATATYPE.UINT32, "i32": ModbusTcpClient.DATATYPE.INT32,
                  "f32": ModbusTcpClient.DATATYPE.FLOAT32, "u64": ModbusTcpClient.DATATYPE.UINT64,
                  "f64": ModbusTcpClient.DATATYPE.FLOAT64}  # fmt: skip
SAMPLES = {"u16": 65535, "i16": -2, "u32": 4_000_000_001, "i32": -123_456_789, "f32": 1234.5,
           "u64": 2**53 + 2, "f64": -98765.4321}  # fmt: skip


@pytest.mark.parametrize("data_type", sorted(SAMPLES))
@pytest.mark.parametrize("word_order", ["big", "little"])
def test_decoding_agrees_with_pymodbus(data_type: str, word_order: str) -> None:
    value = SAMPLES[data_type]
    words = ModbusTcpClient.convert_to_registers(
        value, PYMODBUS_TYPES[data_type], word_order=word_order
    )  # type: ignore[arg-type]
    assert len(words) == register_count(data_type)  # type: ignore[arg-type]
    assert decode_registers(words, data_type, word_order) == value  # type: ignore[arg-type]


def test_the_four_byte_orders_of_one_float() -> None:
    # 123.456 as IEEE 754 single: 0x42F6E979 (bytes A B C D = 42 F6 E9 79)
    cases = {("big", "big"): [0x42F6, 0xE979], ("little", "big"): [0xE979, 0x42F6],
             ("big", "little"): [0xF642, 0x79E9],
             ("little", "little"): [0x79E9, 0xF642]}  # fmt: skip
    for (word, byte), words in cases.items():
        value = decode_registers(words, "f32", word, byte)  # type: ignore[arg-type]
        assert math.isclose(value, 123.456, rel_tol=1e-7)
        assert encode_value(123.456, "f32", word, byte) == words  # type: ignore[arg-type]


@given(st.integers(0, 2**32 - 1), st.sampled_from(["big", "little"]),
       st.sampled_from(["big", "little"]))  # fmt: skip
def test_u32_round_trip(value: int, word: str, byte: str) -> None:
    words = encode_value(value, "u32", word, byte)  # type: ignore[arg-type]
    assert decode_registers(words, "u32", word, byte) == value  # type: ignore[arg-type]


def test_wrong_register_count_is_refused() -> None:
    with pytest.raises(ValueError, match="needs 2 register"):
        decode_registers([1], "u32")
    assert scaled(12345, 0.1, -1.0) == pytest.approx(1233.5)


def test_reads_from_a_real_modbus_server_holding_and_input() -> None:
    with LoopbackModbusServer(unit_id=3) as server:
        server.set("holding", 0, 1_234_567, "u32")
        server.set("input", 10, 56.25, "f32", "little")
        server.set("holding", 20, -7, "i16")
        device = ModbusDevice(DeviceConfig(name="d", host="127.0.0.1", port=server.port,
                                           unit_id=3, points=[_p(0)]))  # fmt: skip
        points = [_p(0, type="u32", scale=0.01), _p(10, function="input", type="f32",
                                                     word_order="little"),
                  _p(20, type="i16"), _p(198, type="u64")]  # fmt: skip
        values = device.read(points)
        device.close()
    assert [v.value for v in values[:3]] == [pytest.approx(12345.67), 56.25, -7]
    assert values[3].value is None and "exception" in (values[3].error or "")  # past the table


def test_an_unreachable_device_gives_errors_not_values() -> None:
    with LoopbackModbusServer() as server:
        port = server.port
    device = ModbusDevice(DeviceConfig(name="d", host="127.0.0.1", port=port, timeout_s=0.5,
                                       points=[_p(0)]))  # fmt: skip
    (value,) = device.read([_p(0)])
    assert value.value is None and "cannot connect" in (value.error or "")


def _p(address: int, **kw: object) -> PointConfig:
    return PointConfig(meter="M", address=address, unit="kWh", **kw)  # type: ignore[arg-type]


def test_counter_checks_follow_the_platform_rule() -> None:
    assert check_value("counter", 100.0, None).send
    assert check_value("counter", 101.0, 100.0).code is None
    rollover = check_value("counter", 12.0, 99_990.0)
    assert (rollover.send, rollover.code) == (True, ROLLOVER)
    assert "consumption 22" in rollover.message
    reset = check_value("counter", 10.0, 50_000.0)
    assert (reset.send, reset.code) == (True, RESET)
    assert check_value("counter", -1.0, 5.0).code == NEGATIVE_COUNTER
    assert not check_value("counter", -1.0, 5.0).send
    assert check_value("instantaneous", -3.0, None).send  # a temperature may be negative
    assert check_value("instantaneous", float("nan"), None).code == NOT_FINITE
