"""The HJ 212 codec against mutated real frames: every input either decodes or raises
:class:`~kilnwatch.errors.FrameError` with a reason; nothing else escapes (no IndexError,
UnicodeDecodeError, ValueError...), and the stream splitter never loses its place."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fuzz.conftest import CASES
from tests.fuzz.mutate import mutated

from kilnwatch.errors import FrameError
from kilnwatch.ingest.hj212.codec import parse_frame
from kilnwatch.ingest.hj212.devices import Device
from kilnwatch.ingest.hj212.framing import FrameSplitter
from kilnwatch.ingest.hj212.model import ALL_COMPAT, STRICT, Packet
from kilnwatch.ingest.hj212.records import packet_readings

FRAMES = sorted((Path(__file__).parents[1] / "ingest" / "hj212" / "frames").glob("*.bin"))
SEEDS = [p.read_bytes() for p in FRAMES]
INTERESTING = [b"##", b"&&", b";", b",", b"=", b"-", b"\r\n", b"\x00", b"\xff", "中".encode(),
               b"CP=&&", b"DataTime=", b"9999", b"-Rtd=", b"-Cou=", b"NaN", b"1e309"]  # fmt: skip


def mutated_frames() -> st.SearchStrategy[bytes]:
    return mutated(SEEDS, INTERESTING)


def _decode(data: bytes, compat: frozenset) -> Packet | None:  # type: ignore[type-arg]
    try:
        return parse_frame(data, compat)
    except FrameError as exc:
        assert exc.reason and exc.message  # a reason code and words for the dead letter
        return None


@settings(settings.get_profile("kilnwatch-fuzz"))
@given(data=mutated_frames(), lenient=st.booleans())
def test_codec_raises_only_frame_errors(data: bytes, lenient: bool) -> None:
    packet = _decode(data, ALL_COMPAT if lenient else STRICT)
    if packet is not None:
        device = Device(mn=packet.mn or "x", password="p", compat=ALL_COMPAT)
        packet_readings(device, packet)  # decoding values must not raise either


@settings(settings.get_profile("kilnwatch-fuzz"))
@given(chunks=st.lists(mutated_frames(), min_size=1, max_size=4), cut=st.integers(1, 97))
def test_splitter_survives_garbage_and_resyncs(chunks: list[bytes], cut: int) -> None:
    """Garbage between frames, fed in arbitrary pieces: the splitter keeps going, and a clean
    frame sent after it still comes out whole."""
    stream = b"".join(chunks) + b"\r\n" + SEEDS[0]
    splitter = FrameSplitter()
    items = []
    for i in range(0, len(stream), cut):
        items += splitter.feed(stream[i : i + cut])
    items += splitter.flush()
    assert items  # the clean frame at least
    assert splitter.buffered == 0


def test_fuzz_case_count_is_reported() -> None:
    """The number of cases each target runs, for the issue note (200 short, 100 000 long)."""
    assert CASES in (200, 100_000)
