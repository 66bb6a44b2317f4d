"""GB 17167 compliance of instruments, pure: configuration rate and accuracy class.

References
----------
.. [1] GB 17167-2006 用能单位能源计量器具配备和管理通则, clause 3.2 (配备率 = installed /
   required instruments, in %), clause 4.3.5 and Table 3 (minimum rates by level and carrier),
   clause 4.3.8 and Table 4 (classes of entry instruments); 4.3.2-4.3.5 and 4.3.8 mandatory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CLASS = re.compile(r"^\s*(?:±\s*)?(\d+(?:\.\d+)?)\s*(S?)\s*%?\s*(?:级)?\s*$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class AccuracyClass:
    """An accuracy class: ``index_pct`` is the maximum permissible error [%] the class
    stands for (``0.5S`` -> 0.5); ``s_class`` marks the S classes of electricity meters,
    which keep that error down to lower currents than the plain class of the same index."""

    index_pct: float
    s_class: bool = False

    def __str__(self) -> str:
        return f"{self.index_pct:g}{'S' if self.s_class else ''}"


def parse_accuracy_class(text: str | None) -> AccuracyClass | None:
    """Read ``0.5S``, ``1.0``, ``±2.5%``, ``2.0级``; None when empty or not a class."""
    if not text:
        return None
    match = _CLASS.match(text)
    if match is None:
        return None
    return AccuracyClass(float(match.group(1)), bool(match.group(2)))


def meets_accuracy(installed: str | None, required: str) -> bool:
    """Whether an instrument of class ``installed`` meets the ``required`` class.

    A smaller index is more accurate; at the same index an S class meets a plain class,
    not the other way round. An unknown or unreadable installed class does not meet any
    requirement (the census must state it, GB 17167-2006 clause 5.3.1 instrument list).
    """
    have, need = parse_accuracy_class(installed), parse_accuracy_class(required)
    if have is None or need is None:
        return False
    if have.index_pct != need.index_pct:
        return have.index_pct < need.index_pct
    return have.s_class or not need.s_class


def configuration_rate_pct(installed: int, required: int) -> float | None:
    """Configuration rate (配备率) [%] = installed / required x 100 (GB 17167-2006 3.2).

    Parameters
    ----------
    installed : int
        Required positions with an instrument [-].
    required : int
        Positions that need one (理论需要量) [-].

    Returns
    -------
    float or None
        None when nothing is required.
    """
    if required <= 0:
        return None
    return 100.0 * installed / required


def rate_meets(rate_pct: float | None, min_pct: float | None) -> bool:
    """Whether a configuration rate meets its minimum; no requirement or nothing required
    counts as met."""
    if min_pct is None or rate_pct is None:
        return True
    return rate_pct >= min_pct - 1e-9
