"""The columns of the data files kilnwatch reads and writes (docs/formats.md).

One home for the file formats, so that the importers (:mod:`kilnwatch.ingest`), the registry
export and the simulator (:mod:`kilnwatch.sim`) agree on them without importing each other:
each :class:`FileFormat` lists its columns in canonical order (the order in which exports and
the simulator write them), which of them a file may leave out, and which are accepted on import
but never written back (a gateway's ``secret``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileFormat:
    """The columns of one kind of file.

    Parameters
    ----------
    kind : str
        The file's kind, also its name without suffix (``meters`` → ``meters.csv``).
    columns : tuple of str
        Every exported column, in canonical order.
    optional : tuple of str
        Columns a file may omit; every other column of ``columns`` is required.
    import_only : tuple of str
        Optional columns read on import and never exported (secrets).
    """

    kind: str
    columns: tuple[str, ...]
    optional: tuple[str, ...] = ()
    import_only: tuple[str, ...] = ()

    @property
    def required(self) -> frozenset[str]:
        """Columns a file must have."""
        return frozenset(self.columns) - set(self.optional)

    @property
    def accepted(self) -> frozenset[str]:
        """Every column an import reads; any other column is refused as unknown."""
        return frozenset((*self.columns, *self.import_only))

    @property
    def written(self) -> tuple[str, ...]:
        """The columns of a file that also carries the import-only ones (the simulator's)."""
        return (*self.columns, *self.import_only)


def _by_kind(*formats: FileFormat) -> dict[str, FileFormat]:
    return {f.kind: f for f in formats}


REGISTRY_FORMATS = _by_kind(
    FileFormat(
        "regions", ("code", "name_zh", "name_en", "level", "parent_code"),
        optional=("name_en", "parent_code"),
    ),
    FileFormat(
        "enterprises", ("uscc", "name", "region_code", "industry", "status"),
        optional=("status",),
    ),
    FileFormat(
        "units",
        ("enterprise_uscc", "unit_code", "name", "process", "capacity", "capacity_unit",
         "commissioned_on", "status", "level_variant", "equipment"),
        optional=("commissioned_on", "status", "level_variant", "equipment"),
    ),
    FileFormat(
        "projects",
        ("enterprise_uscc", "project_code", "name", "stage", "approval_state", "unit_codes"),
        optional=("unit_codes",),
    ),
    FileFormat(
        "gateways", ("gateway_code", "enterprise_uscc", "protocol", "mn", "hj212_compat"),
        optional=("mn", "hj212_compat"), import_only=("secret",),
    ),
    FileFormat(
        "meters",
        ("meter_code", "enterprise_uscc", "unit_code", "carrier", "level", "parent_meter_code",
         "measurement", "unit_of_measure", "accuracy_class", "calibrated_on",
         "calibration_due_on", "gateway_code", "hj212_code", "water_source"),
        optional=("unit_code", "parent_meter_code", "accuracy_class", "calibrated_on",
                  "calibration_due_on", "gateway_code", "hj212_code", "water_source"),
    ),
)  # fmt: skip
"""Registry files in dependency order (a file may refer to rows of the files before it)."""

EXTERNAL_SOURCE_FORMATS = _by_kind(
    FileFormat("statistical_reports", ("enterprise_uscc", "period", "item", "quantity", "unit")),
    FileFormat(
        "tax_invoices",
        ("invoice_no", "enterprise_uscc", "issued_on", "direction", "item", "quantity", "unit",
         "amount_cny"),
    ),
    FileFormat(
        "logistics",
        ("waybill_no", "enterprise_uscc", "shipped_on", "direction", "mode", "item",
         "quantity_t"),
    ),
    FileFormat("grid_electricity", ("enterprise_uscc", "period", "electricity_kwh")),
    FileFormat("market_prices", ("period", "item", "price_cny_per_unit", "unit")),
)  # fmt: skip
"""External sources (外部数据): statistics, VAT invoices, waybills, grid totals, prices."""

PROJECT_CONTROL_FORMATS = _by_kind(
    FileFormat(
        "project_details",
        ("enterprise_uscc", "project_code", "capacity", "capacity_unit", "replacement_kind",
         "replacement_ratio", "coal_t_per_year"),
        optional=("capacity", "capacity_unit", "replacement_kind", "replacement_ratio",
                  "coal_t_per_year"),
    ),
    FileFormat(
        "project_approvals",
        ("enterprise_uscc", "project_code", "kind", "status", "authority", "document_no",
         "issued_on"),
        optional=("authority", "document_no", "issued_on"),
    ),
    FileFormat(
        "capacity_replacements",
        ("enterprise_uscc", "project_code", "source_name", "capacity", "capacity_unit",
         "retired_on", "document_no"),
        optional=("retired_on", "document_no"),
    ),
    FileFormat(
        "coal_substitutions",
        ("enterprise_uscc", "project_code", "source_kind", "source_name", "coal_t_per_year",
         "achieved_on", "document_no"),
        optional=("achieved_on", "document_no"),
    ),
    FileFormat(
        "production_caps",
        ("enterprise_uscc", "period", "product", "output_t", "energy_tce", "coal_t",
         "document_no"),
        optional=("output_t", "energy_tce", "coal_t", "document_no"),
    ),
    FileFormat(
        "resident_supervisors",
        ("enterprise_uscc", "name", "department", "assigned_by_region", "assigned_on",
         "username"),
        optional=("username",),
    ),
)  # fmt: skip
"""Project control files (docs/projects.md), in dependency order, in a ``projects/`` folder:
details, approvals and ledgers of registry projects, production caps, resident supervisors."""

READINGS_FORMAT = FileFormat(
    "readings", ("meter_code", "ts", "value", "unit", "flag"), optional=("unit", "flag"),
    import_only=("ts_convention",),
)  # fmt: skip
"""Readings files and payloads (CSV, Parquet, JSON objects); a file may say per row whether its
``ts`` stamps the end (default) or the start of the interval (``ts_convention``)."""

PERMITS_FORMAT = FileFormat(
    "permits",
    ("enterprise_uscc", "unit_code", "permit_no", "pollutant", "concentration_mg_m3",
     "o2_ref_pct", "annual_t", "valid_from", "valid_to"),
    optional=("unit_code", "concentration_mg_m3", "o2_ref_pct", "annual_t"),
)  # fmt: skip
"""Pollutant discharge permits (排污许可证): one row per permit, stack and pollutant."""

METERING_FORMATS = _by_kind(
    FileFormat(
        "metering_points",
        ("enterprise_uscc", "point_code", "name", "level", "carrier", "unit_code", "meter_code",
         "accuracy_variant", "planned_on"),
        optional=("unit_code", "meter_code", "accuracy_variant", "planned_on"),
    ),
    FileFormat(
        "meter_calibrations",
        ("meter_code", "certificate_no", "calibrated_on", "due_on", "issuer", "result",
         "certificate_file"),
        optional=("certificate_file",),
    ),
)  # fmt: skip
"""The metering census (docs/metering.md): required instrument positions, calibration
certificates."""
