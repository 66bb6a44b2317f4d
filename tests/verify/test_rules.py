"""Every rule and detector: a clean case raises nothing, a faulty case exactly its finding."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from _verify_factory import MARCH, Plant, store
from sqlalchemy.orm import Session

from kilnwatch.store.models import LogisticsWaybill, TaxInvoice
from kilnwatch.verify.run import verify_period


def codes(session: Session, plant: Plant) -> list[str]:
    store(session, plant)
    return sorted(f.rule_code for f in verify_period(session, MARCH).findings)


def test_clean_enterprise_raises_nothing(session: Session) -> None:
    assert codes(session, Plant()) == []


def test_energy_underreported(session: Session) -> None:
    plant = Plant()
    plant.stats["energy:raw_coal"] *= 0.96
    report_codes = codes(session, plant)
    assert report_codes == ["verify.metered_vs_reported.energy_underreported"]


def test_production_overreported(session: Session) -> None:
    plant = Plant()
    plant.stats["production:clinker"] *= 1.06
    assert codes(session, plant) == ["verify.metered_vs_reported.production_overreported"]


def test_grid_exceeds_entry_meter(session: Session) -> None:
    plant = Plant()
    plant.grid_kwh *= 1.05
    # the purchase invoice is issued on the grid total, so only the meter comparison fires
    assert codes(session, plant) == ["verify.electricity.grid_vs_metered"]


def test_invoice_differs_from_grid(session: Session) -> None:
    plant = Plant()
    plant.extra.append(
        TaxInvoice(
            invoice_no="INV-E2",
            issued_on=date(2025, 3, 20),
            direction="purchase",
            item="electricity",
            quantity=5e5,
            unit="kWh",
            amount_cny=3e5,
        )
    )
    assert codes(session, plant) == ["verify.electricity.invoice_vs_grid"]


def test_unmetered_coal(session: Session) -> None:
    plant = Plant()
    coal = float(plant.values["E-IN-COAL"].sum())
    for n in range(int(coal * 0.2 // 300)):  # no stocks: days 29-31 bring no delivery
        plant.extra.append(
            LogisticsWaybill(
                waybill_no=f"X{n}",
                shipped_on=date(2025, 3, 10),
                direction="in",
                mode="road",
                item="raw_coal",
                quantity_t=300.0,
            )
        )
    assert codes(session, plant) == ["verify.coal_balance.unmetered"]


def test_sales_below_shipped(session: Session) -> None:
    plant = Plant()
    for n in range(10):
        plant.extra.append(
            LogisticsWaybill(
                waybill_no=f"OUT{n}",
                shipped_on=date(2025, 3, 10),
                direction="out",
                mode="rail",
                item="product:clinker",
                quantity_t=3000.0,
            )
        )
    plant.extra.append(
        TaxInvoice(
            invoice_no="S1",
            issued_on=date(2025, 3, 12),
            direction="sale",
            item="product:clinker",
            quantity=25000.0,
            unit="t",
            amount_cny=25000.0 * 300,
        )
    )
    assert codes(session, plant) == ["verify.revenue.sales_vs_shipped"]


def test_sales_amount_below_market(session: Session) -> None:
    plant = Plant()
    plant.extra.append(
        TaxInvoice(
            invoice_no="S1",
            issued_on=date(2025, 3, 12),
            direction="sale",
            item="product:clinker",
            quantity=2000.0,
            unit="t",
            amount_cny=2000.0 * 300 * 0.8,
        )
    )
    assert codes(session, plant) == ["verify.revenue.amount_vs_market"]


def test_undeclared_load_behind_entry_meter(session: Session) -> None:
    plant = Plant()
    plant.values["E-IN-ELE"][240:360] *= 1.08
    plant.refresh_sources()
    assert codes(session, plant) == ["verify.submeter.parent_exceeds_children"]


def test_sub_meter_reading_low(session: Session) -> None:
    plant = Plant()
    plant.values["E-K1-ELE"][240:360] *= 0.93
    plant.refresh_sources()
    assert codes(session, plant) == [
        "verify.meter.intensity_drop",
        "verify.submeter.parent_below_children",
    ]


def test_process_change_is_not_a_meter_reading_low(session: Session) -> None:
    plant = Plant()
    for code in ("E-IN-ELE", "E-K1-ELE", "E-K1-ELE-EQ1", "E-K1-ELE-EQ2", "E-IN-COAL", "E-K1-COAL"):
        plant.values[code][400:] *= 0.94
    plant.refresh_sources()
    assert codes(session, plant) == []


def test_entry_meter_reading_low(session: Session) -> None:
    plant = Plant()
    true_total = float(plant.values["E-IN-ELE"].sum())
    plant.values["E-IN-ELE"][240:360] *= 0.7
    plant.refresh_sources()
    plant.grid_kwh = true_total
    assert codes(session, plant) == [
        "verify.electricity.grid_vs_metered",
        "verify.submeter.parent_below_children",
    ]


def test_capped_meter(session: Session) -> None:
    plant = Plant()
    coal = plant.values["E-K1-COAL"]
    cap = float(np.quantile(coal, 0.9))
    plant.values["E-K1-COAL"] = np.minimum(coal, cap)
    plant.refresh_sources()
    found = codes(session, plant)
    assert "verify.meter.capped" in found
    assert set(found) <= {"verify.meter.capped", "verify.submeter.parent_exceeds_children"}


def test_data_gap(session: Session) -> None:
    """A communication gap is a monitoring-quality event: informational."""
    plant = Plant()
    plant.drop["E-K1-S1-SO2"][100:106] = True
    store(session, plant)
    found = verify_period(session, MARCH).findings
    assert [(f.rule_code, f.severity) for f in found] == [("verify.timeseries.data_gap", "info")]


def test_gaps_at_the_month_ends_form_a_pattern(session: Session) -> None:
    """Repeated gaps around the month's ends shift consumption between months: not info."""
    plant = Plant()
    for a in (2, 10, 20, 740 - 24, 740 - 10, 740):
        plant.drop["E-K1-S1-SO2"][a : a + 3] = True
    store(session, plant)
    found = verify_period(session, MARCH).findings
    assert [(f.rule_code, f.severity) for f in found] == [("verify.timeseries.data_gap", "low")]
    assert found[0].evidence["patterned"] is True


