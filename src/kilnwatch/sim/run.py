"""Orchestration: build the province, then generate and write day by day.

``simulate_to_dir`` is the public entry point; the ``progress`` callback receives
``(stage, done, total)`` so that a CLI can draw bars (no Rich inside ``sim/``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kilnwatch.formats import PERMITS_FORMAT, PROJECT_CONTROL_FORMATS
from kilnwatch.sim.census import MeterEvents, plan_census
from kilnwatch.sim.census import calibration_rows as census_calibration_rows
from kilnwatch.sim.census import label_rows as census_label_rows
from kilnwatch.sim.census import point_rows as census_point_rows
from kilnwatch.sim.config import SimParams
from kilnwatch.sim.emissions import permit_rows, plan_exceedances
from kilnwatch.sim.energy_factors import COLUMNS as EF_COLUMNS
from kilnwatch.sim.energy_factors import energy_factor_rows
from kilnwatch.sim.equipment import assign_equipment
from kilnwatch.sim.faultapply import ReadingFaults
from kilnwatch.sim.faults import Fault, label_rows, plan_faults, plan_variant_faults
from kilnwatch.sim.metering import assign_water_sources, build_metering
from kilnwatch.sim.model import Province
from kilnwatch.sim.projects import build_project_control
from kilnwatch.sim.province import build_enterprises, build_projects
from kilnwatch.sim.readings import FLAG, DayData, ReadingEngine
from kilnwatch.sim.retrofits import plan_retrofits
from kilnwatch.sim.sources import SourceBuilder
from kilnwatch.sim.tables import (
    COLUMNS,
    SOURCE_FILES,
    registry_rows,
    retrofit_rows,
    unit_truth_rows,
)
from kilnwatch.sim.timeline import plan_outages
from kilnwatch.sim.writer import ReadingsWriter, RowsFile, write_csv

Progress = Callable[[str, int, int], None]
STREAM_PROVINCE, STREAM_DAY, STREAM_FAULTS, STREAM_PROJECTS = 0, 1, 2, 3
STREAM_VARIANT_FAULTS = 4


@dataclass
class SimSummary:
    """What a run wrote."""

    out_dir: Path
    enterprises: int
    units: int
    meters: int
    faults: int
    retrofits: int
    readings_rows: int
    elapsed_s: float
    files: dict[str, int] = field(default_factory=dict)  # file stem -> data rows


def build_province(params: SimParams) -> Province:
    """The registry, outages and retrofits of a run (deterministic for ``params``)."""
    rng = np.random.default_rng([params.seed, STREAM_PROVINCE])
    enterprises, units = build_enterprises(params, rng)
    meters, gateways = build_metering(params, enterprises, units, rng)
    assign_water_sources(params, meters)
    province = Province(
        enterprises, units, meters, gateways, build_projects(enterprises, units, rng)
    )
    assign_equipment(params, province)
    plan_outages(params, units, rng)
    province.retrofits = plan_retrofits(params, units, rng)
    control_rng = np.random.default_rng([params.seed, STREAM_PROJECTS])
    province.control = build_project_control(params, province, control_rng)
    province.projects += province.control.projects
    province.meter_events = plan_census(params, province)
    return province


def write_project_control(folder: Path, province: Province) -> dict[str, int]:
    """The project control files and their truth into ``folder`` (docs/formats.md)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind, fmt in PROJECT_CONTROL_FORMATS.items():
        rows = province.control.files.get(kind, [])
        written[f"projects/{kind}"] = write_csv(folder / f"{kind}.csv", fmt.columns, rows)
    for name, rows in province.control.truth.items():
        written[f"projects/{name}"] = write_csv(folder / f"{name}.csv", tuple(rows[0]), rows)
    return written


def build_faults(params: SimParams, province: Province) -> list[Fault]:
    """The faults of a run (deterministic for ``params``)."""
    faults = plan_faults(params, province, np.random.default_rng([params.seed, STREAM_FAULTS]))
    variant_rng = np.random.default_rng([params.seed, STREAM_VARIANT_FAULTS])
    faults += plan_variant_faults(params, province, variant_rng, faults)
    return faults + plan_exceedances(params, province)


