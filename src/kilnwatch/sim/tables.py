"""Column lists of every file the simulator writes (as in docs/formats.md) and registry rows."""

from __future__ import annotations

from kilnwatch.domain.obsolete import format_equipment
from kilnwatch.formats import (
    EXTERNAL_SOURCE_FORMATS,
    METERING_FORMATS,
    READINGS_FORMAT,
    REGISTRY_FORMATS,
)
from kilnwatch.sim.census import LABEL_COLUMNS as METERING_LABEL_COLUMNS
from kilnwatch.sim.model import Province
from kilnwatch.sim.processes import PROCESS_SPECS, anchor_for
from kilnwatch.sim.sources import fmt


def _variant(process: str, capacity: float) -> str:
    anchor = anchor_for(process, capacity)
    return anchor.variant if anchor else ""


REGISTRY_FILES = ("enterprises", "units", "projects", "gateways", "meters")
SOURCE_FILES = tuple(EXTERNAL_SOURCE_FORMATS)
COLUMNS: dict[str, tuple[str, ...]] = {
    **{k: REGISTRY_FORMATS[k].written for k in REGISTRY_FILES},
    "readings": READINGS_FORMAT.columns,
    **{k: f.columns for k, f in EXTERNAL_SOURCE_FORMATS.items()},
    "retrofits": (
        "enterprise_uscc",
        "unit_code",
        "effective_on",
        "planned_saving_fraction",
        "true_saving_fraction",
        "delivered",
    ),
    "unit_truth": (
        "enterprise_uscc",
        "unit_code",
        "indicator_unit",
        "true_intensity",
        "efficiency_class",
        "usual_load_fraction",
        "anchor_source",
    ),
    **{k: f.columns for k, f in METERING_FORMATS.items()},
    "metering_labels": METERING_LABEL_COLUMNS,
    "labels": (
        "fault_id",
        "kind",
        "enterprise_uscc",
        "meter_code",
        "unit_code",
        "start",
        "end",
        "magnitude_fraction",
        "detail",
    ),
}

Rows = list[dict[str, str]]


def registry_rows(p: Province) -> dict[str, Rows]:
    """Rows of the five registry files."""
    uscc = {e.idx: e.uscc for e in p.enterprises}
    units = {u.idx: u for u in p.units}
    meters = p.meters
    return {
        "enterprises": [
            {
                "uscc": e.uscc,
                "name": e.name,
                "region_code": e.region_code,
                "industry": e.industry,
                "status": e.status,
            }
            for e in p.enterprises
        ],
        "units": [
            {
                "enterprise_uscc": uscc[u.ent_idx],
                "unit_code": u.unit_code,
                "name": u.name,
                "process": u.process,
                "capacity": fmt(u.capacity, 1),
                "capacity_unit": PROCESS_SPECS[u.process].capacity_unit,
                "commissioned_on": u.commissioned_on.isoformat(),
                "status": u.status,
                "level_variant": _variant(u.process, u.capacity),
                "equipment": format_equipment(u.equipment),
            }
            for u in p.units
        ],
        "projects": [
            {
                "enterprise_uscc": uscc[j.ent_idx],
                "project_code": j.project_code,
                "name": j.name,
                "stage": j.stage,
                "approval_state": j.approval_state,
                "unit_codes": ";".join(j.unit_codes),
            }
            for j in p.projects
        ],
        "gateways": [
            {
                "gateway_code": g.gateway_code,
                "enterprise_uscc": uscc[g.ent_idx],
                "protocol": g.protocol,
                "mn": g.mn,
                "secret": g.secret,
            }
            for g in p.gateways
        ],
        "meters": [
            {
                "meter_code": m.code,
                "enterprise_uscc": uscc[m.ent_idx],
                "unit_code": units[m.unit_idx].unit_code if m.unit_idx >= 0 else "",
                "carrier": m.carrier,
                "level": m.level,
                "parent_meter_code": meters[m.parent_idx].code if m.parent_idx >= 0 else "",
                "measurement": m.measurement,
                "unit_of_measure": m.uom,
                "accuracy_class": m.accuracy_class,
                "calibrated_on": m.calibrated_on.isoformat(),
                "calibration_due_on": m.calibration_due_on.isoformat(),
                "gateway_code": m.gateway_code,
                "hj212_code": m.hj212_code,
                "water_source": m.water_source,
            }
            for m in meters
        ],
    }


def retrofit_rows(p: Province) -> Rows:
    """Rows of ``retrofits.csv``."""
    return [
        {
            "enterprise_uscc": p.enterprises[r.ent_idx].uscc,
            "unit_code": p.units[r.unit_idx].unit_code,
            "effective_on": r.effective_on.isoformat(),
            "planned_saving_fraction": fmt(r.planned_saving_fraction, 4),
            "true_saving_fraction": fmt(r.true_saving_fraction, 4),
            "delivered": "true" if r.delivered else "false",
        }
        for r in p.retrofits
    ]


def unit_truth_rows(p: Province) -> Rows:
    """Rows of ``unit_truth.csv``: each unit's true indicator before retrofits and its class."""
    rows = []
    for u in p.units:
        anchor = anchor_for(u.process, u.capacity)
        rows.append(
            {
                "enterprise_uscc": p.enterprises[u.ent_idx].uscc,
                "unit_code": u.unit_code,
                "indicator_unit": u.indicator,
                "true_intensity": fmt(u.intensity, 4),
                "efficiency_class": u.efficiency_class,
                "usual_load_fraction": fmt(u.base_util, 4),
                "anchor_source": anchor.source if anchor is not None else "no confirmed level",
            }
        )
    return rows
