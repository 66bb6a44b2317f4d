"""The asyncio server over a real loopback TCP socket, with a list sink."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from kilnwatch.ingest.hj212 import (
    Compat,
    Device,
    HJ212Server,
    InMemoryDeviceDirectory,
    Packet,
    encode_data_frame,
    encode_frame,
    parse_frame,
)
from kilnwatch.ingest.hj212.crc import crc_modbus

MN = "010000A8900016F000169DC0"
PW = "123456"
STAMP = datetime(2025, 3, 1, 8, 15)


class ListSink:
    """Keeps committed packets; can be told to fail."""

    def __init__(self) -> None:
        self.packets: list[Packet] = []
        self.fail = False
        self.events: list[str] = []

    async def commit(self, device: Device, packet: Packet, received_at: datetime) -> None:
        assert device.mn == packet.mn and received_at.tzinfo is not None
        await asyncio.sleep(0.01)  # a real store takes time; the ack must wait for it
        if self.fail:
            raise OSError("disk full")
        self.packets.append(packet)
        self.events.append(f"commit {packet.qn}")


def data_frame(n: int, *, flag: int = 5, mn: str = MN, pw: str = PW, cn: str = "2011") -> bytes:
    return encode_data_frame(
        mn=mn,
        pw=pw,
        cn=cn,
        data_time=STAMP,
        values={"a21026": (float(n), "N")},
        qn=f"20250301081500{n:03d}",
        flag=flag,
    )


@asynccontextmanager
async def running(sink: ListSink, **kwargs: object) -> AsyncIterator[HJ212Server]:
    devices = InMemoryDeviceDirectory(
        [
            Device(mn=MN, password=PW),
            Device(mn="LEGACY1", password=PW, compat=frozenset({Compat.CRC_MODBUS})),
        ]
    )
    server = HJ212Server(devices, sink, host="127.0.0.1", port=0, **kwargs)  # type: ignore[arg-type]
    async with server:
        yield server


async def read_reply(reader: asyncio.StreamReader) -> Packet:
    line = await asyncio.wait_for(reader.readuntil(b"\r\n"), 5)
    return parse_frame(line)


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def test_ack_only_after_commit_and_counters() -> None:
    async def scenario() -> None:
        sink = ListSink()
        async with running(sink) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(data_frame(1))
            await writer.drain()
            reply = await read_reply(reader)
            assert sink.packets and sink.packets[0].qn == reply.qn == "20250301081500001"
            assert (reply.cn, reply.st, reply.mn, reply.flag) == ("9014", "91", MN, 4)
            writer.write(data_frame(2, flag=4))  # no ack requested
            writer.write(data_frame(3))
            await writer.drain()
            assert (await read_reply(reader)).qn == "20250301081500003"
            assert [p.qn for p in sink.packets][-2:] == ["20250301081500002", "20250301081500003"]
            writer.close()
            await writer.wait_closed()
            stats = server.stats
            assert (stats.frames_ok, stats.frames_committed, stats.acks_sent) == (3, 3, 2)
            assert stats.bytes_received == len(data_frame(1)) * 3
            assert stats.frames_rejected_total == 0

    run(scenario())


def test_a_strict_device_sending_lower_case_crc_is_stored_and_answered() -> None:
    async def scenario() -> None:
        sink = ListSink()
        async with running(sink) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            frame = next(f for n in range(100) if (f := data_frame(n))[-6:-2].lower() != f[-6:-2])
            writer.write(frame[:-6] + frame[-6:-2].lower() + b"\r\n")
            await writer.drain()
            reply = await read_reply(reader)
            assert sink.packets[0].qn == reply.qn and sink.packets[0].compat == ()
            assert server.stats.frames_rejected_total == 0
            writer.close()

    run(scenario())


def test_no_ack_when_commit_fails_and_connection_survives() -> None:
    async def scenario() -> None:
        sink = ListSink()
        async with running(sink) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            sink.fail = True
            writer.write(data_frame(1))
            await writer.drain()
            await asyncio.sleep(0.1)
            assert server.stats.commit_failures == 1 and server.stats.acks_sent == 0
            sink.fail = False
            writer.write(data_frame(1))
            assert (await read_reply(reader)).qn == "20250301081500001"
            writer.close()

    run(scenario())


def test_bad_frames_rejected_counted_and_connection_survives() -> None:
    async def scenario() -> None:
        sink = ListSink()
        good = data_frame(9)
        bad_crc = good[:-6] + b"0000\r\n"
        bad_length = good.replace(b"##0", b"##9", 1)
        bad_syntax = encode_frame({"ST": "31", "CN": "2011", "PW": PW}, "DataTime=1")
        unknown = data_frame(4, mn="NOBODY")
        wrong_pw = data_frame(5, pw="000000")
        seg = data_frame(6)[6:-6]
        modbus = b"##%04d" % len(seg) + seg + b"%04X" % crc_modbus(seg) + b"\r\n"
        async with running(sink) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            for chunk in (
                bad_crc,
                b"garbage\r\n",
                bad_length,
                bad_syntax,
                unknown,
                wrong_pw,
                modbus,
            ):
                writer.write(chunk)
            writer.write(good)
            await writer.drain()
            reply = await read_reply(reader)
            assert reply.qn == "20250301081500009"
            assert [p.qn for p in sink.packets] == ["20250301081500009"]
            assert dict(server.stats.frames_rejected) == {
                "crc": 2,
                "framing": 1,
                "length": 1,
                "syntax": 1,
                "unknown_mn": 1,
                "bad_password": 1,
            }
            writer.close()

    run(scenario())


def test_split_writes_garbage_and_compat_device() -> None:
    async def scenario() -> None:
        sink = ListSink()
        async with running(sink) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            data = b"\x00\xffnoise" + data_frame(1) + data_frame(2)
            for i in range(0, len(data), 7):
                writer.write(data[i : i + 7])
                await writer.drain()
                await asyncio.sleep(0)
            assert (await read_reply(reader)).qn == "20250301081500001"
            assert (await read_reply(reader)).qn == "20250301081500002"
            seg = data_frame(3, mn="LEGACY1")[6:-6]
            writer.write(b"##%04d" % len(seg) + seg + b"%04X" % crc_modbus(seg) + b"\r\n")
            reply = await read_reply(reader)
            assert reply.mn == "LEGACY1"
            assert sink.packets[-1].compat == (Compat.CRC_MODBUS,)
            assert server.stats.frames_compat == {"crc_modbus": 1}
            assert server.stats.frames_rejected == {"framing": 1}
            writer.close()

    run(scenario())


def test_unterminated_frame_needs_compat_and_is_taken_after_grace() -> None:
    async def scenario() -> None:
        sink = ListSink()
        async with running(sink, terminator_grace_s=0.05) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(data_frame(1)[:-2])
            await writer.drain()
            await asyncio.sleep(0.2)
            assert server.stats.frames_rejected == {"framing": 1} and not sink.packets
            writer.write(data_frame(2)[:-2])
            await writer.drain()
            await asyncio.sleep(0.01)
            writer.write(b"\r\n")  # late terminator within the grace period
            assert (await read_reply(reader)).qn == "20250301081500002"
            writer.close()

    run(scenario())


def test_notice_and_unknown_command_replies() -> None:
    async def scenario() -> None:
        sink = ListSink()
        async with running(sink) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            fields = {"QN": "20250301081500100", "ST": "31", "CN": "1013", "PW": PW, "MN": MN}
            writer.write(encode_frame(fields | {"Flag": "5"}, ""))
            assert (await read_reply(reader)).cn == "9013"
            writer.write(encode_frame(fields | {"CN": "1072", "Flag": "5"}, ""))
            reply = await read_reply(reader)
            assert (reply.cn, reply.cp_value("QnRtn")) == ("9011", "8")
            writer.write(encode_frame(fields | {"CN": "9014", "Flag": "4"}, ""))
            writer.write(data_frame(7))
            assert (await read_reply(reader)).cn == "9014"
            assert [p.cn for p in sink.packets] == ["2011"]
            writer.close()

    run(scenario())


def test_several_connections_and_close() -> None:
    async def scenario() -> None:
        sink = ListSink()
        async with running(sink) as server:
            conns = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(3)]
            for n, (_, writer) in enumerate(conns):
                writer.write(data_frame(n))
            for reader, _ in conns:
                await read_reply(reader)
            assert server.stats.connections_active == 3
        assert server.stats.connections_active == 0
        for _, writer in conns:
            writer.close()
            await writer.wait_closed()
        assert sorted(p.qn or "" for p in sink.packets) == [
            f"20250301081500{n:03d}" for n in range(3)
        ]

    run(scenario())


class CallbackListSink(ListSink):
    """A :class:`CallbackSink`: commits in groups, answering by callback, as the store does."""

    def __init__(self) -> None:
        super().__init__()
        self.queue: list[tuple[Packet, object]] = []
        self.groups = 0

    def submit(self, device: Device, packet: Packet, received_at: datetime, done) -> None:  # type: ignore[no-untyped-def]
        assert device.mn == packet.mn and received_at.tzinfo is not None
        self.queue.append((packet, done))
        if len(self.queue) == 1:
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        batch, self.queue = self.queue, []
        self.groups += 1
        for packet, done in batch:
            if self.fail:
                done(OSError("disk full"))  # type: ignore[operator]
            else:
                self.packets.append(packet)
                done(None)  # type: ignore[operator]


def test_a_flooding_device_is_answered_in_order_and_read_with_backpressure() -> None:
    from kilnwatch.ingest.hj212.server import PAUSE_READING_FRAMES

    n = PAUSE_READING_FRAMES * 2 + 10  # more than the connection buffers before pausing

    async def scenario() -> None:
        sink = CallbackListSink()
        async with running(sink) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"".join(data_frame(i) for i in range(n)))  # all at once, pipelined
            await writer.drain()
            replies = [await read_reply(reader) for _ in range(n)]
            assert [r.qn for r in replies] == [f"20250301081500{i:03d}" for i in range(n)]
            assert [p.qn for p in sink.packets] == [r.qn for r in replies]  # commit, then ack
            assert sink.groups == n  # one frame in flight per connection
            writer.close()
            await writer.wait_closed()

    run(scenario())


def test_callback_sink_failure_gives_no_ack_and_the_next_frame_goes_on() -> None:
    async def scenario() -> None:
        sink = CallbackListSink()
        async with running(sink) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            sink.fail = True
            writer.write(data_frame(1))
            await asyncio.sleep(0.1)
            assert server.stats.commit_failures == 1 and server.stats.acks_sent == 0
            sink.fail = False
            writer.write(data_frame(2))
            assert (await read_reply(reader)).qn == "20250301081500002"
            writer.close()

    run(scenario())


def test_idle_connections_close_but_not_while_a_commit_is_pending() -> None:
    class SlowSink(ListSink):
        async def commit(self, device: Device, packet: Packet, received_at: datetime) -> None:
            await asyncio.sleep(0.3)  # longer than the idle timeout
            self.packets.append(packet)

    async def scenario() -> None:
        sink = SlowSink()
        async with running(sink, idle_timeout_s=0.1) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(data_frame(1))
            assert (await read_reply(reader)).qn == "20250301081500001"  # not cut off
            assert await asyncio.wait_for(reader.read(), 2) == b""  # then closed when idle
            assert server.stats.connections_active == 0
            writer.close()

    run(scenario())


def test_frames_before_the_device_half_closes_are_answered_then_the_connection_ends() -> None:
    async def scenario() -> None:
        sink = CallbackListSink()
        async with running(sink) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(data_frame(1) + data_frame(2))
            writer.write_eof()  # the device is done sending, still reading
            assert [(await read_reply(reader)).qn for _ in range(2)] == [
                "20250301081500001",
                "20250301081500002",
            ]
            assert await asyncio.wait_for(reader.read(), 2) == b""
            writer.close()

    run(scenario())
