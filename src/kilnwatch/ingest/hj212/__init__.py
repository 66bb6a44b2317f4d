"""HJ 212 (HJ/T 212-2005, HJ 212-2017, HJ 212-2025) codec and TCP receiver.

Public API::

    encode_frame(fields, cp) -> bytes
    encode_data_frame(*, mn, pw, cn, data_time, values, st="31", kind="Rtd", qn=None, flag=5)
    parse_frame(data, compat=STRICT) -> Packet
    FrameSplitter / split_frames            # streams and capture files
    packet_to_readings(device, packet) -> list[DecodedReading]
    HJ212Server, DeviceDirectory, FrameSink, InMemoryDeviceDirectory, ServerStats
"""

from kilnwatch.ingest.hj212.codec import (
    check_crc,
    parse_cp,
    parse_data_segment,
    parse_frame,
    parse_raw_frame,
)
from kilnwatch.ingest.hj212.crc import crc_hj212, crc_modbus
from kilnwatch.ingest.hj212.devices import Device, InMemoryDeviceDirectory, read_devices
from kilnwatch.ingest.hj212.encode import (
    encode_cp,
    encode_data_frame,
    encode_frame,
    encode_reply,
)
from kilnwatch.ingest.hj212.framing import FrameSplitter, Rejected, split_frames
from kilnwatch.ingest.hj212.model import (
    ALL_COMPAT,
    STRICT,
    Compat,
    Edition,
    Packet,
    RawFrame,
    parse_compat,
)
from kilnwatch.ingest.hj212.records import (
    DecodedReading,
    ReadingProblem,
    ReadingsReport,
    packet_readings,
    packet_to_readings,
)
from kilnwatch.ingest.hj212.replies import reply_for
from kilnwatch.ingest.hj212.server import DeviceDirectory, FrameSink, HJ212Server, ServerStats
from kilnwatch.ingest.hj212.sinks import CsvReadingSink

__all__ = [
    "ALL_COMPAT",
    "STRICT",
    "Compat",
    "CsvReadingSink",
    "DecodedReading",
    "Device",
    "DeviceDirectory",
    "Edition",
    "FrameSink",
    "FrameSplitter",
    "HJ212Server",
    "InMemoryDeviceDirectory",
    "Packet",
    "RawFrame",
    "ReadingProblem",
    "ReadingsReport",
    "Rejected",
    "ServerStats",
    "check_crc",
    "crc_hj212",
    "crc_modbus",
    "encode_cp",
    "encode_data_frame",
    "encode_frame",
    "encode_reply",
    "packet_readings",
    "packet_to_readings",
    "parse_compat",
    "parse_cp",
    "parse_data_segment",
    "parse_frame",
    "parse_raw_frame",
    "read_devices",
    "reply_for",
    "split_frames",
]
