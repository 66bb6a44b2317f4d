"""``kilnwatch hj212``: decode captures, build frames, run a field-test receiver."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from kilnwatch.errors import FrameError
from kilnwatch.ingest.hj212.codec import parse_data_segment, parse_raw_frame
from kilnwatch.ingest.hj212.devices import read_devices
from kilnwatch.ingest.hj212.encode import encode_frame
from kilnwatch.ingest.hj212.framing import Rejected, SplitItem, split_frames
from kilnwatch.ingest.hj212.model import Compat, Packet, parse_compat
from kilnwatch.ingest.hj212.server import HJ212Server
from kilnwatch.ingest.hj212.sinks import CsvReadingSink

app = typer.Typer(help="HJ 212 tools: decode captured bytes, build frames, run a receiver.")

_REPORT_PACKET_ON = frozenset({"crc", "too_long"})  # the segment itself was readable


def _compat_option(value: str) -> frozenset[Compat]:
    try:
        return parse_compat(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _decode_item(
    item: SplitItem, compat: frozenset[Compat]
) -> tuple[dict[str, object], Packet | None]:
    """One line of ``decode`` output."""
    result: dict[str, object] = {"ok": False, "error": None, "message": None, "edition": None}
    packet: Packet | None = None
    if isinstance(item, Rejected):
        result |= {"error": item.error.reason, "message": item.error.message}
        raw = item.raw
    else:
        raw = item.raw
        try:
            packet = parse_raw_frame(item, compat)
            result["ok"] = True
        except FrameError as exc:
            result |= {"error": exc.reason, "message": exc.message}
            if exc.reason in _REPORT_PACKET_ON:
                packet = _best_effort(item.segment)
    if packet is not None:
        result |= packet.to_json_dict()
    result["raw"] = raw.decode("utf-8", errors="replace")
    return result, packet


def _best_effort(segment: bytes) -> Packet | None:
    try:
        return parse_data_segment(segment)
    except FrameError:
        return None


def _summary(index: int, line: dict[str, object], packet: Packet | None) -> str:
    if not line["ok"] or packet is None:
        return f"#{index} REJECTED {line['error']}: {line['message']}"
    compat = ",".join(c.value for c in packet.compat)
    items = sum(len(group) for group in packet.cp)
    return (
        f"#{index} OK edition={packet.edition.value} CN={packet.cn} MN={packet.mn} "
        f"QN={packet.qn} Flag={packet.flag} items={items}" + (f" compat={compat}" if compat else "")
    )


@app.command()
def decode(
    source: Annotated[str, typer.Argument(help="Capture file, or - for standard input.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per frame.")] = False,
    compat: Annotated[
        str, typer.Option(help="Deviations to accept, e.g. crc_modbus,lf_only or all.")
    ] = "",
) -> None:
    """Split a captured byte stream into frames and say, for each, whether it is valid.

    Exits with status 1 when any frame was rejected.
    """
    allowed = _compat_option(compat)
    data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    decoded = [_decode_item(item, allowed) for item in split_frames(data)]
    lines = [line for line, _ in decoded]
    for index, (line, packet) in enumerate(decoded, start=1):
        text = json.dumps(line, ensure_ascii=False) if as_json else _summary(index, line, packet)
        typer.echo(text)
    if not as_json:
        good = sum(1 for line in lines if line["ok"])
        typer.echo(f"{good} valid, {len(lines) - good} rejected")
    if any(not line["ok"] for line in lines):
        raise typer.Exit(1)


def _pairs(items: list[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE")
        pairs[key] = value
    return pairs


def _cp_groups(pairs: dict[str, str]) -> list[dict[str, str]]:
    """Group consecutive items of the same factor code (``a21026-Rtd``, ``a21026-Flag``)."""
    groups: list[dict[str, str]] = []
    last = None
    for key, value in pairs.items():
        code = key.rsplit("-", 1)[0] if "-" in key else None
        if code is None or code != last or not groups:
            groups.append({})
        groups[-1][key] = value
        last = code
    return groups


@app.command()
def encode(
    items: Annotated[list[str], typer.Argument(help="CP items KEY=VALUE, e.g. a21026-Rtd=35.2")],
    mn: Annotated[str, typer.Option(help="Device MN.")],
    pw: Annotated[str, typer.Option(help="Access password PW.")],
    cn: Annotated[str, typer.Option(help="Command code, e.g. 2011.")] = "2011",
    st: Annotated[str, typer.Option(help="System code, e.g. 31 gas, 32 water.")] = "31",
    flag: Annotated[str, typer.Option(help="Flag byte; 5 = HJ 212-2017, ack requested.")] = "5",
    qn: Annotated[str | None, typer.Option(help="Request id YYYYMMDDhhmmsszzz.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the raw frame bytes here.")] = None,
) -> None:
    """Build one standard frame from KEY=VALUE data items (grouped by factor code)."""
    fields = ({"QN": qn} if qn else {}) | {"ST": st, "CN": cn, "PW": pw, "MN": mn, "Flag": flag}
    try:
        frame = encode_frame(fields, _cp_groups(_pairs(items)))
    except FrameError as exc:
        typer.echo(f"cannot encode ({exc.reason}): {exc.message}", err=True)
        raise typer.Exit(2) from None
    if out is not None:
        out.write_bytes(frame)
    typer.echo(frame.decode("utf-8").rstrip("\r\n"))


async def _serve(server: HJ212Server, duration_s: float | None) -> None:
    async with server:
        if duration_s is None:
            await server.serve_forever()
        else:
            await asyncio.sleep(duration_s)


@app.command()
def serve(
    devices: Annotated[Path, typer.Option(help="Devices file (.json or .csv).")],
    port: Annotated[int, typer.Option(help="TCP port to listen on.")],
    out: Annotated[Path, typer.Option(help="Readings CSV to append committed readings to.")],
    host: Annotated[str, typer.Option(help="Address to bind.")] = "0.0.0.0",
    duration_s: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (field tests).")
    ] = None,
) -> None:
    """Run an HJ 212 receiver that appends committed readings to a readings CSV."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    directory = read_devices(devices)
    sink = CsvReadingSink(out)
    server = HJ212Server(directory, sink, host=host, port=port)
    try:
        asyncio.run(_serve(server, duration_s))
    except KeyboardInterrupt:
        typer.echo("stopped")
    typer.echo(json.dumps(server.stats.snapshot()))
