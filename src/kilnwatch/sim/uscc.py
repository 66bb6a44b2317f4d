"""Unified social credit codes (统一社会信用代码) for synthetic enterprises.

The alphabet and the check character are those of :mod:`kilnwatch.domain.identifiers`
(GB 32100-2015), so every generated code passes the registry's validation.
"""

from __future__ import annotations

import numpy as np

from kilnwatch.domain.identifiers import USCC_CHARSET, uscc_check_character


def make_uscc(rng: np.random.Generator, region_code: str) -> str:
    """A random, valid code of an enterprise registered in ``region_code``.

    Layout (GB 32100-2015): registration authority ``9`` (administration for industry and
    commerce), category ``1`` (enterprise), the 6-digit division code, a 9-character
    organisation code and the check character.
    """
    org = "".join(USCC_CHARSET[i] for i in rng.integers(0, len(USCC_CHARSET), size=9))
    body = f"91{region_code}{org}"
    return body + uscc_check_character(body)
