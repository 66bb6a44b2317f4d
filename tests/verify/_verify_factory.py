"""A small hand-made enterprise for verification tests: one clinker line, hourly data.

Meters: entry electricity (counter, 0.5S) -> sub-unit electricity (counter) -> two equipment
meters; entry raw coal (interval) -> sub-unit coal; product output (interval); an SO2
analyser (instant, HJ 212). Sources agree with the meters unless a test changes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert
from sqlalchemy.orm import Session

from kilnwatch.domain.periods import parse_period
from kilnwatch.store.models import (
    Enterprise,
    GridElectricity,
    LogisticsWaybill,
    MarketPrice,
    Meter,
    ProductionUnit,
    Reading,
    StatisticalReport,
    TaxInvoice,
)
from zone import SHANGHAI

PERIOD = "2025-03"
MARCH = parse_period(PERIOD, SHANGHAI)
"""The verified month, parsed as the CLI and API parse it."""
START = datetime(2025, 2, 28, 16, tzinfo=UTC)  # 2025-03-01T00:00+08:00
HOURS = 31 * 24
CLINKER_T_PER_H = 200.0
KWH_PER_T = 60.0
COAL_T_PER_T = 0.15
LOSS = 0.02  # entry -> sub-unit
EQ_SHARES = (0.6, 0.38)
CEMENT_PRICE = 300.0
METERS = {  # code: (carrier, level, parent, measurement, uom, accuracy, hj212)
    "E-IN-ELE": ("electricity", "entry", None, "counter", "kWh", "0.5S", None),
    "E-K1-ELE": ("electricity", "sub_unit", "E-IN-ELE", "counter", "kWh", "0.5S", None),
    "E-K1-ELE-EQ1": ("electricity", "equipment", "E-K1-ELE", "counter", "kWh", "0.5S", None),
    "E-K1-ELE-EQ2": ("electricity", "equipment", "E-K1-ELE", "counter", "kWh", "0.5S", None),
    "E-IN-COAL": ("raw_coal", "entry", None, "interval", "t", "0.5", None),
    "E-K1-COAL": ("raw_coal", "sub_unit", "E-IN-COAL", "interval", "t", "0.5", None),
    "E-K1-OUT": ("product:clinker", "sub_unit", None, "interval", "t", "1.0", None),
    "E-K1-S1-SO2": ("so2", "equipment", None, "instant", "mg/m3", "", "a21026"),
}


@dataclass
class Plant:
    """Hourly true quantities; tests change them (or the sources) before ``store``."""

    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(7))
    clinker: np.ndarray = field(init=False)
    values: dict[str, np.ndarray] = field(init=False)
    flags: dict[str, np.ndarray] = field(init=False)
    drop: dict[str, np.ndarray] = field(init=False)
    stats: dict[str, float] = field(init=False)
    grid_kwh: float = 0.0
    extra: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        load = 1 + 0.05 * np.sin(np.arange(HOURS) * 2 * np.pi / 24)
        self.clinker = CLINKER_T_PER_H * load * (1 + 0.01 * self.rng.standard_normal(HOURS))
        kiln_kwh = self.clinker * KWH_PER_T * (1 + 0.003 * self.rng.standard_normal(HOURS))
        coal = self.clinker * COAL_T_PER_T * (1 + 0.003 * self.rng.standard_normal(HOURS))
        self.values = {
            "E-IN-ELE": kiln_kwh / (1 - LOSS),
            "E-K1-ELE": kiln_kwh,
            "E-K1-ELE-EQ1": kiln_kwh * EQ_SHARES[0],
            "E-K1-ELE-EQ2": kiln_kwh * EQ_SHARES[1],
            "E-IN-COAL": coal,
            "E-K1-COAL": coal,
            "E-K1-OUT": self.clinker.copy(),
            "E-K1-S1-SO2": 80 + 5 * self.rng.standard_normal(HOURS),
        }
        for code in ("E-IN-ELE", "E-K1-ELE-EQ1", "E-K1-ELE-EQ2", "E-IN-COAL"):
            self.values[code] = self.values[code] * (1 + 0.002 * self.rng.standard_normal(HOURS))
        self.flags = {"E-K1-S1-SO2": np.array(["N"] * HOURS, dtype=object)}
        self.drop = {code: np.zeros(HOURS, dtype=bool) for code in METERS}
        self.refresh_sources()

    def refresh_sources(self) -> None:
        """Sources equal to what the meters record (call after changing quantities)."""
        kept = {c: np.where(self.drop[c], 0.0, v) for c, v in self.values.items()}
        self.stats = {
            "energy:electricity": float(kept["E-IN-ELE"].sum()),
            "energy:raw_coal": float(kept["E-IN-COAL"].sum()),
            "production:clinker": float(kept["E-K1-OUT"].sum()),
        }
        self.grid_kwh = float(self.values["E-IN-ELE"].sum())


def _registry(session: Session) -> tuple[int, dict[str, int]]:
    ent = Enterprise(
        uscc="91370100MA3C4XYZ1Q", name="测试水泥", region_code="370102", industry="cement"
    )
    session.add(ent)
    session.flush()
    unit = ProductionUnit(
        enterprise_id=ent.id,
        code="K1",
        name="熟料线",
        process="cement_clinker_line",
        capacity=1.5e6,
        capacity_unit="t/a",
    )
    session.add(unit)
    session.flush()
    ids: dict[str, int] = {}
    for code, (carrier, level, parent, meas, uom, acc, hj) in METERS.items():
        m = Meter(
            code=code,
            enterprise_id=ent.id,
            unit_id=None if level == "entry" else unit.id,
            carrier=carrier,
            level=level,
            parent_meter_id=ids.get(parent or ""),
            measurement=meas,
            unit_of_measure=uom,
            accuracy_class=acc or None,
            hj212_code=hj,
        )
        session.add(m)
        session.flush()
        ids[code] = m.id
    return ent.id, ids


def _readings(plant: Plant, ids: dict[str, int]) -> list[dict[str, Any]]:
    rows = []
    received = START + timedelta(days=40)
    for code, (_c, _l, _p, meas, *_rest) in METERS.items():
        v = plant.values[code]
        series = np.concatenate(([1e5], 1e5 + np.cumsum(v))) if meas == "counter" else v
        offset = 0 if meas == "counter" else 1
        flags = plant.flags.get(code)
        for k, value in enumerate(series):
            hour = k + offset
            if hour > 0 and plant.drop[code][hour - 1]:
                continue
            rows.append(
                {
                    "meter_id": ids[code],
                    "ts": START + timedelta(hours=hour),
                    "version": 1,
                    "value": float(round(value, 4)),
                    "source": 1,
                    "received_at": received,
                    "flag": None if flags is None else flags[hour - 1],
                }
            )
    return rows


def store(session: Session, plant: Plant) -> int:
    """Write registry, readings and sources; returns the enterprise id."""
    ent_id, ids = _registry(session)
    session.execute(insert(Reading), _readings(plant, ids))
    for item, qty in plant.stats.items():
        session.add(
            StatisticalReport(
                enterprise_id=ent_id,
                period=PERIOD,
                item=item,
                quantity=round(qty, 3),
                unit="kWh" if "elec" in item else "t",
                source_file="statistical_reports.csv",
                source_row=1,
            )
        )
    session.add(
        GridElectricity(
            enterprise_id=ent_id, period=PERIOD, electricity_kwh=round(plant.grid_kwh, 1)
        )
    )
    session.add(
        TaxInvoice(
            invoice_no="INV-E",
            enterprise_id=ent_id,
            issued_on=date(2025, 3, 31),
            direction="purchase",
            item="electricity",
            quantity=round(plant.grid_kwh, 1),
            unit="kWh",
            amount_cny=plant.grid_kwh * 0.6,
        )
    )
    coal_t = float(plant.values["E-IN-COAL"].sum())
    session.add(
        TaxInvoice(
            invoice_no="INV-C",
            enterprise_id=ent_id,
            issued_on=date(2025, 3, 15),
            direction="purchase",
            item="raw_coal",
            quantity=round(coal_t, 3),
            unit="t",
            amount_cny=coal_t * 800,
        )
    )
    lots = np.full(int(coal_t // 300), 300.0)
    for n, lot in enumerate([*lots, coal_t - lots.sum()]):
        session.add(
            LogisticsWaybill(
                waybill_no=f"W{n}",
                enterprise_id=ent_id,
                shipped_on=date(2025, 3, 1 + n % 28),
                direction="in",
                mode="road",
                item="raw_coal",
                quantity_t=float(lot),
            )
        )
    session.add(
        MarketPrice(
            period=PERIOD, item="product:clinker", price_cny_per_unit=CEMENT_PRICE, unit="t"
        )
    )
    for row in plant.extra:
        row.enterprise_id = ent_id if hasattr(row, "enterprise_id") else None
        session.add(row)
    session.flush()
    return ent_id
