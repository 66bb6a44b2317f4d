"""The census of an enterprise: rates, missing instruments, accuracy, calibration."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from kilnwatch.identity import Principal, Role
from kilnwatch.metering import enterprise_census
from kilnwatch.metering import gaps as g
from metering._factory import JINAN, add_points, load_registry

ADMIN = Principal("t", Role.ADMIN)


def test_census_names_every_gap(session: Session) -> None:
    ent = load_registry(session)
    add_points(session, ent)
    censuses = {c.uscc: c for c in enterprise_census(session, ADMIN, date(2025, 8, 15))}
    jn = censuses[JINAN]
    rows = {(r.carrier, r.level): r for r in jn.rows}
    assert set(rows) == {("electricity", "entry"), ("electricity", "sub_unit"),
                         ("electricity", "equipment"), ("raw_coal", "entry")}  # fmt: skip
    eq = rows[("electricity", "equipment")]
    assert (eq.required, eq.installed, eq.rate_pct, eq.min_pct) == (2, 0, 0.0, 95.0)
    assert eq.missing == ("P-EQ1", "P-EQ2") and not eq.meets
    assert rows[("electricity", "entry")].meets and rows[("raw_coal", "entry")].accuracy_faults == 1
    codes = sorted((x.code, x.point_code or x.meter_code) for x in jn.gaps)
    assert codes == [
        (g.ACCURACY_BELOW, "P-C0"),
        (g.CALIBRATION_DUE_SOON, "M-JN-SO2"),
        (g.MISSING_INSTRUMENT, "P-EQ1"),
        (g.MISSING_INSTRUMENT, "P-EQ2"),
        (g.RATE_BELOW_MINIMUM, None),
    ]
    assert not jn.configured and jn.unlinked_meters == 1  # the SO2 analyser answers no point
    others = [c for u, c in censuses.items() if u != JINAN]
    assert others and all(c.count(g.CENSUS_MISSING) == 1 and not c.has_census for c in others)


def test_calibration_overdue_and_scope(session: Session) -> None:
    ent = load_registry(session)
    add_points(session, ent)
    city = Principal("qd", Role.CITY, region_code="370200")
    seen = enterprise_census(session, city, date(2026, 1, 11))
    assert [c.uscc for c in seen] == ["91370200163562681G"]
    jn = enterprise_census(session, ADMIN, date(2026, 1, 11), enterprise_ids=[ent.id])[0]
    overdue = sorted(x.meter_code or "" for x in jn.gaps if x.code == g.CALIBRATION_OVERDUE)
    assert overdue == ["M-JN-E0", "M-JN-E1", "M-JN-SO2"]
    assert [x.meter_code for x in jn.gaps if x.code == g.CALIBRATION_DUE_SOON] == ["M-JN-C0"]
