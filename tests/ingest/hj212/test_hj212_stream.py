"""Frame splitting over streams, and hypothesis properties of the codec."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kilnwatch.errors import FrameError
from kilnwatch.ingest.hj212 import (
    Compat,
    FrameSplitter,
    RawFrame,
    Rejected,
    encode_frame,
    parse_frame,
    split_frames,
)
from kilnwatch.ingest.hj212.codec import parse_raw_frame

FIELDS = {"QN": "20250301081500000", "ST": "31", "CN": "2011", "PW": "123456", "MN": "MN0001"}
FIELDS_ACK = FIELDS | {"Flag": "5"}


def frame(n: int) -> bytes:
    return encode_frame(FIELDS_ACK, {"DataTime": "20250301081500", "a21026": {"Rtd": n}})


def kinds(items: list[RawFrame | Rejected]) -> list[str]:
    return ["frame" if isinstance(i, RawFrame) else i.error.reason for i in items]


def test_several_frames_in_one_read() -> None:
    splitter = FrameSplitter()
    items = splitter.feed(frame(1) + frame(2) + frame(3))
    assert [
        parse_raw_frame(i).cp_value("a21026-Rtd") for i in items if isinstance(i, RawFrame)
    ] == [
        "1",
        "2",
        "3",
    ]
    assert splitter.buffered == 0


def test_frame_split_byte_by_byte() -> None:
    splitter = FrameSplitter()
    data = frame(1) + frame(2)
    items = [item for byte in data for item in splitter.feed(bytes([byte]))]
    assert kinds(items) == ["frame", "frame"]


def test_garbage_between_frames_is_reported_and_skipped() -> None:
    data = b"\x00\x01junk" + frame(1) + b"AT+OK\r\n" + frame(2) + b"\r\n\r\n"
    assert kinds(split_frames(data)) == ["framing", "frame", "framing", "frame"]


def test_whitespace_between_frames_is_ignored() -> None:
    assert kinds(split_frames(b"\r\n" + frame(1) + b"  \r\n" + frame(2))) == ["frame", "frame"]


def test_resync_after_bad_length_field() -> None:
    bad = frame(1).replace(b"##0", b"##9", 1)
    assert kinds(split_frames(bad + frame(2))) == ["length", "frame"]
    too_short = b"##0010" + frame(1)[6:]
    assert kinds(split_frames(too_short + frame(2))) == ["length", "frame"]


def test_wrong_length_detected_before_the_next_frame_arrives() -> None:
    splitter = FrameSplitter()
    assert kinds(splitter.feed(frame(1).replace(b"##0", b"##2", 1))) == ["length"]


def test_truncated_frame_at_end_of_stream() -> None:
    assert kinds(split_frames(frame(1) + frame(2)[:30])) == ["frame", "framing"]


def test_unterminated_frame_waits_then_flushes() -> None:
    splitter = FrameSplitter()
    assert splitter.feed(frame(1)[:-2]) == []
    assert splitter.awaiting_terminator
    late = splitter.feed(b"\r\n")
    assert kinds(late) == ["frame"] and late[0].deviations == frozenset()
    assert splitter.feed(frame(2)[:-2]) == []
    (item,) = splitter.flush_unterminated()
    assert isinstance(item, RawFrame) and item.deviations == {Compat.NO_TERMINATOR}


def test_unterminated_frames_back_to_back() -> None:
    items = split_frames(frame(1)[:-2] + frame(2)[:-2])
    assert kinds(items) == ["frame", "frame"]
    assert all(isinstance(i, RawFrame) and Compat.NO_TERMINATOR in i.deviations for i in items)


# --- properties ---------------------------------------------------------------------------

_KEY_CHARS = st.characters(min_codepoint=48, max_codepoint=122).filter(str.isalnum)
_codes = st.text(_KEY_CHARS, min_size=1, max_size=8)
_suffixes = st.sampled_from(["Rtd", "Avg", "Min", "Max", "Cou", "ZsRtd", "ZsAvg", "Flag"])
_values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.integers(-(10**9), 10**9),
    st.sampled_from(["N", "F", "M", "S", "D", "C", "T", "B", "P"]),
)
_groups = st.lists(
    st.dictionaries(st.tuples(_codes, _suffixes).map("-".join), _values, min_size=1, max_size=4),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(_groups)
def test_random_cp_round_trips(groups: list[dict[str, object]]) -> None:
    try:
        data = encode_frame(FIELDS_ACK, groups)  # type: ignore[arg-type]
    except FrameError as exc:
        assert exc.reason == "too_long"
        return
    packet = parse_frame(data)
    assert len(packet.cp) == len(groups)
    for decoded, original in zip(packet.cp, groups, strict=True):
        assert [k for k, _ in decoded] == list(original)
        for (_, text), value in zip(decoded, original.values(), strict=True):
            if isinstance(value, str):
                assert text == value
            else:
                assert float(text) == float(value)  # type: ignore[arg-type]


_BASE = frame(42)


@settings(max_examples=300, deadline=None)
@given(st.integers(6, len(_BASE) - 7), st.integers(0, 255))
def test_single_byte_corruption_of_the_data_segment_is_detected(pos: int, byte: int) -> None:
    if _BASE[pos] == byte:
        return
    corrupted = _BASE[:pos] + bytes([byte]) + _BASE[pos + 1 :]
    try:
        parse_frame(corrupted)
    except FrameError as exc:
        assert exc.reason in {"crc", "syntax", "framing", "length"}
    else:
        raise AssertionError(f"corruption at {pos} to {byte:#04x} not detected")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=12))
def test_any_read_boundaries_give_the_same_frames(cuts: list[int]) -> None:
    data = b"noise" + frame(1) + frame(2) + b"\x00" + frame(3)
    splitter = FrameSplitter()
    items: list[RawFrame | Rejected] = []
    pos = 0
    for cut in cuts * 20:
        items += splitter.feed(data[pos : pos + cut])
        pos += cut
    items += splitter.feed(data[pos:]) + splitter.flush()
    expected = ["framing", "frame", "frame", "frame"]  # the NUL byte is ignorable filler
    assert kinds(items) == kinds(split_frames(data)) == expected
