"""Meters (GB 17167 levels) and data gateways of the synthetic province.

Every enterprise gets an entry meter per carrier, a sub-unit meter per unit and carrier, a
product-output meter per unit, equipment meters under most units' electricity meter, and, for
units with a stack, five HJ 212 analysers (SO2, NOx, dust, flue-gas flow, O2) on their own
``hj212`` gateway. Accuracy, bias and noise figures are synthetic.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import numpy as np

from kilnwatch.reference.emissions import load_water_sources
from kilnwatch.sim.config import SimParams
from kilnwatch.sim.model import Enterprise, Gateway, Meter, Unit
from kilnwatch.sim.processes import PROCESS_SPECS
from kilnwatch.sim.province import metered_unit

CARRIER_ABBR = {
    "electricity": "ELE",
    "raw_coal": "COAL",
    "coke": "COKE",
    "natural_gas": "GAS",
    "steam": "STM",
    "water": "WTR",
}
#: carrier -> (measurement, accuracy class, relative noise per reading, decimals); synthetic
#: except the measurement kinds, which follow common practice (kWh registers, belt scales).
CARRIER_METERING: dict[str, tuple[str, str, float, int]] = {
    "electricity": ("counter", "0.5S", 0.001, 1),
    "raw_coal": ("interval", "0.5", 0.004, 3),
    "coke": ("interval", "0.5", 0.004, 3),
    "natural_gas": ("counter", "1.0", 0.003, 1),
    "steam": ("counter", "2.5", 0.006, 2),
    "water": ("counter", "2.5", 0.01, 1),
}
STACK_QUANTITIES: tuple[tuple[str, str, str, int], ...] = (
    ("so2", "a21026", "mg/m3", 2),
    ("nox", "a21002", "mg/m3", 2),
    ("dust", "a34013", "mg/m3", 2),
    ("flue_gas_flow", "a00000", "m3/h", 0),
    ("o2", "a19001", "%", 2),
)
PRODUCT_DECIMALS = {"t": 3, "weight_box": 1, "kWh": 0}
EQUIPMENT_SHARE = (0.45, 0.70)  # share of the first equipment meter in its parent
EQUIPMENT_LOSS = (0.01, 0.03)  # not covered by equipment meters (cables, small loads)
CALIBRATION_INTERVAL_DAYS = 365
REGISTER_START = (1e4, 5e6)


def gateway_secret(seed: int, gateway_code: str, digits_only: bool = False) -> str:
    """Deterministic secret of a gateway (HJ 212 PW is six digits)."""
    digest = hashlib.sha256(f"kilnwatch-sim|{seed}|{gateway_code}".encode()).hexdigest()
    return f"{int(digest, 16) % 1_000_000:06d}" if digits_only else digest[:24]


class _MeterFactory:
    def __init__(self, params: SimParams, rng: np.random.Generator) -> None:
        self.params = params
        self.rng = rng
        self.meters: list[Meter] = []

    def _calibration(self) -> tuple[date, date]:
        overdue = self.rng.random() < self.params.overdue_calibration_fraction
        age = self.rng.integers(400, 700) if overdue else self.rng.integers(20, 330)
        on = self.params.start - timedelta(days=int(age))
        return on, on + timedelta(days=CALIBRATION_INTERVAL_DAYS)

    def add(
        self,
        code: str,
        ent: Enterprise,
        unit_idx: int,
        carrier: str,
        level: str,
        parent: int,
        measurement: str,
        uom: str,
        role: str,
        accuracy: str,
        gateway: str,
        noise: float,
        decimals: int,
        **extra: object,
    ) -> Meter:
        on, due = self._calibration()
        tolerance = float(accuracy.rstrip("S")) / 100.0 / 3.0 if accuracy else 0.0
        meter = Meter(
            idx=len(self.meters),
            code=code,
            ent_idx=ent.idx,
            unit_idx=unit_idx,
            carrier=carrier,
            level=level,
            parent_idx=parent,
            measurement=measurement,
            uom=uom,
            role=role,
            accuracy_class=accuracy,
            calibrated_on=on,
            calibration_due_on=due,
            gateway_code=gateway,
            bias=float(1.0 + self.rng.uniform(-tolerance, tolerance)),
            noise_sd=noise,
            decimals=decimals,
            initial_register=float(np.round(self.rng.uniform(*REGISTER_START), decimals))
            if measurement == "counter"
            else 0.0,
        )
        for key, value in extra.items():
            setattr(meter, key, value)
        self.meters.append(meter)
        return meter


def _carrier_uom(ent: Enterprise, carrier: str) -> str:
    return ent.steam_unit if carrier == "steam" else metered_unit(carrier)


def _energy_meters(f: _MeterFactory, ent: Enterprise, units: list[Unit], gw: str) -> None:
    carriers = [c for c in CARRIER_ABBR if c == "water" or any(c in u.carrier_rates for u in units)]
    for carrier in carriers:
        measurement, acc, noise, dec = CARRIER_METERING[carrier]
        uom = _carrier_uom(ent, carrier)
        entry = f.add(
            f"{ent.code}-IN-{CARRIER_ABBR[carrier]}",
            ent,
            -1,
            carrier,
            "entry",
            -1,
            measurement,
            uom,
            "entry",
            acc,
            gw,
            noise,
            dec,
        )
        for u in units:
            if carrier != "water" and carrier not in u.carrier_rates:
                continue
            role = "water" if carrier == "water" else "consumption"
            sub = f.add(
                f"{ent.code}-{u.unit_code}-{CARRIER_ABBR[carrier]}",
                ent,
                u.idx,
                carrier,
                "sub_unit",
                entry.idx,
                measurement,
                uom,
                role,
                acc,
                gw,
                noise,
                dec,
            )
            missing = f.rng.random() < f.params.missing_equipment_meter_fraction
            if carrier == "electricity" and not missing:
                first = float(f.rng.uniform(*EQUIPMENT_SHARE))
                second = 1.0 - first - float(f.rng.uniform(*EQUIPMENT_LOSS))
                for n, share in enumerate((first, second), start=1):
                    f.add(
                        f"{sub.code}-EQ{n}",
                        ent,
                        u.idx,
                        carrier,
                        "equipment",
                        sub.idx,
                        measurement,
                        uom,
                        "equipment",
                        acc,
                        gw,
                        noise,
                        dec,
                        share=share,
                    )


def _unit_meters(
    f: _MeterFactory, ent: Enterprise, u: Unit, gw: str, gateways: list[Gateway]
) -> None:
    spec = PROCESS_SPECS[u.process]
    f.add(
        f"{ent.code}-{u.unit_code}-OUT",
        ent,
        u.idx,
        f"product:{spec.product}",
        "sub_unit",
        -1,
        "interval",
        spec.product_unit,
        "product",
        "0.2S" if spec.product_unit == "kWh" else "1.0",
        gw,
        0.004,
        PRODUCT_DECIMALS[spec.product_unit],
    )
    if spec.stack is None:
        return
    stack_gw = f"GW-{ent.code}-{u.unit_code}"
    gateways.append(
        Gateway(
            stack_gw,
            ent.idx,
            "hj212",
            f"{ent.region_code}{ent.idx + 1:05d}{int(u.unit_code[1:]):03d}",
            gateway_secret(f.params.seed, stack_gw, digits_only=True),
        )
    )
    for quantity, code, uom, dec in STACK_QUANTITIES:
        f.add(
            f"{ent.code}-{u.unit_code}-S1-{quantity.upper()}",
            ent,
            u.idx,
            quantity,
            "equipment",
            -1,
            "instant",
            uom,
            "stack",
            "",
            stack_gw,
            0.0,
            dec,
            hj212_code=code,
        )


def build_metering(
    params: SimParams, enterprises: list[Enterprise], units: list[Unit], rng: np.random.Generator
) -> tuple[list[Meter], list[Gateway]]:
    """All meters and gateways of the province."""
    f = _MeterFactory(params, rng)
    gateways: list[Gateway] = []
    for ent in enterprises:
        gw = f"GW-{ent.code}"
        protocol = "mqtt" if rng.random() < 0.5 else "http"
        gateways.append(Gateway(gw, ent.idx, protocol, "", gateway_secret(params.seed, gw)))
        ent_units = [units[i] for i in ent.unit_idx]
        _energy_meters(f, ent, ent_units, gw)
        for u in ent_units:
            _unit_meters(f, ent, u, gw, gateways)
    return f.meters, gateways


STREAM_WATER_SOURCES = 21  # rng stream of the water meters' sources (independent of the rest)


def assign_water_sources(params: SimParams, meters: list[Meter]) -> None:
    """Give every entry water meter a conventional withdrawal source (uniform over the
    conventional rows of ``water_sources.csv``) and its sub-meters the same source: all the
    water of a simulated enterprise comes through its entry meter."""
    rng = np.random.default_rng([params.seed, STREAM_WATER_SOURCES])
    choices = [s.source_id for s in load_water_sources().values() if s.group == "conventional"]
    for m in meters:
        if m.carrier == "water" and m.level == "entry":
            m.water_source = choices[int(rng.integers(len(choices)))]
    for m in meters:
        if m.carrier == "water" and m.level != "entry" and m.parent_idx >= 0:
            m.water_source = meters[m.parent_idx].water_source
