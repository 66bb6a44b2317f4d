"""Names shown to people: periods, regions, industries, processes, carriers, classes."""

from __future__ import annotations

import re
from functools import cache

from kilnwatch.reference.registry import load_industries, load_processes, load_regions
from kilnwatch.web.i18n import Translator
from kilnwatch.web.services.periods import last_month, picker_kind
from kilnwatch.web.services.seam import Period


def period_label(period: Period, t: Translator) -> str:
    """``2025-03`` -> 2025年3月 / Mar 2025; quarters, years and ranges likewise (other kinds of
    period, a day or a week, by their canonical text)."""
    kind = picker_kind(period)
    y0, m0 = period.first.year, period.first.month
    y1, m1 = last_month(period)
    if kind == "month":
        return t("period.fmt.month", y=y0, m=m0)
    if kind == "quarter":
        return t("period.fmt.quarter", y=y0, q=(m0 - 1) // 3 + 1)
    if kind == "year":
        return t("period.fmt.year", y=y0)
    if kind == "ytd":
        return t("period.fmt.ytd", y=y0, m=m1)
    if kind == "range" and period.ends == ("month", "month"):
        return t("period.fmt.range", y0=y0, m0=m0, y1=y1, m1=m1)
    return period.label


@cache
def _regions() -> dict[str, tuple[str, str]]:
    return {r.code: (r.name_zh, r.name_en) for r in load_regions()}


def region_name(code: str, t: Translator) -> str:
    zh, en = _regions().get(code, (code, ""))
    return (en or zh) if t.is_en else zh


def city_of(region_code: str) -> str:
    return region_code[:4] + "00"


def cities() -> list[str]:
    return sorted(code for code in _regions() if code.endswith("00") and not code.endswith("0000"))


def industry_name(key: str, t: Translator) -> str:
    found = load_industries().get(key)
    if found is None:
        return key
    return found.name_en if t.is_en else found.name_zh


def process_name(key: str, t: Translator) -> str:
    found = load_processes().get(key)
    if found is None:
        return key
    return (found.name_en or key) if t.is_en else found.name_zh


def carrier_name(carrier: str, t: Translator) -> str:
    if t.has(f"carrier.{carrier}"):
        return t(f"carrier.{carrier}")
    if carrier.startswith("product:"):
        return t("carrier.product", name=carrier.split(":", 1)[1])
    return carrier


_NOTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^no confirmed level for this field$"), "note.acc.no_confirmed_level"),
    (re.compile(r"^no production metered in the period$"), "note.acc.no_production"),
    (re.compile(r"^no intensity: (?P<detail>.*)$"), "note.acc.no_intensity"),
    (re.compile(r"^not classified: (?P<detail>.*)$"), "note.acc.not_classified"),
    (re.compile(r"^(?P<meter>\S+): no CO2 \((?P<detail>.*)\)$"), "note.acc.no_co2"),
]
_INFO = re.compile(r"^electricity CO2 uses the .* grid factor$")


def account_notes(notes: list[str], t: Translator) -> str:
    """The accounting package's notes on a unit, in the user's language (informational notes
    such as the grid factor used are left out; an unknown note is shown as it is)."""
    shown = []
    for note in notes:
        if _INFO.match(note):
            continue
        for pattern, key in _NOTES:
            if m := pattern.match(note):
                shown.append(t(key, **m.groupdict()))
                break
        else:
            shown.append(note)
    return "; ".join(dict.fromkeys(shown))
