"""``kilnwatch hj212`` sub-app: decode, encode, serve."""

from __future__ import annotations

import csv
import json
import socket
import threading
import time
from pathlib import Path

from typer.testing import CliRunner

from kilnwatch.cli.hj212 import app
from kilnwatch.ingest.hj212 import encode_frame, parse_frame
from kilnwatch.ingest.hj212.crc import crc_modbus

FRAMES = Path(__file__).parents[1] / "ingest" / "hj212" / "frames"
runner = CliRunner()
FIELDS = {"QN": "20250301081500000", "ST": "31", "CN": "2011", "PW": "123456", "MN": "MN1"}
CP = "DataTime=20250301081500;a21026-Rtd=35.2,a21026-Flag=N"


def good() -> bytes:
    return encode_frame(FIELDS | {"Flag": "5"}, CP)


def modbus_frame() -> bytes:
    seg = good()[6:-6]
    return b"##%04d" % len(seg) + seg + b"%04X" % crc_modbus(seg) + b"\r\n"


def test_decode_json_lines(tmp_path: Path) -> None:
    capture = tmp_path / "capture.bin"
    capture.write_bytes(b"noise" + good() + good()[:-6] + b"0000\r\n" + modbus_frame())
    result = runner.invoke(app, ["decode", str(capture), "--json"])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(x["ok"], x["error"]) for x in lines] == [
        (False, "framing"),
        (True, None),
        (False, "crc"),
        (False, "crc"),
    ]
    ok = lines[1]
    assert (ok["edition"], ok["qn"], ok["cn"], ok["mn"], ok["flag"]) == (
        "2017",
        "20250301081500000",
        "2011",
        "MN1",
        5,
    )
    assert ok["cp"] == [{"DataTime": "20250301081500"}, {"a21026-Rtd": "35.2", "a21026-Flag": "N"}]
    assert lines[2]["mn"] == "MN1"  # a CRC failure still shows what the frame says


def test_decode_with_compat_marks_frames() -> None:
    result = runner.invoke(
        app, ["decode", "-", "--json", "--compat", "crc_modbus"], input=modbus_frame()
    )
    assert result.exit_code == 0
    line = json.loads(result.stdout)
    assert line["ok"] is True and line["compat"] == ["crc_modbus"]


def test_decode_human_output_of_real_frames() -> None:
    path = FRAMES / "tonyxia_rx_cn2051_1623_overlong.bin"
    strict = runner.invoke(app, ["decode", str(path)])
    assert strict.exit_code == 1 and "REJECTED crc" in strict.stdout
    lenient = runner.invoke(app, ["decode", str(path), "--compat", "all"])
    assert lenient.exit_code == 0
    assert "OK edition=2005 CN=2051" in lenient.stdout
    assert "compat=crc_modbus_swapped,too_long" in lenient.stdout


def test_decode_accepts_real_lower_case_crc_frames_strictly() -> None:
    paths = sorted(FRAMES.glob("*crc_lower*.bin"))
    assert len(paths) == 3
    stream = b"".join(path.read_bytes() for path in paths)
    result = runner.invoke(app, ["decode", "-", "--json"], input=stream)
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(x["ok"], x["compat"]) for x in lines] == [(True, [])] * 3


def test_decode_refuses_unknown_compat() -> None:
    result = runner.invoke(app, ["decode", "-", "--compat", "nope"], input=b"")
    assert result.exit_code == 2


def test_encode_builds_a_valid_frame(tmp_path: Path) -> None:
    out = tmp_path / "frame.bin"
    args = ["encode", "--mn", "MN1", "--pw", "123456", "--qn", "20250301081500000"]
    args += ["DataTime=20250301081500", "a21026-Rtd=35.2", "a21026-Flag=N", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stdout
    assert out.read_bytes() == good()
    assert result.stdout.strip() == good().decode().strip()
    assert parse_frame(out.read_bytes()).cp[1] == (("a21026-Rtd", "35.2"), ("a21026-Flag", "N"))


def test_encode_refuses_bad_items() -> None:
    assert runner.invoke(app, ["encode", "--mn", "M", "--pw", "p", "novalue"]).exit_code == 2
    bad = runner.invoke(app, ["encode", "--mn", "M", "--pw", "p", "a=" + "9" * 1000])
    assert bad.exit_code == 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_writes_committed_readings(tmp_path: Path) -> None:
    devices = tmp_path / "devices.csv"
    devices.write_text("mn,password,compat,meters\nMN1,123456,,a21026=SO2-01\n", encoding="utf-8")
    out = tmp_path / "readings.csv"
    port = _free_port()
    args = ["serve", "--devices", str(devices), "--port", str(port), "--out", str(out)]
    args += ["--host", "127.0.0.1", "--duration-s", "1.5"]
    box: dict[str, object] = {}
    thread = threading.Thread(target=lambda: box.update(result=runner.invoke(app, args)))
    thread.start()
    reply = b""
    for _ in range(50):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
                conn.sendall(good())
                while not reply.endswith(b"\r\n"):
                    reply += conn.recv(1024)
            break
        except ConnectionRefusedError:
            time.sleep(0.05)
    thread.join(10)
    assert parse_frame(reply).cn == "9014"
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [
        {
            "meter_code": "SO2-01",
            "ts": "2025-03-01T08:15:00+08:00",
            "value": "35.2",
            "unit": "mg/m3",
            "flag": "N",
        }
    ]
    result = box["result"]
    assert result.exit_code == 0  # type: ignore[attr-defined]
    stats = json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[attr-defined]
    assert stats["frames_committed"] == 1 and stats["acks_sent"] == 1
