"""On a small simulated province: every planted exceedance episode is found, no exceedance is
reported on a clean stack (start-ups, shutdowns, calibration and maintenance included), and the
verification run turns them into ``verify.emissions.exceedance`` findings."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.domain.emissions import HOUR_S
from kilnwatch.domain.periods import Period
from kilnwatch.emissions.limits import exceedance_mask
from kilnwatch.emissions.service import emissions_scope
from kilnwatch.identity import Principal, Role
from kilnwatch.ingest.folder import import_folder
from kilnwatch.sim.config import SimParams
from kilnwatch.sim.run import simulate_to_dir
from kilnwatch.store.models import Enterprise, FindingRecord, Meter
from kilnwatch.verify.run import verify_period
from zone import POLICY, SHANGHAI

ADMIN = Principal("t", Role.ADMIN)


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


PARAMS = SimParams(seed=3, enterprises=14, days=5, start=date(2025, 3, 1), output_format="csv")


@pytest.mark.slow
def test_planted_episodes_found_and_clean_stacks_clean(session: Session, tmp_path: Path) -> None:
    simulate_to_dir(PARAMS, tmp_path)
    import_folder(session, tmp_path, policy=POLICY)
    session.commit()
    carriers = {r[0]: r[1] for r in session.execute(select(Meter.code, Meter.carrier))}
    usccs = {r[0]: r[1] for r in session.execute(select(Enterprise.id, Enterprise.uscc))}
    planted: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    with (tmp_path / "labels.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["kind"] == "emission_exceedance":
                key = (row["enterprise_uscc"], row["unit_code"], carriers[row["meter_code"]])
                span = (_epoch(row["start"]), _epoch(row["end"]))
                planted.setdefault(key, []).append(span)
    assert planted, "the seed plants at least one episode"
    period = Period.of_days(date(2025, 3, 1), date(2025, 3, 5), SHANGHAI)
    hits: dict[tuple[str, str, str], set[int]] = {}
    stacks = set()
    for a in emissions_scope(session, ADMIN, period).accounts:
        stacks.add((usccs[a.enterprise_id], a.unit_code))
        for p, acc in a.pollutants.items():
            assert acc.limit is not None  # every simulated stack has a permit
            h = a.hours[p]
            found = {
                h.start_s + int(i) * HOUR_S for i in exceedance_mask(h, acc.limit).nonzero()[0]
            }
            hits[(usccs[a.enterprise_id], a.unit_code, p)] = found
    for key, spans in planted.items():  # every planted episode has an exceedance hour
        for start, end in spans:
            assert any(start <= t < end for t in hits[key]), (key, start, end)
    for key, found in hits.items():  # and no exceedance hour lies outside a planted span
        outside = [t for t in found if not any(s <= t < e for s, e in planted.get(key, []))]
        assert outside == [], key
    assert len(stacks - {k[:2] for k in planted}) > 0  # clean stacks were looked at
    verify_period(session, Period.containing("month", date(2025, 3, 1), SHANGHAI))
    codes = session.scalars(
        select(FindingRecord.rule_code).where(FindingRecord.rule_code.like("verify.emissions%"))
    ).all()
    assert codes.count("verify.emissions.exceedance") == len(planted)
