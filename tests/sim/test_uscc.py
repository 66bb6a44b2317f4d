from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kilnwatch.sim.uscc import USCC_CHARSET, is_valid_uscc, make_uscc, uscc_check_char


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y43",  # the example of GB 32100-2015
        "914403001922038216",  # a published enterprise code
    ],
)
def test_published_codes_are_valid(code: str) -> None:
    assert is_valid_uscc(code)


def test_check_char_of_published_code() -> None:
    assert uscc_check_char("91350100M000100Y4") == "3"


@given(st.integers(0, 2**32 - 1), st.integers(0, 16), st.integers(1, 30))
@settings(max_examples=60)
def test_generated_codes_valid_and_a_changed_char_breaks_them(
    seed: int, pos: int, shift: int
) -> None:
    code = make_uscc(np.random.default_rng(seed), "370102")
    assert is_valid_uscc(code)
    assert code.startswith("91370102")
    changed = USCC_CHARSET[(USCC_CHARSET.index(code[pos]) + shift) % 31]
    assert not is_valid_uscc(code[:pos] + changed + code[pos + 1 :])


@pytest.mark.parametrize(
    "bad", ["", "91350100M000100Y4", "91350100M000100YI3", "9135010OM000100Y43"]
)
def test_malformed_codes_are_invalid(bad: str) -> None:
    assert not is_valid_uscc(bad)