def test_stuck_sensor_found_within_two_hours(session: Session) -> None:
    plant = Plant()
    plant.values["E-K1-S1-SO2"][200:203] = 77.7  # three readings = two hours of repeats
    assert codes(session, plant) == ["verify.timeseries.stuck"]


def test_flag_abuse(session: Session) -> None:
    plant = Plant()
    plant.values["E-K1-S1-SO2"][300:320] *= 2.0
    plant.flags["E-K1-S1-SO2"][300:320] = "M"
    assert codes(session, plant) == ["verify.hj212.flag_pattern"]


def test_flag_abuse_diluted_by_honest_flags(session: Session) -> None:
    """Ten six-hour maintenance jobs at ordinary concentrations keep the median flagged value
    near the normal one; eight single flagged hours at +60 % are still too many high
    episodes for chance."""
    plant = Plant()
    so2, flags = plant.values["E-K1-S1-SO2"], plant.flags["E-K1-S1-SO2"]
    for job in range(10):
        flags[40 + 70 * job : 46 + 70 * job] = "M"
    for hour in range(8):
        at = 60 + 70 * hour
        so2[at] *= 1.6
        flags[at] = "D"
    store(session, plant)
    found = verify_period(session, MARCH).findings
    abuse = [f for f in found if f.rule_code == "verify.hj212.flag_pattern"]
    assert len(abuse) == 1
    analyser = abuse[0].evidence["analysers"][0]
    assert analyser["elevation_fraction"] < 0.2  # the median test alone would pass it
    assert analyser["episodes"] == 18
    assert analyser["episodes_above_upper_quantile"] >= 8


def test_honest_flags_at_random_hours_are_not_abuse(session: Session) -> None:
    plant = Plant()
    rng = np.random.default_rng(11)
    flags = plant.flags["E-K1-S1-SO2"]
    for at in rng.choice(flags.size, 40, replace=False):
        flags[at] = str(rng.choice(["M", "D", "C"]))
    assert "verify.hj212.flag_pattern" not in codes(session, plant)


@pytest.mark.parametrize("change", [0.9])
def test_corrections_lowering_values(session: Session, change: float) -> None:
    from sqlalchemy import select

    from kilnwatch.store.models import Meter, Reading

    plant = Plant()
    store(session, plant)
    meter_id = session.scalar(select(Meter.id).where(Meter.code == "E-K1-S1-SO2"))
    rows = session.execute(select(Reading).where(Reading.meter_id == meter_id).limit(10)).scalars()
    for r in list(rows):
        session.add(
            Reading(
                meter_id=r.meter_id,
                ts=r.ts,
                version=2,
                value=r.value * change,
                source=1,
                received_at=r.received_at,
            )
        )
    session.flush()
    found = sorted(f.rule_code for f in verify_period(session, MARCH).findings)
    assert found == ["verify.timeseries.corrections"]


def test_ratio_shift_attributed_to_the_sub_meter_that_changed(session: Session) -> None:
    """The parent / sub-meter ratio rises because a sub-meter reads 2.5 % low (below the
    intensity search's smallest change): over the days of the ratio shift its own energy per
    product drops while the parent's flow does not, so the finding names the sub-meter, not
    a load behind the parent."""
    plant = Plant()
    plant.values["E-K1-COAL"][240:360] *= 0.975
    plant.refresh_sources()
    store(session, plant)
    found = verify_period(session, MARCH).findings
    assert sorted(f.rule_code for f in found) == ["verify.submeter.child_reads_low"]
    assert found[0].evidence["meter"] == "E-K1-COAL"
    assert found[0].magnitude_fraction == pytest.approx(0.025, abs=0.004)