class _DayLoop:
    def __init__(self, params: SimParams, province: Province, faults: list[Fault]) -> None:
        self.params = params
        self.province = province
        self.engine = ReadingEngine(params, province)
        self.faults = ReadingFaults(params, province, faults)
        self.sources = SourceBuilder(params, province, faults)
        self.events = MeterEvents(province.meter_events, province)
        counter = self.engine.counter
        self.last = np.round(self.engine.register * self.engine.scale) / self.engine.scale
        self.last[~counter] = 0.0
        self.first_rows = (np.flatnonzero(counter), self.last[counter].copy())

    def day(self, d: int) -> tuple[DayData, dict[str, list[dict[str, str]]]]:
        rng = np.random.default_rng([self.params.seed, STREAM_DAY, d])
        eng = self.engine
        kcols = d * eng.T + 1 + np.arange(eng.T, dtype=np.int64)
        load, true = eng.generate_true(d, rng)
        eng.sum_entries(true)
        self.faults.physical(d, kcols, true, load)
        measured = eng.measure(true, rng)
        self.faults.tamper(kcols, measured)
        values = eng.report(measured)
        reported = np.where(eng.counter, values[:, -1] - self.last, values.sum(axis=1))
        self.last = np.where(eng.counter, values[:, -1], 0.0)
        flags = np.zeros(values.shape, dtype=np.int8)
        if len(eng.stack_first):
            stack = eng.stack_flags(load, rng)
            for offset in range(5):
                flags[eng.stack_first + offset] = stack
        day = DayData(
            d, kcols, load, true, measured, values, flags, np.ones(values.shape, dtype=bool)
        )
        self.faults.transmit(day)
        self.events.apply(kcols, day.values, day.present)
        rows = self.sources.add_day(d, true.sum(axis=1), reported)
        return day, rows


def simulate_to_dir(
    params: SimParams, out_dir: Path, progress: Progress | None = None
) -> SimSummary:
    """Simulate a province and write every file of docs/formats.md into ``out_dir``."""
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    report = progress or (lambda _stage, _done, _total: None)
    report("registry", 0, 1)
    province = build_province(params)
    faults = build_faults(params, province)
    files: dict[str, int] = {}
    for name, rows in registry_rows(province).items():
        files[name] = write_csv(out_dir / f"{name}.csv", COLUMNS[name], rows)
    files["retrofits"] = write_csv(
        out_dir / "retrofits.csv", COLUMNS["retrofits"], retrofit_rows(province)
    )
    files["unit_truth"] = write_csv(
        out_dir / "unit_truth.csv", COLUMNS["unit_truth"], unit_truth_rows(province)
    )
    files["permits"] = write_csv(
        out_dir / "permits.csv", PERMITS_FORMAT.columns, permit_rows(province, params)
    )
    files["energy_factors"] = write_csv(
        out_dir / "energy_factors.csv", EF_COLUMNS, energy_factor_rows(params, province)
    )
    files["labels"] = write_csv(
        out_dir / "labels.csv", COLUMNS["labels"], label_rows(faults, province, params)
    )
    files.update(write_project_control(out_dir / "projects", province))
    census = {
        "metering_points": census_point_rows(params, province),
        "meter_calibrations": census_calibration_rows(params, province),
        "metering_labels": census_label_rows(params, province, province.meter_events),
    }
    for name, rows in census.items():
        files[name] = write_csv(out_dir / f"{name}.csv", COLUMNS[name], rows)
    report("registry", 1, 1)
    loop = _DayLoop(params, province, faults)
    writer = ReadingsWriter(out_dir, params, province)
    sinks = {name: RowsFile(out_dir / f"{name}.csv", COLUMNS[name]) for name in SOURCE_FILES}
    for name, chunk in loop.sources.history_rows().items():
        sinks[name].write(chunk)
    try:
        for d in range(params.days):
            day, source_rows = loop.day(d)
            writer.write_day(day, loop.first_rows if d == 0 else None)
            for name, chunk in source_rows.items():
                sinks[name].write(chunk)
            report("readings", d + 1, params.days)
    finally:
        writer.close()
        for sink in sinks.values():
            sink.close()
    files.update({name: sink.rows for name, sink in sinks.items()})
    files["readings"] = writer.rows
    return SimSummary(
        out_dir,
        len(province.enterprises),
        len(province.units),
        len(province.meters),
        len(faults),
        len(province.retrofits),
        writer.rows,
        time.perf_counter() - started,
        files,
    )


__all__ = ["FLAG", "SimSummary", "build_faults", "build_province", "simulate_to_dir"]
