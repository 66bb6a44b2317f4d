"""An independently written province generator, for measuring verification on data it was not
tuned on (issue 12).

    python benchmarks/alt/generate.py --seed 101 --enterprises 60 --variant base --out DIR

It shares no code with ``kilnwatch.sim`` (it imports nothing from kilnwatch) and models the
plants differently on purpose: hourly meters (some 15-minute), an AR(1) load with heavy-tailed
shocks, maintenance outages and production-control periods, coal bought by truck or train under
a reorder or a periodic (weekly) stock policy, enterprises that price their sales at their own
discount to the market, plants without product meters, communication gaps and meter
replacements (a counter restarting near zero). It writes the documented formats of
docs/formats.md (registry, ``readings.csv``, the other sources) and ``labels.csv`` (ground
truth, same columns and meaning of ``magnitude_fraction``).

Variants (``--variant``) change one modelling choice each:

* ``base``: road convoys (200-500 t), reorder policy, 60 % report stocks, 50 % have product meters;
* ``trains``: coal by train (2 500-4 000 t lots), periodic weekly orders;
* ``no_stocks``: nobody reports stocks;
* ``heavy_noise``: heavier load noise (t-distributed shocks, stronger AR);
* ``no_product_meters``: no plant meters its output;
* ``start_stamps``: as ``base``, but every meter's export stamps the START of each reading's
  interval (import it with ``kilnwatch import readings --ts-convention start``).

Whatever the variant, about 10 % of the clean plants get an entry meter that reports its daily
moving average from some hour on (``meter_smoothed``: noise and daily cycle gone, totals kept),
drawn from a random stream of its own so that the other faults of a seed stay as they were.
"""

from __future__ import annotations

import argparse
import csv
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

LOCAL = timezone(timedelta(hours=8))
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
COUNTIES = (
    "370102",
    "370211",
    "370302",
    "370402",
    "370602",
    "370702",
    "370811",
    "371002",
    "371102",
    "371302",
    "371402",
    "371502",
    "371602",
    "371702",
    "370902",
    "370502",
)

# Plant archetypes: process, industry, product, capacity [t/a], per tonne of product:
# raw coal [t], electricity [kWh], natural gas [m3]; sale price [CNY/t]. Round synthetic figures
# of the right order, chosen without looking at kilnwatch.sim.
ARCHETYPES: dict[str, dict[str, Any]] = {
    "clinker": {
        "process": "cement_clinker_line",
        "industry": "cement",
        "product": "clinker",
        "capacity": (1.2e6, 3.0e6),
        "coal": 0.15,
        "kwh": 58.0,
        "gas": 0.0,
        "price": 310.0,
    },
    "coke": {
        "process": "coke_oven_top",
        "industry": "coking",
        "product": "coke",
        "capacity": (0.6e6, 2.0e6),
        "coal": 1.33,
        "kwh": 38.0,
        "gas": 0.0,
        "price": 1850.0,
    },
    "methanol": {
        "process": "methanol_plant",
        "industry": "chemicals",
        "product": "methanol",
        "capacity": (0.2e6, 0.6e6),
        "coal": 1.45,
        "kwh": 180.0,
        "gas": 0.0,
        "price": 2300.0,
    },
    "eaf": {
        "process": "electric_arc_furnace",
        "industry": "steel",
        "product": "crude_steel",
        "capacity": (0.5e6, 1.5e6),
        "coal": 0.0,
        "kwh": 390.0,
        "gas": 0.0,
        "price": 3500.0,
    },
    "tire": {
        "process": "tire_line",
        "industry": "tires",
        "product": "tire",
        "capacity": (0.03e6, 0.12e6),
        "coal": 0.0,
        "kwh": 950.0,
        "gas": 160.0,
        "price": 21000.0,
    },
}
VARIANTS: dict[str, dict[str, Any]] = {
    "base": {
        "lot": (200.0, 500.0),
        "policy": "reorder",
        "stock_share": 0.6,
        "product_meter_share": 0.5,
        "ar": 0.85,
        "shock_sd": 0.03,
        "shock_df": 0,
    },
    "trains": {
        "lot": (2500.0, 4000.0),
        "policy": "periodic",
        "stock_share": 0.6,
        "product_meter_share": 0.5,
        "ar": 0.85,
        "shock_sd": 0.03,
        "shock_df": 0,
    },
    "no_stocks": {
        "lot": (200.0, 500.0),
        "policy": "reorder",
        "stock_share": 0.0,
        "product_meter_share": 0.5,
        "ar": 0.85,
        "shock_sd": 0.03,
        "shock_df": 0,
    },
    "heavy_noise": {
        "lot": (200.0, 500.0),
        "policy": "reorder",
        "stock_share": 0.6,
        "product_meter_share": 0.5,
        "ar": 0.95,
        "shock_sd": 0.05,
        "shock_df": 3,
    },
    "no_product_meters": {
        "lot": (200.0, 500.0),
        "policy": "reorder",
        "stock_share": 0.6,
        "product_meter_share": 0.0,
        "ar": 0.85,
        "shock_sd": 0.03,
        "shock_df": 0,
    },
    "start_stamps": {
        "lot": (200.0, 500.0),
        "policy": "reorder",
        "stock_share": 0.6,
        "product_meter_share": 0.5,
        "ar": 0.85,
        "shock_sd": 0.03,
        "shock_df": 0,
        "stamps": "start",
    },
}
SMOOTHED_SHARE = 0.1  # of the clean plants: an entry meter reports its daily moving average
SMOOTHED_STREAM = 7
FAULT_KINDS = (
    "meter_scaled",
    "stuck_sensor",
    "unmetered_coal",
    "stats_underreport_energy",
    "production_overreport",
    "revenue_mismatch",
)
FAULTY_SHARE = 0.35


