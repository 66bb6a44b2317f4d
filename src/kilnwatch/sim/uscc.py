"""Unified social credit codes (统一社会信用代码) for synthetic enterprises.

The check character follows GB 32100-2015, clause 4 and Annex B: weights
``3^i mod 31`` over a 31-character alphabet without I, O, Z, S, V.
"""

from __future__ import annotations

import numpy as np

#: GB 32100-2015 code alphabet (Table 1): digits and 21 letters.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: GB 32100-2015 Annex B weighting factors for positions 1-17.
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_MODULUS = 31


def uscc_check_char(body17: str) -> str:
    """Check character of the first 17 characters of a code (GB 32100-2015, Annex B).

    Parameters
    ----------
    body17 : str
        The 17 leading characters, from :data:`USCC_CHARSET`.

    Returns
    -------
    str
        One character: ``31 - (sum mod 31)``, where 31 maps to ``0``.

    References
    ----------
    .. [1] GB 32100-2015, 法人和其他组织统一社会信用代码编码规则, Annex B.
    """
    if len(body17) != 17:
        raise ValueError("a USCC body has 17 characters")
    total = sum(USCC_CHARSET.index(ch) * w for ch, w in zip(body17, USCC_WEIGHTS, strict=True))
    check = _MODULUS - total % _MODULUS
    return USCC_CHARSET[0 if check == _MODULUS else check]


def is_valid_uscc(code: str) -> bool:
    """Whether ``code`` has 18 characters of the alphabet and a correct check character."""
    if len(code) != 18 or any(ch not in USCC_CHARSET for ch in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def make_uscc(rng: np.random.Generator, region_code: str) -> str:
    """A random, valid code of an enterprise registered in ``region_code``.

    Layout (GB 32100-2015, clause 4.1): registration authority ``9`` (administration for
    industry and commerce), category ``1`` (enterprise), the 6-digit division code, a
    9-character organisation code and the check character.
    """
    org = "".join(USCC_CHARSET[i] for i in rng.integers(0, len(USCC_CHARSET), size=9))
    body = f"91{region_code}{org}"
    return body + uscc_check_char(body)
