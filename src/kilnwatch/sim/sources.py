"""Other data sources, consistent with the readings unless a fault says otherwise.

* statistical reports: per enterprise and month, production per product and energy per carrier,
  equal to the sum of the metered readings (entry meters, product meters);
* grid company: the true electricity through each enterprise's entry (its own billing meter);
* VAT invoices: purchases (electricity = grid total; gas and steam as metered; coal and coke
  per delivery day, the lots of the waybills that are on the books) and sales of sold products
  (quantity shipped, amount at market price +- noise);
* stocks of coal and coke: the book stock moves with the lots (opening stock + invoiced lots −
  consumption = closing stock); a share of the enterprises reports it monthly
  (``stock_opening:<carrier>``, ``stock_closing:<carrier>``, as surveyed: +- survey noise);
* logistics: rail trains and road consignments of coal, coke and raw materials in, products out,
  sized so that deliveries track consumption within one consignment;
* market prices: monthly random walk around synthetic base prices.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from kilnwatch.sim.config import SimParams
from kilnwatch.sim.faults import Fault
from kilnwatch.sim.model import Province
from kilnwatch.sim.processes import BASE_PRICES_CNY, PROCESS_SPECS, T_PER_WEIGHT_BOX

RAIL_MIN_T_PER_DAY = 1500.0
RAIL_LOT_T = (2800.0, 3800.0)  # one train (synthetic)
ROAD_LOT_T = (120.0, 420.0)  # one consolidated road consignment (a convoy; synthetic)
PRICE_WALK_SD = 0.03
SALE_PRICE_SD = 0.015
COAL_PRICE_SD = 0.02
SALES_INVOICES = (2, 6)
STREAM_LOGISTICS, STREAM_MONTH, STREAM_PRICES, STREAM_STOCKS = 5, 6, 7, 8
STREAM_PRICE_LEVEL, STREAM_HISTORY = 9, 10
PURCHASED = ("electricity", "raw_coal", "coke", "natural_gas", "steam")
STOCKED = ("raw_coal", "coke")  # delivered in lots, stocked; invoiced per delivery day
INITIAL_STOCK_DAYS = 5.0  # synthetic: stock at the start, in days of the first day's use
STOCK_SURVEY_SD = 0.01  # synthetic: relative error of a reported (surveyed) stock


def fmt(x: float, nd: int = 3) -> str:
    """Positional decimal text without trailing zeros (never exponent form)."""
    text = f"{x:.{nd}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


@dataclass
class _Flow:
    """Cumulative need and shipped quantity of one logistics item of one enterprise."""

    need: float = 0.0
    shipped: float = 0.0
    rail: bool | None = None


@dataclass
class _Month:
    period: str
    first_day: int
    stats: dict[tuple[int, str], float] = field(default_factory=lambda: defaultdict(float))
    grid: dict[int, float] = field(default_factory=lambda: defaultdict(float))
    bought: dict[tuple[int, str], float] = field(default_factory=lambda: defaultdict(float))
    lots: dict[tuple[int, str, date], float] = field(default_factory=lambda: defaultdict(float))
    opening: dict[tuple[int, str], float] = field(default_factory=dict)
    sold: dict[tuple[int, str], float] = field(default_factory=lambda: defaultdict(float))


class SourceBuilder:
    """Accumulates day results and emits rows of every other source."""

    def __init__(self, params: SimParams, province: Province, faults: list[Fault]) -> None:
        self.params = params
        self.p = province
        self.faults = [f for f in faults if f.meter_idx < 0]
        self.flows: dict[tuple[int, str, str], _Flow] = defaultdict(_Flow)
        self.month: _Month | None = None
        self.seq: dict[str, int] = defaultdict(int)
        self.prices: dict[str, float] = {k: v for k, (v, _u) in BASE_PRICES_CNY.items()}
        self.stock: dict[tuple[int, str], float] = {}
        self.reports_stock = [
            bool(np.random.default_rng([params.seed, STREAM_STOCKS, e]).random()
                 < params.stock_reporting_fraction)
            for e in range(len(province.enterprises))
        ]  # fmt: skip
        spread = params.sales_price_spread
        self.price_level = [
            1.0 + spread * (2.0 * float(np.random.default_rng(
                [params.seed, STREAM_PRICE_LEVEL, e]).random()) - 1.0)
            for e in range(len(province.enterprises))
        ]  # fmt: skip
        meters = province.meters
        self.entry = [(m.idx, m.ent_idx, m.carrier, m.uom) for m in meters if m.role == "entry"]
        self.products = [
            (m.idx, m.ent_idx, PROCESS_SPECS[province.units[m.unit_idx].process])
            for m in meters
            if m.role == "product"
        ]

    # ---- per day ---------------------------------------------------------------------
    def add_day(
        self, d: int, true_sum: np.ndarray, reported_sum: np.ndarray
    ) -> dict[str, list[dict[str, str]]]:
        """Account one day; returns rows ready to write (logistics daily, the rest monthly)."""
        day = self.params.start + timedelta(days=d)
        period = day.strftime("%Y-%m")
        out: dict[str, list[dict[str, str]]] = defaultdict(list)
        if self.month is None or self.month.period != period:
            self.month = _Month(period, d)
        month = self.month
        for idx, ent, carrier, _uom in self.entry:
            month.stats[(ent, f"energy:{carrier}")] += float(reported_sum[idx])
            if carrier == "electricity":
                month.grid[ent] += float(true_sum[idx])
            if carrier in PURCHASED:
                month.bought[(ent, carrier)] += float(true_sum[idx])
            if carrier in STOCKED:
                used = float(true_sum[idx])
                stock = self.stock.setdefault((ent, carrier), INITIAL_STOCK_DAYS * used)
                month.opening.setdefault((ent, carrier), stock)
                self.stock[(ent, carrier)] = stock - used
            if carrier in ("raw_coal", "coke"):
                extra = self._unmetered_share(ent, d) if carrier == "raw_coal" else 0.0
                qty = float(true_sum[idx]) / (1.0 - extra)
                self._need(ent, carrier, "in", qty)
        for idx, ent, spec in self.products:
            month.stats[(ent, f"production:{spec.product}")] += float(reported_sum[idx])
            produced = float(true_sum[idx])
            for material, ratio in spec.materials_in.items():
                self._need(ent, material, "in", produced * ratio)
            if spec.sold and spec.product != "electricity_supplied":
                tonnes = produced * (T_PER_WEIGHT_BOX if spec.product_unit == "weight_box" else 1.0)
                self._need(ent, f"product:{spec.product}", "out", tonnes)
            elif spec.sold:
                month.sold[(ent, f"product:{spec.product}")] += produced
        out["logistics"] = self._ship(d, day)
        if d == self.params.days - 1 or (day + timedelta(days=1)).month != day.month:
            out.update(self._close_month(d))
        return out

    def _unmetered_share(self, ent: int, d: int) -> float:
        per_day = self.params.intervals_per_day
        k_mid = d * per_day + per_day // 2
        for f in self.faults:
            if f.kind == "unmetered_coal" and f.ent_idx == ent and f.k0 <= k_mid < f.k1:
                return f.magnitude
        return 0.0

    def _need(self, ent: int, item: str, direction: str, qty: float) -> None:
        flow = self.flows[(ent, item, direction)]
        if flow.rail is None:
            per_day = qty  # first day decides the mode
            flow.rail = self.p.enterprises[ent].rail_siding and per_day >= RAIL_MIN_T_PER_DAY
        flow.need += qty

    def _ship(self, d: int, day: date) -> list[dict[str, str]]:
        rng = np.random.default_rng([self.params.seed, STREAM_LOGISTICS, d])
        rows = []
        for (ent, item, direction), flow in sorted(self.flows.items()):
            lot = RAIL_LOT_T if flow.rail else ROAD_LOT_T
            while (
                (flow.shipped < flow.need)
                if direction == "in"
                else (flow.need - flow.shipped >= lot[0])
            ):
                qty = float(np.round(rng.uniform(*lot), 2))
                if direction == "out":
                    qty = min(qty, flow.need - flow.shipped)
                flow.shipped += qty
                if direction == "in" and item in STOCKED and self.month is not None:
                    extra = self._unmetered_share(ent, d) if item == "raw_coal" else 0.0
                    on_books = qty * (1.0 - extra)  # unmetered coal is off the books
                    self.stock[(ent, item)] = self.stock.get((ent, item), 0.0) + on_books
                    self.month.lots[(ent, item, day)] += on_books
                if direction == "out" and item.startswith("product:"):
                    spec_unit = self._product_factor(item)
                    self.month.sold[(ent, item)] += qty / spec_unit  # type: ignore[union-attr]
                rows.append(self._waybill(ent, day, direction, flow.rail, item, qty))
        return rows

    def _product_factor(self, item: str) -> float:
        return T_PER_WEIGHT_BOX if item == "product:flat_glass" else 1.0

    def _waybill(
        self, ent: int, day: date, direction: str, rail: bool | None, item: str, qty: float
    ) -> dict[str, str]:
        self.seq["waybill"] += 1
        mode = "rail" if rail else "road"
        return {
            "waybill_no": f"{'TL' if rail else 'GL'}{day:%Y%m%d}{self.seq['waybill']:08d}",
            "enterprise_uscc": self.p.enterprises[ent].uscc,
            "shipped_on": day.isoformat(),
            "direction": direction,
            "mode": mode,
            "item": item,
            "quantity_t": fmt(qty, 2),
        }

    # ---- per month -------------------------------------------------------------------
    def _close_month(self, d: int) -> dict[str, list[dict[str, str]]]:
        month = self.month
        assert month is not None
        rng = np.random.default_rng([self.params.seed, STREAM_MONTH, d])
        prices = self._month_prices(d)
        first = self.params.start + timedelta(days=month.first_day)
        last = self.params.start + timedelta(days=d)
        return {
            "statistical_reports": self._stats_rows(month),
            "grid_electricity": [
                {
                    "enterprise_uscc": self.p.enterprises[e].uscc,
                    "period": month.period,
                    "electricity_kwh": fmt(q, 1),
                }
                for e, q in sorted(month.grid.items())
            ],
            "tax_invoices": self._invoices(month, rng, first, last),
            "market_prices": [
                {
                    "period": month.period,
                    "item": item,
                    "price_cny_per_unit": fmt(price, 4),
                    "unit": BASE_PRICES_CNY[item][1],
                }
                for item, price in sorted(prices.items())
                if item != "steam_gj"
            ],
        }

    def _month_prices(self, d: int) -> dict[str, float]:
        rng = np.random.default_rng([self.params.seed, STREAM_PRICES, d])
        for item in sorted(self.prices):
            if item != "electricity":  # regulated tariff
                self.prices[item] *= float(np.exp(rng.normal(0.0, PRICE_WALK_SD)))
        return dict(self.prices)

    def _fault_factor(self, kind: str, ent: int, item: str, period: str) -> float:
        for f in self.faults:
            if (
                f.kind == kind
                and f.ent_idx == ent
                and f.item == item
                and self._period_of(f) == period
            ):
                return f.magnitude
        return 0.0

    def _period_of(self, f: Fault) -> str:
        day = self.params.start + timedelta(days=(f.k0 + 1) // self.params.intervals_per_day)
        return day.strftime("%Y-%m")

    def _stock_rows(self, month: _Month) -> list[dict[str, str]]:
        """Reported stocks (205-1表) of the enterprises that report them, as surveyed."""
        rng = np.random.default_rng([self.params.seed, STREAM_STOCKS, month.first_day])
        rows = []
        for (ent, carrier), opening in sorted(month.opening.items()):
            if not self.reports_stock[ent]:
                continue
            closing = self.stock[(ent, carrier)]
            unit = self._item_unit(ent, f"energy:{carrier}")
            for item, qty in (("stock_opening", opening), ("stock_closing", closing)):
                surveyed = max(qty, 0.0) * (1.0 + rng.normal(0.0, STOCK_SURVEY_SD))
                rows.append(
                    {
                        "enterprise_uscc": self.p.enterprises[ent].uscc,
                        "period": month.period,
                        "item": f"{item}:{carrier}",
                        "quantity": fmt(max(surveyed, 0.0), 3),
                        "unit": unit,
                    }
                )
        return rows

    def _stats_rows(self, month: _Month) -> list[dict[str, str]]:
        rows = self._stock_rows(month)
        for (ent, item), qty in sorted(month.stats.items()):
            under = self._fault_factor("stats_underreport_energy", ent, item, month.period)
            over = self._fault_factor("production_overreport", ent, item, month.period)
            qty = qty * (1.0 - under) * (1.0 + over)
            rows.append(
                {
                    "enterprise_uscc": self.p.enterprises[ent].uscc,
                    "period": month.period,
                    "item": item,
                    "quantity": fmt(qty, 3),
                    "unit": self._item_unit(ent, item),
                }
            )
        return rows

    def _item_unit(self, ent: int, item: str) -> str:
        kind, name = item.split(":", 1)
        if kind == "energy":
            return next(u for _i, e, c, u in self.entry if e == ent and c == name)
        return next(s.product_unit for _i, e, s in self.products if e == ent and s.product == name)

    def _invoice(
        self, ent: int, day: date, direction: str, item: str, qty: float, unit: str, amount: float
    ) -> dict[str, str]:
        self.seq["invoice"] += 1
        return {
            "invoice_no": f"{day:%y}37{self.seq['invoice']:016d}",
            "enterprise_uscc": self.p.enterprises[ent].uscc,
            "issued_on": day.isoformat(),
            "direction": direction,
            "item": item,
            "quantity": fmt(qty, 3),
            "unit": unit,
            "amount_cny": fmt(amount, 2),
        }

    def _invoices(
        self, month: _Month, rng: np.random.Generator, first: date, last: date
    ) -> list[dict[str, str]]:
        span = (last - first).days
        rows = []
        for (ent, carrier), qty in sorted(month.bought.items()):
            unit = self._item_unit(ent, f"energy:{carrier}")
            key = "steam_gj" if (carrier, unit) == ("steam", "GJ") else carrier
            if carrier == "electricity":
                qty = month.grid[ent]
                rows.append(
                    self._invoice(ent, last, "purchase", carrier, qty, unit, qty * self.prices[key])
                )
                continue
            if carrier in STOCKED and unit == "t":
                for (e, item, day), lot in sorted(month.lots.items()):
                    if (e, item) == (ent, carrier):
                        price = self.prices[key] * (1 + rng.normal(0.0, COAL_PRICE_SD))
                        rows.append(self._invoice(ent, day, "purchase", carrier, lot, unit,
                                                  lot * price))  # fmt: skip
                continue
            for part in self._split(qty, int(rng.integers(1, 4)), rng):
                day = first + timedelta(days=int(rng.integers(0, span + 1)))
                price = self.prices[key] * (1 + rng.normal(0.0, COAL_PRICE_SD))
                rows.append(self._invoice(ent, day, "purchase", carrier, part, unit, part * price))
        for (ent, item), qty in sorted(month.sold.items()):
            declared = qty * (1.0 - self._fault_factor("revenue_mismatch", ent, item, month.period))
            under = self._fault_factor("revenue_underpriced", ent, item, month.period)
            level = self.price_level[ent] * (1.0 - under)
            unit = BASE_PRICES_CNY[item][1]
            for part in self._split(declared, int(rng.integers(*SALES_INVOICES)), rng):
                day = first + timedelta(days=int(rng.integers(0, span + 1)))
                price = self.prices[item] * level * (1 + rng.normal(0.0, SALE_PRICE_SD))
                rows.append(self._invoice(ent, day, "sale", item, part, unit, part * price))
        return rows

    def history_rows(self) -> dict[str, list[dict[str, str]]]:
        """Sales invoices and market prices of the ``price_history_months`` months before the
        run (each enterprise at its own price level; the market walking back from the base
        prices): an enterprise's own price history, as the tax bureau holds it."""
        rows: dict[str, list[dict[str, str]]] = {"tax_invoices": [], "market_prices": []}
        rng = np.random.default_rng([self.params.seed, STREAM_HISTORY])
        prices = dict(self.prices)
        first = self.params.start.replace(day=1)
        sold = sorted({(e, f"product:{s.product}", m) for m, e, s in self.products if s.sold})
        for _ in range(self.params.price_history_months):
            last = first - timedelta(days=1)
            first = last.replace(day=1)
            for item in sorted(prices):
                if item != "electricity":
                    prices[item] /= float(np.exp(rng.normal(0.0, PRICE_WALK_SD)))
            period = f"{first:%Y-%m}"
            rows["market_prices"] += [
                {"period": period, "item": item, "price_cny_per_unit": fmt(price, 4),
                 "unit": BASE_PRICES_CNY[item][1]}
                for item, price in sorted(prices.items())
                if item.startswith("product:")
            ]  # fmt: skip
            for ent, item, meter in sold:
                unit = self.p.units[self.p.meters[meter].unit_idx]
                qty = unit.rated_per_h * unit.base_util * 24.0 * last.day  # [price unit]
                for part in self._split(qty, int(rng.integers(*SALES_INVOICES)), rng):
                    day = first + timedelta(days=int(rng.integers(0, last.day)))
                    price = prices[item] * self.price_level[ent]
                    price *= 1 + rng.normal(0.0, SALE_PRICE_SD)
                    invoice_unit = BASE_PRICES_CNY[item][1]
                    rows["tax_invoices"].append(
                        self._invoice(ent, day, "sale", item, part, invoice_unit, part * price)
                    )
        return rows

    @staticmethod
    def _split(qty: float, n: int, rng: np.random.Generator) -> list[float]:
        if qty <= 0:
            return []
        shares = rng.dirichlet(np.full(n, 4.0))
        return [float(qty * s) for s in shares]
