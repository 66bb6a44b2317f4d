"""Re-running verification updates findings by fingerprint; scores follow findings."""

from __future__ import annotations

from pathlib import Path

from _verify_factory import MARCH, Plant, store
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kilnwatch.store.models import CredibilityScore, FindingRecord, StatisticalReport
from kilnwatch.verify.run import verify_changed, verify_period
from kilnwatch.verify.settings import verify_settings


def test_rerun_updates_instead_of_duplicating_and_closes_fixed(session: Session) -> None:
    plant = Plant()
    plant.stats["energy:raw_coal"] *= 0.85
    ent = store(session, plant)
    first = verify_period(session, MARCH)
    again = verify_changed(session, [ent], [MARCH])[0]
    assert (first.new, again.new, again.updated) == (1, 0, 1)
    assert session.scalar(select(func.count()).select_from(FindingRecord)) == 1
    record = session.scalars(select(FindingRecord)).one()
    assert record.evidence["reported"]["source_file"] == "statistical_reports.csv"
    assert record.magnitude_tce is not None and record.magnitude_tce > 0
    score = session.scalars(select(CredibilityScore)).one()
    assert score.score == 75.0 and score.deductions[0]["finding_id"] == record.id
    report = session.scalars(
        select(StatisticalReport).where(StatisticalReport.item == "energy:raw_coal")
    ).one()
    report.quantity = plant.stats["energy:raw_coal"] / 0.85
    session.flush()
    fixed = verify_period(session, MARCH)
    assert fixed.closed == 1
    session.refresh(record)
    assert record.status == "closed"
    assert session.scalars(select(CredibilityScore)).one().score == 100.0


def test_override_file_changes_a_tolerance(tmp_path: Path, session: Session) -> None:
    plant = Plant()
    plant.stats["energy:raw_coal"] *= 0.96
    store(session, plant)
    toml = tmp_path / "province.toml"
    toml.write_text('[rules."verify.metered_vs_reported.energy_gap"]\nmin_gap_fraction = 0.05\n')
    assert verify_period(session, MARCH, settings=verify_settings(override=toml)).findings == []
    csv = tmp_path / "province.csv"
    csv.write_text("rule_code,parameter,value\nverify.metered_vs_reported.energy_gap,enabled,0\n")
    assert verify_period(session, MARCH, settings=verify_settings(override=csv)).findings == []
    strict = verify_settings("strict")
    assert strict.value("verify.submeter.ratio_shift", "z_threshold") == 3.0