def uscc(rng: np.random.Generator, region: str) -> str:
    """A GB 32100 code (registration authority 9, type 1, region, 9-character body, check)."""
    body = "".join(CHARSET[int(i)] for i in rng.integers(0, 31, 9))
    first17 = f"91{region}{body}"
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return first17 + CHARSET[(31 - total % 31) % 31]


@dataclass
class Meter:
    code: str
    carrier: str
    level: str
    unit_code: str = ""
    parent: str = ""
    measurement: str = "interval"
    uom: str = "kWh"
    accuracy: str = "1.0"
    step_min: int = 60
    truth: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per hour, true quantity
    scale: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per hour, 1 = correct
    stuck: tuple[int, int] | None = None  # hours [a, b) repeating the reading of hour a
    smoothed_from: int | None = None  # hour from which it reports its trailing 24 h mean


@dataclass
class Plant:
    uscc: str
    name: str
    region: str
    kind: str
    unit_code: str
    capacity: float
    output: np.ndarray  # t per hour (true)
    meters: list[Meter] = field(default_factory=list)
    reports_stock: bool = False
    discount: float = 1.0  # its sales price relative to the market (contracts, grade)
    labels: list[dict[str, str]] = field(default_factory=list)
    unmetered: float = 0.0  # share of the coal delivered that is burnt off meters and books
    report_fault: tuple[str | None, float] = (None, 0.0)  # (label kind, magnitude)


