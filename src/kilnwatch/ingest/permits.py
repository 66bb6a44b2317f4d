"""Importer of pollutant discharge permits (排污许可证; columns:
:data:`kilnwatch.formats.PERMITS_FORMAT`, docs/emissions.md).

A row gives one permit's terms for one stack (``unit_code`` of the enterprise; empty for the
whole enterprise) and pollutant: the permitted concentration [mg/m3] at ``o2_ref_pct`` (empty:
the standard's reference O2) and the permitted annual quantity [t]. Same rules as every table
importer (:mod:`kilnwatch.ingest.tables`): faults name file, row and field; all-or-nothing
unless ``skip_invalid``; rows are upserted by (enterprise, unit, pollutant, valid_from).
Nothing is committed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.orm import Session

from kilnwatch.formats import PERMITS_FORMAT
from kilnwatch.ingest.tables import (
    Record,
    TableImportReport,
    TableKind,
    TableRow,
    TextEncoding,
    import_tables,
)
from kilnwatch.reference.emissions import POLLUTANTS
from kilnwatch.store.models import EmissionPermit
from kilnwatch.store.repos.registry import enterprise_ids_by_uscc, unit_ids_by_code
from kilnwatch.store.repos.sources import upsert_by_key

KEY = ("enterprise_id", "unit_id", "pollutant", "valid_from")
O2_MAX_PCT = 21.0  # O2 share of air: no reference O2 above it


def _check(r: TableRow, usccs: Mapping[str, int], units: Mapping[tuple[int, str], int]) -> Record:
    enterprise_id = usccs.get(r.enterprise(usccs), 0)
    unit_code = r.optional("unit_code")
    unit_id = None
    if unit_code:
        unit_id = units.get((enterprise_id, unit_code))
        if unit_id is None and enterprise_id:
            r.fail("unit_code", f"no production unit {unit_code!r} in this enterprise")
    o2 = r.optional_non_negative("o2_ref_pct")
    if o2 is not None and o2 >= O2_MAX_PCT:
        r.fail("o2_ref_pct", "must be below 21 % (the O2 of air)")
    valid_from, valid_to = r.date("valid_from", required=True), r.date("valid_to", required=True)
    if valid_from and valid_to and valid_to < valid_from:
        r.fail("valid_to", "is before valid_from")
    record: Record = {
        "enterprise_id": enterprise_id,
        "unit_id": unit_id,
        "permit_no": r.key("permit_no"),
        "pollutant": r.choice("pollutant", POLLUTANTS),
        "concentration_mg_m3": r.optional_non_negative("concentration_mg_m3"),
        "o2_ref_pct": o2,
        "annual_t": r.optional_non_negative("annual_t"),
        "valid_from": valid_from,
        "valid_to": valid_to,
    }
    if record["concentration_mg_m3"] is None and record["annual_t"] is None:
        r.fail("concentration_mg_m3", "a permit row needs a concentration or an annual quantity")
    return record


def import_permits(
    session: Session,
    path: Path,
    *,
    skip_invalid: bool = False,
    encoding: TextEncoding | None = None,
) -> TableImportReport:
    """Import a permits file (CSV/XLSX). Raises :class:`~kilnwatch.errors.ImportRejected`
    (writing nothing) when any row is invalid, unless ``skip_invalid``."""
    usccs, units = enterprise_ids_by_uscc(session), unit_ids_by_code(session)
    kind = TableKind(PERMITS_FORMAT, lambda row: _check(row, usccs, units), KEY, "valid_from")
    return import_tables(
        path, {"permits": kind}, "permits",
        lambda _k, recs: upsert_by_key(session, EmissionPermit, KEY, recs),
        TableImportReport(), kind="permits", skip_invalid=skip_invalid, encoding=encoding,
    )  # fmt: skip
