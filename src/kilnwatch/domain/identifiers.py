"""Identifiers the registry validates: unified social credit codes and division codes.

References
----------
.. [1] GB 32100-2015, 法人和其他组织统一社会信用代码编码规则 (with Amendment No. 1, 2016):
   18 characters from the digits and the capital letters without I, O, Z, S, V; position 1 the
   registration authority, 2 the category, 3-8 the registering authority's GB/T 2260 division
   code, 9-17 the subject identifier (GB 11714), 18 the check character, computed by the
   modulus-31 system of GB/T 17710. Clause numbers were not checked against the text.
.. [2] GB/T 2260-2007, 中华人民共和国行政区划代码: six digits, two each for the province,
   the prefecture-level city and the county-level division. Clause numbers not checked.
"""

from __future__ import annotations

from typing import Literal

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of GB 32100 (no I, O, Z, S, V); a character's value is its index."""

USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
"""Weights W_i = 3^(i-1) mod 31 of GB 32100 for positions 1..17."""

RegionLevel = Literal["province", "city", "county"]


def uscc_check_character(first17: str) -> str:
    """The check character (position 18) of a unified social credit code.

    Parameters
    ----------
    first17 : str
        Positions 1-17 of the code, characters of :data:`USCC_CHARSET`. [-]

    Returns
    -------
    str
        One character of :data:`USCC_CHARSET`.

    Notes
    -----
    ``C18 = 31 − (Σ C_i·W_i mod 31)`` over positions i = 1..17, with ``C_i`` the value of the
    character, ``W_i = 3^(i−1) mod 31``, and a result of 31 written as ``0``.

    References
    ----------
    .. [1] GB 32100-2015, 法人和其他组织统一社会信用代码编码规则: check character (modulus 31
       system of GB/T 17710). Clause not checked.
    """
    total = sum(USCC_CHARSET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code, or ``None`` when it is.

    Parameters
    ----------
    code : str
        The 18-character code as written. [-]

    Returns
    -------
    str or None
        The first problem found: length, a character outside the alphabet, positions 3-8 not
        digits, or a wrong check character.

    References
    ----------
    .. [1] GB 32100-2015, 法人和其他组织统一社会信用代码编码规则: code structure (18 characters,
       no I, O, Z, S, V; positions 3-8 a GB/T 2260 code) and check character. Clause not
       checked.
    """
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
    """The level a division code denotes, or ``None`` if it is not a division code.

    Parameters
    ----------
    code : str
        A six-digit GB/T 2260 code, e.g. ``370102``. [-]

    Returns
    -------
    {"province", "city", "county"} or None
        ``province`` when digits 3-6 are ``0000``, ``city`` when digits 5-6 are ``00``, else
        ``county``; None for anything but six digits, or a province part of ``00``.

    References
    ----------
    .. [1] GB/T 2260-2007, 中华人民共和国行政区划代码: code structure (two digits each for
       province, city and county). Clause not checked.
    """
    if len(code) != 6 or not code.isdigit() or code[:2] == "00":
        return None
    if code[2:] == "0000":
        return "province"
    if code[4:] == "00":
        return "city"
    return "county"


def region_parent(code: str) -> str | None:
    """The code of the division that contains ``code`` (``None`` for a province).

    Parameters
    ----------
    code : str
        A county or city code of GB/T 2260. [-]

    Returns
    -------
    str or None
        The city of a county (``370102`` -> ``370100``), the province of a city
        (``370100`` -> ``370000``); None for a province or an invalid code.

    Notes
    -----
    The parent keeps the code's leading levels and sets the rest to ``00``.

    References
    ----------
    .. [1] GB/T 2260-2007, 中华人民共和国行政区划代码: the code nests the county within the
       city within the province. Clause not checked.
    """
    level = region_level(code)
    if level == "county":
        return code[:4] + "00"
    if level == "city":
        return code[:2] + "0000"
    return None


def region_prefix(code: str) -> str:
    """The prefix shared by every division inside ``code``.

    Parameters
    ----------
    code : str
        The division whose area is wanted, a GB/T 2260 code. [-]

    Returns
    -------
    str
        ``37`` for a province, ``3701`` for a city, the full code for a county (or for a code
        that is not a division code).

    Notes
    -----
    Every code inside a division starts with its prefix, so ``LIKE '3701%'`` selects a city.

    References
    ----------
    .. [1] GB/T 2260-2007, 中华人民共和国行政区划代码: two digits per level. Clause not checked.
    """
    level = region_level(code)
    if level == "province":
        return code[:2]
    if level == "city":
        return code[:4]
    return code