class Province:
    def __init__(self, seed: int, enterprises: int, variant: str, start: date, days: int):
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.v = VARIANTS[variant]
        self.start, self.days, self.hours = start, days, days * 24
        self.t0 = datetime(start.year, start.month, start.day, tzinfo=LOCAL)
        self.plants = [self._plant(n) for n in range(enterprises)]
        self.fault_seq = 0

    # -- plants and their true flows ------------------------------------------------------
    def _load(self) -> np.ndarray:
        """Hourly load fraction: base x AR(1) noise x small daily cycle, with a maintenance
        outage and sometimes a production-control period (clean events)."""
        rng, v = self.rng, self.v
        shocks = (
            rng.standard_t(v["shock_df"], self.hours) / math.sqrt(3)
            if v["shock_df"]
            else rng.standard_normal(self.hours)
        ) * v["shock_sd"]
        noise = np.zeros(self.hours)
        for t in range(1, self.hours):
            noise[t] = v["ar"] * noise[t - 1] + shocks[t]
        hour = np.arange(self.hours) % 24
        load = rng.uniform(0.72, 0.95) * (1 + noise) * (1 + 0.02 * np.cos(2 * np.pi * hour / 24))
        if rng.random() < 0.5:  # maintenance outage, 1-3 days
            a = int(rng.integers(0, self.hours - 72))
            load[a : a + int(rng.integers(24, 73))] = 0.0
        if rng.random() < 0.15:  # production control: 55-70 % for 5-10 days
            a = int(rng.integers(0, self.hours - 240))
            load[a : a + int(rng.integers(120, 241))] *= rng.uniform(0.55, 0.7)
        return np.clip(load, 0.0, 1.1)

    def _plant(self, n: int) -> Plant:
        rng = self.rng
        kind = str(rng.choice(list(ARCHETYPES), p=[0.3, 0.2, 0.15, 0.2, 0.15]))
        a = ARCHETYPES[kind]
        region = str(rng.choice(COUNTIES))
        capacity = float(rng.uniform(*a["capacity"]))
        output = capacity / 8760 * self._load()
        code = f"A{n + 1:03d}"
        p = Plant(
            uscc(rng, region),
            f"独立样本{n + 1:03d}{a['industry']}有限公司",
            region,
            kind,
            "L1",
            capacity,
            output,
        )
        p.reports_stock = bool(rng.random() < self.v["stock_share"])
        p.discount = float(rng.uniform(0.93, 1.04))
        idle_kwh = 0.08 * a["kwh"] * capacity / 8760  # lighting, pumps, offices: runs when idle
        kwh = output * a["kwh"] * (1 + 0.01 * rng.standard_normal(self.hours)) + idle_kwh
        loss = rng.uniform(0.01, 0.035)
        step = 15 if rng.random() < 0.3 else 60
        counter = rng.random() < 0.6
        p.meters.append(
            Meter(
                f"{code}-GRID",
                "electricity",
                "entry",
                measurement="counter" if counter else "interval",
                uom="kWh",
                accuracy="0.5S",
                step_min=step,
                truth=kwh / (1 - loss),
            )
        )
        p.meters.append(
            Meter(
                f"{code}-L1-KWH",
                "electricity",
                "sub_unit",
                "L1",
                f"{code}-GRID",
                "interval",
                "kWh",
                "1.0",
                60,
                kwh,
            )
        )
        if a["coal"]:
            coal = output * a["coal"] * (1 + 0.015 * rng.standard_normal(self.hours))
            p.meters.append(
                Meter(
                    f"{code}-COAL",
                    "raw_coal",
                    "entry",
                    measurement="interval",
                    uom="t",
                    accuracy="0.5",
                    truth=coal,
                )
            )
        if a["gas"]:
            gas = output * a["gas"] * (1 + 0.02 * rng.standard_normal(self.hours))
            p.meters.append(
                Meter(
                    f"{code}-GAS",
                    "natural_gas",
                    "entry",
                    measurement="counter",
                    uom="m3",
                    accuracy="1.0",
                    truth=gas,
                )
            )
        if rng.random() < self.v["product_meter_share"]:
            p.meters.append(
                Meter(
                    f"{code}-L1-OUT",
                    f"product:{a['product']}",
                    "sub_unit",
                    "L1",
                    "",
                    "interval",
                    "t",
                    "1.0",
                    60,
                    output.copy(),
                )
            )
        for m in p.meters:
            m.scale = np.ones(self.hours)
        return p

    # -- faults ----------------------------------------------------------------------------
    def _label(
        self, p: Plant, kind: str, meter: str, a: int, b: int, m: float, detail: str
    ) -> None:
        self.fault_seq += 1
        p.labels.append(
            {
                "fault_id": f"ALT{self.fault_seq:04d}",
                "kind": kind,
                "enterprise_uscc": p.uscc,
                "meter_code": meter,
                "unit_code": "",
                "start": self._ts(a).isoformat(),
                "end": self._ts(b).isoformat(),
                "magnitude_fraction": f"{m:.4f}",
                "detail": detail,
            }
        )

    def _ts(self, hour: int) -> datetime:
        return self.t0 + timedelta(hours=hour)

    def inject(self) -> None:
        rng = self.rng
        for p in self.plants:
            if rng.random() >= FAULTY_SHARE:
                continue
            coal = any(m.carrier == "raw_coal" for m in p.meters)
            kinds = [k for k in FAULT_KINDS if k != "unmetered_coal" or coal]
            kind = str(rng.choice(kinds))
            whole = (0, self.hours)
            if kind == "meter_scaled":
                energy = [x for x in p.meters if not x.carrier.startswith("product:")]
                m = energy[int(rng.integers(0, len(energy)))]
                mag = float(rng.uniform(0.05, 0.30))
                a = int(rng.integers(0, self.hours // 2))
                m.scale[a:] = 1 - mag
                self._label(p, kind, m.code, a, self.hours, mag, f"{m.code} reads {mag:.3f} low")
            elif kind == "stuck_sensor":
                cands = [x for x in p.meters if x.measurement == "interval"]
                m = cands[int(rng.integers(0, len(cands)))]
                a = int(rng.integers(0, self.hours - 48))
                b = a + int(rng.integers(6, 48))
                m.stuck = (a, b)
                self._label(p, kind, m.code, a, b, 1.0, f"{m.code} repeats one value")
            elif kind == "unmetered_coal":
                mag = float(rng.uniform(0.05, 0.20))
                p.unmetered = mag
                self._label(p, kind, "", *whole, mag, f"{mag:.3f} of coal delivered off the books")
            else:
                mag = float(
                    rng.uniform(0.05, 0.08)
                    if kind == "revenue_mismatch"
                    else rng.uniform(0.05, 0.15)
                )
                p.report_fault = (kind, mag)
                self._label(p, kind, "", *whole, mag, f"{kind} {mag:.3f}")

    def inject_smoothed(self) -> None:
        """Entry meters of clean plants replaced by their daily moving average, from a random
        stream of their own (the faults and data of :meth:`inject` stay the same)."""
        rng = np.random.default_rng([self.seed, SMOOTHED_STREAM])
        for p in self.plants:
            pick = rng.random()
            entries = [m for m in p.meters if m.level == "entry"]
            if p.labels or pick >= SMOOTHED_SHARE or not entries:
                continue
            m = entries[int(rng.integers(0, len(entries)))]
            a = int(rng.integers(0, self.hours // 2))
            m.smoothed_from = a
            detail = f"{m.code} reports the mean of its last 24 h"
            self._label(p, "meter_smoothed", m.code, a, self.hours, 1.0, detail)

    # -- writing ---------------------------------------------------------------------------
    def write(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        period = f"{self.start:%Y-%m}"
        rows: dict[str, list[dict[str, Any]]] = {
            k: []
            for k in (
                "enterprises",
                "units",
                "meters",
                "readings",
                "statistical_reports",
                "tax_invoices",
                "logistics",
                "grid_electricity",
                "market_prices",
                "labels",
            )
        }
        market = {
            a["product"]: a["price"] * float(self.rng.uniform(0.95, 1.05))
            for a in ARCHETYPES.values()
        }
        for product, price in sorted(market.items()):
            rows["market_prices"].append(
                {
                    "period": period,
                    "item": f"product:{product}",
                    "price_cny_per_unit": f"{price:.2f}",
                    "unit": "t",
                }
            )
        seq = {"inv": 0, "wb": 0}
        for p in self.plants:
            a = ARCHETYPES[p.kind]
            rows["enterprises"].append(
                {
                    "uscc": p.uscc,
                    "name": p.name,
                    "region_code": p.region,
                    "industry": a["industry"],
                    "status": "operating",
                }
            )
            rows["units"].append(
                {
                    "enterprise_uscc": p.uscc,
                    "unit_code": p.unit_code,
                    "name": f"1#{a['product']}",
                    "process": a["process"],
                    "capacity": f"{p.capacity:.0f}",
                    "capacity_unit": "t/a",
                    "commissioned_on": "2015-06-01",
                    "status": "operating",
                    "level_variant": "",
                }
            )
            for m in p.meters:
                rows["meters"].append(
                    {
                        "meter_code": m.code,
                        "enterprise_uscc": p.uscc,
                        "unit_code": m.unit_code,
                        "carrier": m.carrier,
                        "level": m.level,
                        "parent_meter_code": m.parent,
                        "measurement": m.measurement,
                        "unit_of_measure": m.uom,
                        "accuracy_class": m.accuracy,
                        "calibrated_on": "2024-09-01",
                        "calibration_due_on": "2025-09-01",
                        "gateway_code": "",
                        "hj212_code": "",
                    }
                )
                rows["readings"] += self._readings(m)
            self._sources(p, period, market, rows, seq)
            rows["labels"] += p.labels
        for name, data in rows.items():
            if not data:
                continue
            with (out / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=list(data[0]))
                writer.writeheader()
                writer.writerows(data)

    def _readings(self, m: Meter) -> list[dict[str, Any]]:
        """Measured values (meter bias within its class, faults, gaps, a replacement)."""
        rng = self.rng
        bias = 1 + float(rng.uniform(-0.4, 0.4)) * float(m.accuracy.rstrip("S")) / 100
        per = m.step_min
        n_sub = 60 // per
        hourly = m.truth * m.scale * bias
        q = np.repeat(hourly / n_sub, n_sub) * (1 + 0.002 * rng.standard_normal(self.hours * n_sub))
        stuck = m.stuck
        if stuck is not None:
            a, b = stuck[0] * n_sub, stuck[1] * n_sub
            q[a:b] = q[a]
        if m.smoothed_from is not None:  # trailing mean over the last day of readings
            sums = np.concatenate(([0.0], np.cumsum(q)))
            end = np.arange(1, q.size + 1)
            first = np.maximum(end - 24 * n_sub, 0)
            mean = (sums[end] - sums[first]) / (end - first)
            q[m.smoothed_from * n_sub :] = mean[m.smoothed_from * n_sub :]
        # the export's stamp: the interval's end, or its start in the start_stamps variant
        late = 0 if self.v.get("stamps") == "start" else 1
        ts = [self.t0 + timedelta(minutes=per * (k + late)) for k in range(q.size)]
        keep = np.ones(q.size, dtype=bool)
        if rng.random() < 0.25:  # communication gap of 2-10 readings (clean: monitoring quality)
            a = int(rng.integers(1, q.size - 12))
            keep[a : a + int(rng.integers(2, 11))] = False
        if m.measurement == "counter":
            register = float(rng.uniform(1e5, 5e6))
            replaced = int(rng.integers(10, q.size - 10)) if rng.random() < 0.1 else -1
            values = [register]
            for k in range(q.size):
                register = float(rng.uniform(0, 5)) if k == replaced else register + q[k]
                values.append(register)
            opening = self.t0 - timedelta(minutes=per * (1 - late))  # the start register
            stamps, digits = [opening, *ts], 2
            kept = [True, *keep]
        else:
            values, stamps, digits, kept = list(q), ts, 4, list(keep)
        out = [
            {"meter_code": m.code, "ts": t.isoformat(), "value": f"{v:.{digits}f}",
             "unit": m.uom, "flag": ""}
            for t, v, k in zip(stamps, values, kept, strict=True)
            if k
        ]  # fmt: skip
        return out

    def _sources(
        self,
        p: Plant,
        period: str,
        market: dict[str, float],
        rows: dict[str, list[dict[str, Any]]],
        seq: dict[str, int],
    ) -> None:
        rng, a = self.rng, ARCHETYPES[p.kind]
        fault = p.report_fault
        by_carrier = {m.carrier: m for m in p.meters if m.level == "entry"}

        def stat(item: str, qty: float, unit: str) -> None:
            rows["statistical_reports"].append(
                {
                    "enterprise_uscc": p.uscc,
                    "period": period,
                    "item": item,
                    "quantity": f"{qty:.3f}",
                    "unit": unit,
                }
            )

        def invoice(
            day: date, direction: str, item: str, qty: float, unit: str, amount: float
        ) -> None:
            seq["inv"] += 1
            rows["tax_invoices"].append(
                {
                    "invoice_no": f"{day:%y}3799{seq['inv']:014d}",
                    "enterprise_uscc": p.uscc,
                    "issued_on": day.isoformat(),
                    "direction": direction,
                    "item": item,
                    "quantity": f"{qty:.3f}",
                    "unit": unit,
                    "amount_cny": f"{amount:.2f}",
                }
            )

        def waybill(day: date, direction: str, mode: str, item: str, qty: float) -> None:
            seq["wb"] += 1
            rows["logistics"].append(
                {
                    "waybill_no": f"WB{day:%Y%m%d}{seq['wb']:07d}",
                    "enterprise_uscc": p.uscc,
                    "shipped_on": day.isoformat(),
                    "direction": direction,
                    "mode": mode,
                    "item": item,
                    "quantity_t": f"{qty:.2f}",
                }
            )

        # energy as the enterprise's own metering system totals it (what its meters read)
        for carrier, m in by_carrier.items():
            reported = float((m.truth * m.scale).sum())
            if fault[0] == "stats_underreport_energy" and carrier == "electricity":
                reported *= 1 - fault[1]
            stat(f"energy:{carrier}", reported, m.uom)
        produced = float(p.output.sum())
        stat(
            f"production:{a['product']}",
            produced * (1 + fault[1] if fault[0] == "production_overreport" else 1.0),
            "t",
        )
        grid = float(by_carrier["electricity"].truth.sum())
        rows["grid_electricity"].append(
            {"enterprise_uscc": p.uscc, "period": period, "electricity_kwh": f"{grid:.1f}"}
        )
        last = self.start + timedelta(days=self.days - 1)
        invoice(last, "purchase", "electricity", grid, "kWh", grid * 0.61)
        if "natural_gas" in by_carrier:
            gas = float(by_carrier["natural_gas"].truth.sum())
            invoice(last, "purchase", "natural_gas", gas, "m3", gas * 3.4)
        if "raw_coal" in by_carrier:
            self._coal(p, by_carrier["raw_coal"], stat, invoice, waybill)
        # products leave by road (sold as produced, 1-2 days later); sales invoiced weekly
        daily = p.output.reshape(self.days, 24).sum(axis=1)
        shipped = np.zeros(self.days)
        out_lot = (20.0, 40.0) if daily.mean() < 400 else (200.0, 500.0)  # trucks or convoys
        carry = 0.0
        for d in range(self.days):
            carry += daily[d]
            while carry >= out_lot[0]:
                lot = min(carry, float(rng.uniform(*out_lot)))
                day = min(d + int(rng.integers(1, 3)), self.days - 1)
                waybill(
                    self.start + timedelta(days=day), "out", "road", f"product:{a['product']}", lot
                )
                shipped[day] += lot
                carry -= lot
        declared = 1 - fault[1] if fault[0] == "revenue_mismatch" else 1.0
        price = market[a["product"]] * p.discount
        for week in range(0, self.days, 7):
            qty = float(shipped[week : week + 7].sum()) * declared
            if qty > 0:
                unit_price = price * (1 + 0.01 * rng.standard_normal())
                day = self.start + timedelta(days=min(week + 6, self.days - 1))
                invoice(day, "sale", f"product:{a['product']}", qty, "t", qty * unit_price)

    def _coal(self, p: Plant, meter: Meter, stat: Any, invoice: Any, waybill: Any) -> None:
        """Coal bought in lots under the variant's stock policy; stocks reported by some."""
        rng, v = self.rng, self.v
        use = meter.truth.reshape(self.days, 24).sum(axis=1)  # true daily use [t]
        off_books = p.unmetered
        mean_use = float(use.mean()) or 1.0
        safety = mean_use * float(rng.uniform(3, 8))
        stock = safety + mean_use * float(rng.uniform(0, 4))
        opening = stock
        lot_lo, lot_hi = v["lot"]
        mode = "rail" if lot_lo >= 1000 else "road"
        for d in range(self.days):
            day = self.start + timedelta(days=d)
            stock -= use[d]
            bought = 0.0
            if v["policy"] == "periodic":
                if d % 7 == 0:  # order up to safety + 9 days of use, in lots
                    while stock + bought < safety + 9 * mean_use:
                        bought += float(rng.uniform(lot_lo, lot_hi))
            else:
                while stock + bought < safety:
                    bought += float(rng.uniform(lot_lo, lot_hi))
            if bought:
                remaining = bought
                while remaining > 1e-6:
                    lot = min(remaining, float(rng.uniform(lot_lo, lot_hi)))
                    waybill(day, "in", mode, "raw_coal", lot)
                    remaining -= lot
                invoice(day, "purchase", "raw_coal", bought, "t", bought * 820.0)
                stock += bought
            if off_books:  # coal burnt without meter, delivered without invoice
                extra = use[d] * off_books / (1 - off_books)
                waybill(day, "in", mode, "raw_coal", extra)
        if p.reports_stock:
            survey = 1 + 0.01 * rng.standard_normal(2)
            stat("stock_opening:raw_coal", opening * survey[0], "t")
            stat("stock_closing:raw_coal", max(stock, 0.0) * survey[1], "t")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--enterprises", type=int, default=60)
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="base")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 3, 1))
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    province = Province(args.seed, args.enterprises, args.variant, args.start, args.days)
    province.inject()
    province.inject_smoothed()
    province.write(args.out)
    print(
        f"wrote {args.enterprises} enterprises ({args.variant}, seed {args.seed}) to {args.out}"
        f" at {datetime.now(UTC):%H:%M:%S}Z"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
