from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kilnwatch.domain.identifiers import (
    USCC_CHARSET,
    region_level,
    region_parent,
    region_prefix,
    uscc_check_character,
    uscc_problem,
)


@pytest.mark.parametrize(
    "code",
    [
        "91370100MA3C4XY21E",
        "913701007062084595",
        # A published example code (GB 32100 explanatory material): check character 9
        "91350100M000100Y43",
        "914403001922038216",  # a published enterprise code
    ],
)
def test_valid_codes(code: str) -> None:
    assert uscc_problem(code) is None


def test_check_character_by_hand() -> None:
    """91370200163562681 -> sum of C_i*W_i with W = 3^(i-1) mod 31:
    9*1 + 1*3 + 3*9 + 7*27 + 0*19 + 2*26 + 0*16 + 0*17 + 1*20 + 6*29 + 3*25 + 5*13 + 6*8
    + 2*24 + 6*10 + 8*30 + 1*28 = 1038; 1038 mod 31 = 15; 31 - 15 = 16 -> charset[16] = 'G'."""
    assert uscc_check_character("91370200163562681") == "G"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91370100MA3C4XY21", "18 characters"),
        ("91370100MA3C4XY21Z", "not allowed"),
        ("91370100MA3C4XY21F", "check character"),
        ("91AB0100MA3C4XY21E", "division code"),
    ],
)
def test_invalid_codes(code: str, reason: str) -> None:
    problem = uscc_problem(code)
    assert problem is not None and reason in problem


@settings(max_examples=200)
@given(st.text(alphabet=USCC_CHARSET, min_size=17, max_size=17), st.integers(0, 16))
def test_any_single_substitution_is_caught(first17: str, position: int) -> None:
    code = "91370100" + first17[8:] if first17[2:8].isdigit() is False else first17
    code = code[:17] + uscc_check_character(code[:17])
    assert uscc_problem(code) is None
    original = code[position]
    replacement = USCC_CHARSET[(USCC_CHARSET.index(original) + 1) % 31]
    corrupted = code[:position] + replacement + code[position + 1 :]
    assert uscc_problem(corrupted) is not None


def test_region_levels() -> None:
    assert region_level("370000") == "province"
    assert region_level("370100") == "city"
    assert region_level("370112") == "county"
    assert region_level("37011") is None
    assert region_level("000000") is None
    assert region_parent("370112") == "370100"
    assert region_parent("370100") == "370000"
    assert region_parent("370000") is None
    assert [region_prefix(c) for c in ("370000", "370100", "370112")] == ["37", "3701", "370112"]
