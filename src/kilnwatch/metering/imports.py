"""Census import: metering points and calibration certificates from CSV/XLSX (docs/metering.md).

Same rules as every table importer (:mod:`kilnwatch.ingest.tables`): each fault is reported as
``FILE, row N, field 'X': reason``; all-or-nothing unless ``skip_invalid``; rows are upserted
by their natural key (enterprise + point code; meter + certificate number), so re-importing is
harmless. A certificate later than a meter's current calibration also moves the meter's
``calibrated_on`` / ``calibration_due_on`` (the registry keeps the current state). Nothing is
committed here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.errors import ReferenceDataError
from kilnwatch.formats import METERING_FORMATS
from kilnwatch.ingest.tables import (
    CheckedRows,
    Record,
    TableImportReport,
    TableKind,
    TableRow,
    TextEncoding,
    import_tables,
)
from kilnwatch.reference.metering import LEVELS, accuracy_requirement
from kilnwatch.store.models import (
    Meter,
    MeterCalibration,
    MeteringPoint,
)
from kilnwatch.store.repos.registry import enterprise_ids_by_uscc, unit_ids_by_code
from kilnwatch.store.repos.sources import upsert_by_key

RESULTS = ("pass", "conditional", "fail")
_CARRIER = re.compile(r"^(product:)?[a-z][a-z0-9_]{1,38}$")


@dataclass(frozen=True)
class _Known:
    enterprises: dict[str, int]
    units: dict[tuple[int, str], int]
    meters: dict[str, tuple[int, int, str, str]]  # code -> (id, enterprise id, carrier, level)
    linked: dict[int, tuple[int, str]]  # meter id -> (enterprise id, point code) in the store


def _known(session: Session) -> _Known:
    return _Known(
        enterprise_ids_by_uscc(session),
        unit_ids_by_code(session),
        {c: (i, e, k, lv) for i, c, e, k, lv in session.execute(
            select(Meter.id, Meter.code, Meter.enterprise_id, Meter.carrier, Meter.level))},
        {m: (e, c) for m, e, c in session.execute(  # meter_id is set by the where clause
            select(MeteringPoint.meter_id, MeteringPoint.enterprise_id, MeteringPoint.code)
            .where(MeteringPoint.meter_id.is_not(None))) if m is not None},
    )  # fmt: skip


def _point(r: TableRow, known: _Known) -> Record:
    ent = known.enterprises.get(r.enterprise(known.enterprises), 0)
    carrier = r.pattern("carrier", _CARRIER, "a carrier key")
    level = r.choice("level", LEVELS)
    record: Record = {
        "enterprise_id": ent,
        "code": r.key("point_code"),
        "name": r.text("name"),
        "level": level,
        "carrier": carrier,
        "unit_id": None,
        "meter_id": None,
        "accuracy_variant": r.optional("accuracy_variant"),
        "planned_on": r.date("planned_on"),
    }
    if (unit := r.optional("unit_code")) and ent:
        record["unit_id"] = known.units.get((ent, unit))
        if record["unit_id"] is None:
            r.fail("unit_code", f"unknown unit {unit} of this enterprise")
    if (code := r.optional("meter_code")) and ent:
        record["meter_id"] = _meter_of_point(r, known, code, ent, carrier, level)
    if record["accuracy_variant"] and carrier:
        try:
            accuracy_requirement(carrier, level, record["accuracy_variant"])
        except ReferenceDataError as exc:
            r.fail("accuracy_variant", str(exc))
    return record


def _meter_of_point(
    r: TableRow, known: _Known, code: str, ent: int, carrier: str, level: str
) -> int | None:
    meter = known.meters.get(code)
    if meter is None:
        r.fail("meter_code", f"unknown meter {code}")
        return None
    meter_id, meter_ent, meter_carrier, meter_level = meter
    if meter_ent != ent:
        r.fail("meter_code", f"meter {code} belongs to another enterprise")
    elif (meter_carrier, meter_level) != (carrier, level):
        r.fail("meter_code", f"meter {code} measures {meter_carrier} at level {meter_level}")
    linked = known.linked.get(meter_id)
    if linked is not None and linked != (ent, r.raw.get("point_code", "")):
        r.fail("meter_code", f"meter {code} already answers point {linked[1]}")
    return meter_id


def _points_across(checked: CheckedRows) -> None:
    """A meter answers one point only (also within one file)."""
    seen: dict[int, int] = {}
    for row, record in checked:
        meter = record.get("meter_id")
        if meter is None:
            continue
        if meter in seen:
            row.fail("meter_code", f"meter also named on row {seen[meter]}")
        seen.setdefault(meter, row.number)


def _calibration(r: TableRow, known: _Known) -> Record:
    code = r.key("meter_code")
    meter = known.meters.get(code)
    if code and meter is None:
        r.fail("meter_code", f"unknown meter {code}")
    on, due = r.date("calibrated_on", required=True), r.date("due_on", required=True)
    if on and due and due <= on:
        r.fail("due_on", f"{due} is not after the calibration date {on}")
    return {
        "meter_id": meter[0] if meter else 0,
        "certificate_no": r.key("certificate_no"),
        "calibrated_on": on,
        "due_on": due,
        "issuer": r.text("issuer"),
        "result": r.choice("result", RESULTS),
        "certificate_file": r.optional("certificate_file"),
    }


def _kinds(known: _Known) -> dict[str, TableKind]:
    return {
        "metering_points": TableKind(
            METERING_FORMATS["metering_points"], lambda r: _point(r, known),
            ("enterprise_id", "code"), "point_code", _points_across,
        ),
        "meter_calibrations": TableKind(
            METERING_FORMATS["meter_calibrations"], lambda r: _calibration(r, known),
            ("meter_id", "certificate_no"), "certificate_no",
        ),
    }  # fmt: skip


def _current_calibration(session: Session, rows: list[Record]) -> None:
    """Move each meter's current calibration to its latest certificate."""
    latest: dict[int, Record] = {}
    for row in rows:
        if (
            row["meter_id"] not in latest
            or row["calibrated_on"] > latest[row["meter_id"]]["calibrated_on"]
        ):
            latest[row["meter_id"]] = row
    for meter in session.scalars(select(Meter).where(Meter.id.in_(list(latest)))):
        cert = latest[meter.id]
        if meter.calibrated_on is None or cert["calibrated_on"] >= meter.calibrated_on:
            meter.calibrated_on, meter.calibration_due_on = cert["calibrated_on"], cert["due_on"]
    session.flush()


def import_metering(
    session: Session,
    path: Path,
    *,
    kind: str | None = None,
    skip_invalid: bool = False,
    encoding: TextEncoding | None = None,
) -> TableImportReport:
    """Import census files (``metering_points``, ``meter_calibrations``; a file or a folder).

    Raises
    ------
    ImportRejected
        A row is invalid and ``skip_invalid`` is not set: nothing is written.
    """
    kinds = _kinds(_known(session))

    def store(kind: str, records: list[Record]) -> tuple[int, int]:
        if kind == "metering_points":
            return upsert_by_key(session, MeteringPoint, ("enterprise_id", "code"), records)
        counts = upsert_by_key(session, MeterCalibration, ("meter_id", "certificate_no"), records)
        _current_calibration(session, records)
        return counts

    return import_tables(path, kinds, "metering census", store, TableImportReport(), kind=kind,
                         skip_invalid=skip_invalid, encoding=encoding)  # fmt: skip
