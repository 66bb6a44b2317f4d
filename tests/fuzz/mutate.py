"""One mutation strategy for every fuzz target: a seed input with a few byte-level edits."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st


@st.composite
def mutated(draw: st.DrawFn, seeds: Sequence[bytes], tokens: Sequence[bytes]) -> bytes:
    """One of ``seeds`` with 1-6 edits: a byte flipped, a token or random bytes inserted, a run
    deleted or duplicated, the tail replaced by another seed's (splice) or cut off."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["flip", "insert", "delete", "splice", "cut", "dup"]))
        if edit == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif edit == "insert":
            data[at:at] = draw(st.sampled_from(tokens) | st.binary(max_size=8))
        elif edit == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif edit == "splice":
            other = draw(st.sampled_from(seeds))
            data[at:] = other[draw(st.integers(0, len(other))) :]
        elif edit == "cut":
            data = data[:at]
        elif edit == "dup" and at < len(data):
            data[at:at] = data[at : at + draw(st.integers(1, 60))]
    return bytes(data)
