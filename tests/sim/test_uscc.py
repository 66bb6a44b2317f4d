"""Generated enterprise codes pass the registry's GB 32100 validation."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kilnwatch.domain.identifiers import USCC_CHARSET, uscc_problem
from kilnwatch.sim.uscc import make_uscc


@given(st.integers(0, 2**32 - 1), st.integers(0, 16), st.integers(1, 30))
@settings(max_examples=60)
def test_generated_codes_valid_and_a_changed_char_breaks_them(
    seed: int, pos: int, shift: int
) -> None:
    code = make_uscc(np.random.default_rng(seed), "370102")
    assert uscc_problem(code) is None
    assert code.startswith("91370102")
    changed = USCC_CHARSET[(USCC_CHARSET.index(code[pos]) + shift) % 31]
    assert uscc_problem(code[:pos] + changed + code[pos + 1 :]) is not None
