"""HJ 212 codec: CRC vectors, round trips, malformed frames, editions, compat marks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kilnwatch.errors import FrameError
from kilnwatch.ingest.hj212 import (
    ALL_COMPAT,
    Compat,
    Edition,
    encode_data_frame,
    encode_frame,
    parse_compat,
    parse_frame,
    split_frames,
)
from kilnwatch.ingest.hj212.codec import parse_raw_frame
from kilnwatch.ingest.hj212.crc import crc_hj212, crc_modbus, swap_bytes
from kilnwatch.ingest.hj212.framing import Rejected

FRAMES = Path(__file__).parent / "frames"
APPENDIX_A = (
    b"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;"
    b"CP=&&RtdInterval=30&&"
)
A1_2025 = b"QN=20240601085857223;ST=32;CN=1011;PW=123456;MN=010000A8900016F000169DC0;Flag=9;CP=&&&&"


def frame_with(segment: bytes, crc: bytes | None = None, tail: bytes = b"\r\n") -> bytes:
    """A frame around ``segment`` with the standard CRC unless ``crc`` is given."""
    crc_text = crc if crc is not None else b"%04X" % crc_hj212(segment)
    return b"##%04d" % len(segment) + segment + crc_text + tail


def segment(cn: str = "2011", flag: str | None = "5", cp: str = "DataTime=20250301081500") -> bytes:
    flag_part = f"Flag={flag};" if flag is not None else ""
    text = f"QN=20250301081500000;ST=31;CN={cn};PW=123456;MN=MN0001;{flag_part}CP=&&{cp}&&"
    return text.encode()


# --- CRC ---------------------------------------------------------------------------------


def test_crc_appendix_a_example_is_1c80_not_modbus() -> None:
    assert len(APPENDIX_A) == 101
    assert crc_hj212(APPENDIX_A) == 0x1C80
    assert crc_modbus(APPENDIX_A) == 0x0759


def test_crc_2025_example_is_2200() -> None:
    assert len(A1_2025) == 87
    assert crc_hj212(A1_2025) == 0x2200


def test_crc_of_empty_segment_is_ffff() -> None:
    assert crc_hj212(b"") == 0xFFFF


def test_crc_modbus_check_value() -> None:
    # CRC-16/MODBUS catalogue check value for "123456789"
    assert crc_modbus(b"123456789") == 0x4B37


def test_crc_low_byte_takes_only_eight_values() -> None:
    lows = {crc_hj212(bytes([a, b])) & 0xFF for a in range(0, 256, 7) for b in range(256)}
    assert lows == {0x00, 0x01, 0x40, 0x41, 0x80, 0x81, 0xC0, 0xC1}


def test_encode_appendix_a_gives_the_printed_frame() -> None:
    fields = {"QN": "20160801085857223", "ST": "32", "CN": "1062", "PW": "100000"}
    fields |= {"MN": "010000A8900016F000169DC0", "Flag": "5"}
    frame = encode_frame(fields, {"RtdInterval": 30})
    assert frame == b"##0101" + APPENDIX_A + b"1C80\r\n"


# --- decoding -----------------------------------------------------------------------------


def test_decode_data_frame_fields() -> None:
    frame = encode_data_frame(
        mn="MN0001",
        pw="123456",
        cn="2011",
        data_time=datetime(2025, 3, 1, 0, 15, tzinfo=UTC),
        values={"a21026": (35.2, "N"), "a21002": (120.0, "M")},
    )
    packet = parse_frame(frame)
    assert (packet.qn, packet.st, packet.cn, packet.pw, packet.mn) == (
        "20250301081500000",
        "31",
        "2011",
        "123456",
        "MN0001",
    )
    assert packet.flag == 5 and packet.wants_ack and not packet.is_split
    assert packet.edition is Edition.HJ212_2017
    assert packet.cp_value("DataTime") == "20250301081500"
    assert packet.cp[1] == (("a21026-Rtd", "35.2"), ("a21026-Flag", "N"))
    assert packet.cp_value("a21002-Flag") == "M"
    assert packet.compat == ()


@pytest.mark.parametrize(
    ("flag", "edition"),
    [(None, Edition.HJT212_2005), ("1", Edition.HJT212_2005), ("4", Edition.HJ212_2017)]
    + [("5", Edition.HJ212_2017), ("8", Edition.HJ212_2025), ("9", Edition.HJ212_2025)],
)
def test_edition_from_flag_version_bits(flag: str | None, edition: Edition) -> None:
    assert parse_frame(frame_with(segment(flag=flag))).edition is edition


def test_split_packet_fields() -> None:
    seg = segment(flag="7").replace(b"Flag=7;", b"Flag=7;PNUM=2;PNO=1;")
    packet = parse_frame(frame_with(seg))
    assert (packet.pnum, packet.pno, packet.is_split, packet.wants_ack) == (2, 1, True, True)


def test_header_order_is_free_and_extra_fields_are_kept() -> None:
    seg = b"ST=32;CN=2051;QN=20040516010101001;PW=123456;MN=88888880000001;RF=1;CP=&&&&"
    packet = parse_frame(frame_with(seg))
    assert packet.qn == "20040516010101001" and packet.extra == (("RF", "1"),)
    assert packet.cp == ()


def test_info_text_between_slashes_may_hold_separators() -> None:
    cp = "DataTime=20160801062035;PolId=w01018;i11001-Info=//清洗管路; a=b,c//"
    packet = parse_frame(frame_with(segment(cn="3020", cp=cp).replace(b"", b"")))
    assert packet.cp_value("i11001-Info") == "//清洗管路; a=b,c//"
    assert packet.cp_value("PolId") == "w01018"


def test_spaces_and_trailing_semicolon_are_tolerated() -> None:
    packet = parse_frame(frame_with(segment(cp=" PolId=w01018;i12003-Info =0;")))
    assert packet.cp == ((("PolId", "w01018"),), (("i12003-Info", "0"),))


# --- malformed frames ---------------------------------------------------------------------


def _reason(data: bytes) -> str:
    with pytest.raises(FrameError) as info:
        parse_frame(data)
    return info.value.reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (frame_with(segment(), crc=b"0000"), "crc"),
        (frame_with(segment(), crc=b"12G4"), "crc"),
        (b"##0150" + segment() + b"1C80\r\n", "length"),
        (b"##01x9" + segment() + b"1C80\r\n", "length"),
        (frame_with(segment()).replace(b"\r\n", b"XY"), "framing"),
        (frame_with(segment()).replace(b"\r\n", b"XY") + frame_with(segment()), "framing"),
        (b"xx" + frame_with(segment()), "framing"),
        (frame_with(segment())[:-8], "framing"),
        (frame_with(segment().replace(b"CP=&&", b"CX=&&")), "syntax"),
        (frame_with(segment().replace(b";CP=", b"CP=")), "syntax"),
        (frame_with(segment().replace(b"MN=MN0001;", b"")), "syntax"),
        (frame_with(segment().replace(b"ST=31;", b"ST=31;ST=32;")), "syntax"),
        (frame_with(segment().replace(b"CN=2011", b"CN=20A1")), "syntax"),
        (frame_with(segment(flag="7")), "syntax"),
        (frame_with(segment(flag="4").replace(b"Flag=4;", b"Flag=4;PNUM=2;PNO=1;")), "syntax"),
        (frame_with(segment(flag="6").replace(b"Flag=6;", b"Flag=6;PNUM=2;PNO=3;")), "syntax"),
        (frame_with(segment(flag="300")), "syntax"),
        (frame_with(segment(flag="12")), "syntax"),
        (frame_with(segment(cp="DataTime=1;a21026-Rtd")), "syntax"),
        (frame_with(segment(cp="a=1&&b=2")), "syntax"),
        (frame_with(segment(cp="x=//open")), "syntax"),
        (frame_with(segment(cp="DataTime=1") + b"\xff"), "syntax"),
        (frame_with(segment(cp="a21026-Rtd=1.0;" * 80)), "too_long"),
        (frame_with(segment(cp="a21026-Rtd=1.0;" * 70)), "too_long"),
    ],
)
def test_malformed_frames_are_rejected_with_reason(data: bytes, reason: str) -> None:
    assert _reason(data) == reason


def test_frame_error_carries_stable_code() -> None:
    with pytest.raises(FrameError) as info:
        parse_frame(frame_with(segment(), crc=b"0000"))
    assert info.value.code == "hj212.crc"
    assert "expected" in info.value.message


# --- compatibility ------------------------------------------------------------------------


def _variants() -> list[tuple[bytes, Compat]]:
    seg = segment()
    modbus = crc_modbus(seg)
    std = frame_with(seg)
    return [
        (frame_with(seg, crc=b"%04X" % modbus), Compat.CRC_MODBUS),
        (frame_with(seg, crc=b"%04X" % swap_bytes(modbus)), Compat.CRC_MODBUS_SWAPPED),
        (std[:-2] + b"\n", Compat.LF_ONLY),
        (std[:-2], Compat.NO_TERMINATOR),
        (frame_with(segment(cp="a21026-Rtd=1.0;" * 70)), Compat.TOO_LONG),
    ]


@pytest.mark.parametrize(("data", "mark"), _variants())
def test_deviation_rejected_strict_and_marked_when_allowed(data: bytes, mark: Compat) -> None:
    with pytest.raises(FrameError):
        parse_frame(data)
    packet = parse_frame(data, frozenset({mark}))
    assert mark in packet.compat
    assert parse_frame(data, ALL_COMPAT).compat == packet.compat


def test_length_counted_in_characters_is_a_compat_option() -> None:
    seg = segment(cn="3020", cp="i11001-Info=//清洗管路//")
    chars = len(seg.decode())
    data = b"##%04d" % chars + seg + b"%04X" % crc_hj212(seg) + b"\r\n"
    assert _reason(data) == "length"
    packet = parse_frame(data, frozenset({Compat.LENGTH_CHARS}))
    assert packet.compat == (Compat.LENGTH_CHARS,)
    assert packet.cp_value("i11001-Info") == "//清洗管路//"


def test_parse_compat_names() -> None:
    assert parse_compat("crc_modbus, lf_only") == {Compat.CRC_MODBUS, Compat.LF_ONLY}
    assert parse_compat("all") == ALL_COMPAT
    assert parse_compat("") == frozenset()
    # retired: lower-case CRC hex is standard now; old registry rows still load
    assert parse_compat("crc_lowercase") == frozenset()
    assert parse_compat(["crc_lowercase", "lf_only"]) == {Compat.LF_ONLY}
    with pytest.raises(ValueError, match="unknown compat"):
        parse_compat("crc_ccitt")


# --- CRC hex case ------------------------------------------------------------------------


def lower_crc(frame: bytes) -> bytes:
    """The same frame with its four CRC digits in lower case (terminator CR LF kept)."""
    return frame[:-6] + frame[-6:-2].lower() + frame[-2:]


def _lower_case_frames() -> list[bytes]:
    """Encoder output whose CRC has letters, so lower-casing changes the bytes."""
    frames = []
    for n in range(400):
        frame = encode_data_frame(
            mn="MN0001",
            pw="123456",
            cn="2011",
            data_time=datetime(2025, 3, 1, 8, 15, tzinfo=UTC),
            values={"a21026": (float(n), "N")},
            qn=f"20250301081500{n:03d}",
        )
        if lower_crc(frame) != frame:
            frames.append(frame)
    return frames


def test_lower_case_crc_is_standard_in_strict_mode() -> None:
    frames = _lower_case_frames()
    assert len(frames) > 100
    assert len({frame[-6:-2] for frame in frames}) > 30  # many distinct CRC values
    for frame in frames:
        lower = lower_crc(frame)
        assert lower[-6:-2].islower() and lower[-6:-2] != frame[-6:-2]
        packet = parse_frame(lower)
        assert packet == parse_frame(frame)
        assert packet.compat == ()


@pytest.mark.parametrize("crc", [b"7d00", b"8c41", b"f001", b"aCc1", b"FcC1"])
def test_lower_or_mixed_case_crc_is_read_as_a_number(crc: bytes) -> None:
    """Find a segment whose HJ 212 CRC is the given number, then send it in that case."""
    wanted = int(crc, 16)
    for n in range(20_000):
        seg = segment(cp=f"DataTime=20250301081500;a21026-Rtd={n}")
        if crc_hj212(seg) == wanted:
            break
    else:
        pytest.fail(f"no segment with CRC {crc!r}")  # only 256 CRC values exist (see crc.py)
    assert parse_frame(frame_with(seg, crc=crc)).compat == ()


def test_only_the_case_is_forgiven_not_the_value_or_other_rules() -> None:
    seg = segment()
    good = crc_hj212(seg)
    wrong = b"%04x" % (good ^ 0x0100)
    assert _reason(frame_with(seg, crc=wrong)) == "crc"
    assert _reason(frame_with(seg, crc=b"%04x" % crc_modbus(seg))) == "crc"
    assert parse_frame(
        frame_with(seg, crc=b"%04x" % crc_modbus(seg)), frozenset({Compat.CRC_MODBUS})
    ).compat == (Compat.CRC_MODBUS,)
    assert _reason(frame_with(seg, crc=b"%04x" % good, tail=b"\n")) == "framing"
    assert _reason(frame_with(seg, crc=b"0x1c")) == "crc"  # still four hex digits


# --- encoding guards ----------------------------------------------------------------------


def test_encoder_never_emits_over_long_frames() -> None:
    with pytest.raises(FrameError) as info:
        encode_frame({"ST": "31", "CN": "2011"}, "a21026-Rtd=1.0;" * 70)
    assert info.value.reason == "too_long"


@pytest.mark.parametrize("bad", ["1;2", "a,b", "x=y", "&"])
def test_encoder_refuses_separators_in_values(bad: str) -> None:
    with pytest.raises(FrameError):
        encode_frame({"ST": "31"}, {"PolId": bad})


def test_encoder_writes_plain_decimals() -> None:
    fields = {"ST": "31", "CN": "2011", "PW": "1", "MN": "M"}
    frame = encode_frame(fields, {"a": 1e-7, "b": 12345678901234.5, "c": -0.0, "d": 3})
    assert parse_frame(frame).cp_as_dicts() == [
        {"a": "0.0000001"},
        {"b": "12345678901234.5"},
        {"c": "0"},
        {"d": "3"},
    ]


def test_encoder_refuses_non_finite_values() -> None:
    with pytest.raises(FrameError):
        encode_frame({"ST": "31"}, {"a": float("nan")})


# --- real frames --------------------------------------------------------------------------


EXPECTED = json.loads((FRAMES / "expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_frames(name: str) -> None:
    expected = EXPECTED[name]
    data = (FRAMES / name).read_bytes()
    if expected["ok"]:
        packet = parse_frame(data)
        assert (packet.edition.value, packet.cn) == (expected["edition"], expected["cn"])
        assert [c.value for c in packet.compat] == expected["compat"]
        return
    assert _reason(data) == expected["error"]
    if "with_all_compat" in expected:
        packet = parse_frame(data, ALL_COMPAT)
        want = expected["with_all_compat"]
        assert (packet.edition.value, packet.cn) == (want["edition"], want["cn"])
        assert [c.value for c in packet.compat] == want["compat"]


def test_real_frames_concatenated_split_in_order() -> None:
    names = sorted(EXPECTED)
    stream = b"".join((FRAMES / name).read_bytes() for name in names)
    items = split_frames(stream)
    assert len(items) == len(names)
    outcomes = []
    for item in items:
        if isinstance(item, Rejected):
            outcomes.append(False)
            continue
        try:
            parse_raw_frame(item)
        except FrameError:
            outcomes.append(False)
        else:
            outcomes.append(True)
    assert outcomes == [EXPECTED[name]["ok"] for name in names]
