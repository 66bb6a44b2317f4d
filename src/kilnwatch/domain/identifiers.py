"""Identifiers the registry validates: unified social credit codes and division codes.

References
----------
.. [1] GB 32100-2015, 法人和其他组织统一社会信用代码编码规则, clause 4 (structure) and
   clause 5 / Annex (check character, modulus 31 with weights 3^(i-1) mod 31).
.. [2] GB/T 2260-2007, 中华人民共和国行政区划代码, clause 4 (six digits: province, city,
   county, two digits each).
"""

from __future__ import annotations

from typing import Literal

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of GB 32100 (no I, O, Z, S, V)."""

USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
"""Weights W_i = 3^(i-1) mod 31 of GB 32100 for positions 1..17."""

RegionLevel = Literal["province", "city", "county"]


def uscc_check_character(first17: str) -> str:
    """The check character (position 18) of a unified social credit code.

    Parameters
    ----------
    first17 : str
        Positions 1–17 of the code, from :data:`USCC_CHARSET`.

    Returns
    -------
    str
        ``C18 = 31 − (Σ C_i·W_i mod 31)``, with 31 written as ``0`` [1]_.
    """
    total = sum(USCC_CHARSET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code, or ``None`` when it is."""
    if len(code) != 18:
        return f"must be 18 characters, got {len(code)}"
    bad = sorted({ch for ch in code if ch not in USCC_CHARSET})
    if bad:
        return f"characters not allowed by GB 32100: {''.join(bad)}"
    if not code[2:8].isdigit():
        return "positions 3-8 must be the registering authority's division code"
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]!r}, expected {expected!r}"
    return None


def region_level(code: str) -> RegionLevel | None:
    """The level a GB/T 2260 code denotes, or ``None`` if it is not a division code [2]_."""
    if len(code) != 6 or not code.isdigit() or code[:2] == "00":
        return None
    if code[2:] == "0000":
        return "province"
    if code[4:] == "00":
        return "city"
    return "county"


def region_parent(code: str) -> str | None:
    """The code of the division that contains ``code`` (``None`` for a province)."""
    level = region_level(code)
    if level == "county":
        return code[:4] + "00"
    if level == "city":
        return code[:2] + "0000"
    return None


def region_prefix(code: str) -> str:
    """The prefix shared by every division inside ``code``: ``37`` for a province,
    ``3701`` for a city, the full code for a county."""
    level = region_level(code)
    if level == "province":
        return code[:2]
    if level == "city":
        return code[:4]
    return code
