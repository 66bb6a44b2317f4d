"""Forwarded frames (pure): grouping, splitting, QN order, Flag, back-off with jitter."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from kilnwatch.backoff import backoff_s
from kilnwatch.forward.frames import (
    ForwardReading,
    Upstream,
    build_drafts,
    encode_upload,
    next_qn,
    upload_flag,
)
from kilnwatch.forward.policy import ForwardPolicy
from kilnwatch.ingest.hj212 import Edition, parse_frame

T0 = datetime(2025, 6, 1, 0, 15, tzinfo=UTC)  # 08:15 in Beijing


def reading(meter: int, ts: datetime, value: float, *, device: int = 1, code: str = "a21026",
            version: int = 1, unit: str = "mg/m3") -> ForwardReading:  # fmt: skip
    return ForwardReading(meter, ts, version, value, None, device, code, unit)


def test_one_frame_per_device_and_data_time_with_rtd_and_flag() -> None:
    rows = [reading(1, T0, 12.5), reading(2, T0, 40.0, code="a21002"),
            reading(1, T0 + timedelta(minutes=1), 13.0), reading(3, T0, 7.0, device=2)]  # fmt: skip
    drafts = build_drafts(rows)
    assert [(d.device_id, d.data_time) for d in drafts] == [
        (1, T0), (2, T0), (1, T0 + timedelta(minutes=1))]  # fmt: skip
    assert drafts[0].cp == ("DataTime=20250601081500;a21002-Rtd=40.0,a21002-Flag=N;"
                            "a21026-Rtd=12.5,a21026-Flag=N")  # fmt: skip
    assert sorted(drafts[0].keys) == [(1, T0, 1), (2, T0, 1)]


def test_the_encoder_writes_a_standard_frame_that_asks_for_an_answer() -> None:
    draft = build_drafts([reading(1, T0, 12.5)])[0]
    for edition, flag in [(Edition.HJ212_2017, 5), (Edition.HJT212_2005, 1),
                          (Edition.HJ212_2025, 9)]:  # fmt: skip
        assert upload_flag(edition) == flag
        frame = encode_upload(Upstream("UPMN1", "pw1", "31", edition), "20250601081500000",
                              draft.cp)  # fmt: skip
        packet = parse_frame(frame)
        assert (packet.mn, packet.pw, packet.cn, packet.edition, packet.wants_ack) == (
            "UPMN1", "pw1", "2011", edition, True)  # fmt: skip
        assert packet.cp_value("a21026-Rtd") == "12.5"


def test_a_long_data_area_is_split_under_950_characters() -> None:
    rows = [reading(m, T0, 1234.5678, code=f"a{m:05d}") for m in range(60)]
    drafts = build_drafts(rows)
    assert len(drafts) > 1
    assert all(len(d.cp) + 7 <= 950 for d in drafts)
    assert sorted(k for d in drafts for k in d.keys) == [(m, T0, 1) for m in range(60)]


def test_same_code_twice_goes_to_separate_frames_and_old_versions_ride_along() -> None:
    rows = [reading(1, T0, 1.0), reading(2, T0, 2.0), reading(1, T0, 1.5, version=2)]
    drafts = build_drafts(rows)
    assert len(drafts) == 2
    assert "a21026-Rtd=1.5" in drafts[0].cp and "a21026-Rtd=2" in drafts[1].cp
    assert sorted(drafts[0].keys) == [(1, T0, 1), (1, T0, 2)]


def test_values_are_converted_to_the_factor_code_unit() -> None:
    draft = build_drafts([reading(1, T0, 0.0125, unit="g/m3")])[0]
    assert "a21026-Rtd=12.5" in draft.cp


def test_non_finite_values_are_skipped_but_marked() -> None:
    drafts = build_drafts([reading(1, T0, float("nan")), reading(2, T0, 3.0, code="a21002")])
    assert len(drafts) == 1 and "a21026" not in drafts[0].cp
    assert sorted(drafts[0].keys) == [(1, T0, 1), (2, T0, 1)]


def test_qn_strictly_increases_even_within_one_millisecond() -> None:
    qn = next_qn(None, T0)
    assert qn == "20250601081500000"
    assert next_qn(qn, T0) == "20250601081500001"
    assert next_qn("20250601081500999", T0) == "20250601081501000"
    assert next_qn(qn, T0 + timedelta(seconds=2)) == "20250601081502000"


def test_backoff_doubles_is_capped_and_jittered() -> None:
    rng = random.Random(7)
    waits = [[backoff_s(n, 1.0, 30.0, rng) for _ in range(200)] for n in range(1, 8)]
    for n, samples in enumerate(waits, start=1):
        base = min(30.0, 2.0 ** (n - 1))
        assert all(base / 2 <= w <= base for w in samples)
        assert max(samples) - min(samples) > base / 10  # jitter spreads retries
    assert backoff_s(500, 1.0, 30.0, rng) <= 30.0


def test_policy_default_timeout_is_hj212_table_1_wired_link() -> None:
    assert ForwardPolicy().ack_timeout_s == 5.0
    with pytest.raises(ValueError):
        ForwardPolicy(max_attempts=0)
