"""Uploads scoped to the uploader's jurisdiction: which kinds a user may upload, and which rows
of an uploaded file name something outside the jurisdiction.

The importers (``ingest/``) are not scoped: a registry file may name any region, a readings
file any meter. A page upload is therefore checked first, row by row, against
``store/repos/scope.py``: a readings row whose meter, or a registry or source row whose
enterprise, is not the user's refuses the whole file (nothing is stored), each such row
reported with file, row, field and reason. A code that exists outside the jurisdiction and a
code that does not exist get the same answer, so the check does not tell what exists
elsewhere (docs/architecture.md, "Transactions and scoping").
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from kilnwatch.domain.identifiers import region_prefix
from kilnwatch.errors import InputError
from kilnwatch.identity import Principal, Role
from kilnwatch.ingest.tables.read import read_table
from kilnwatch.store.models import Enterprise, Meter
from kilnwatch.store.repos.scope import enterprise_scope
from kilnwatch.web.i18n import Translator

KINDS = ("registry", "readings", "sources")
OUTSIDE = "upload.outside_jurisdiction"
ENTERPRISE_KINDS = ("readings", "sources")
"""An enterprise reports its own readings and source data; the registry is the regulator's."""


def upload_kinds(principal: Principal | None) -> tuple[str, ...]:
    """What ``principal`` may upload: administrators and region users who may change the
    registry everything (within their region), an enterprise its readings and sources,
    inspectors and auditors nothing."""
    if principal is None:
        return ()
    if principal.may_write_registry:
        return KINDS
    return ENTERPRISE_KINDS if principal.role is Role.ENTERPRISE else ()


def may_upload(principal: Principal | None) -> bool:
    return bool(upload_kinds(principal))


def outside_scope(
    session: Session, principal: Principal, kind: str, path: Path, t: Translator
) -> list[InputError]:
    """The rows of ``path`` that name a meter or an enterprise outside the jurisdiction of
    ``principal`` (none for an administrator), the reasons in the user's language."""
    if principal.sees_everything:
        return []
    if kind == "readings":
        rows = list(_column(path, "meter_code"))
        mine = _in_scope(session, principal, Meter.code, {v for _, v in rows})
        return [_refused(path, n, "meter_code", v, t) for n, v in rows if v not in mine]
    if kind == "registry" and _has_columns(path, "uscc", "region_code"):
        return _enterprises_outside(session, principal, path, t)
    rows = list(_column(path, "enterprise_uscc"))
    mine = _in_scope(session, principal, Enterprise.uscc, {v for _, v in rows})
    return [_refused(path, n, "enterprise_uscc", v, t) for n, v in rows if v not in mine]


def _refused(path: Path, row: int, field: str, value: str, t: Translator) -> InputError:
    reason = t("upload.outside_jurisdiction", what=t(f"upload.what.{field}"), value=value)
    return InputError(reason, file=path.name, row=row, field=field, code=OUTSIDE)


def _column(path: Path, column: str) -> Iterable[tuple[int, str]]:
    """(data row number, value) of ``column``; nothing when the file has no such column (the
    importer then names the missing column)."""
    if path.suffix.lower() == ".parquet":
        import polars as pl

        frame = pl.read_parquet(path)
        if column not in frame.columns:
            return []
        values = frame.get_column(column).cast(pl.Utf8).to_list()
        return ((i + 1, str(v or "").strip()) for i, v in enumerate(values))
    table = read_table(path)
    if column not in table.columns:
        return []
    return ((i + 1, row[column]) for i, row in enumerate(table.rows))


def _in_scope(
    session: Session, principal: Principal, key: InstrumentedAttribute[str], values: set[str]
) -> set[str]:
    """The ``values`` of ``key`` (a meter's or an enterprise's code) that are in scope."""
    if not values:
        return set()
    stmt = select(key).where(key.in_(sorted(values)), enterprise_scope(principal))
    if key is Meter.code:
        stmt = stmt.join(Enterprise, Enterprise.id == Meter.enterprise_id)
    return set(session.scalars(stmt))


def _has_columns(path: Path, *columns: str) -> bool:
    return path.suffix.lower() != ".parquet" and set(columns) <= set(read_table(path).columns)


def _enterprises_outside(
    session: Session, principal: Principal, path: Path, t: Translator
) -> list[InputError]:
    """Rows of the registry's enterprises file a region user may not import: a region code
    outside the user's region, or an enterprise registered outside the jurisdiction (a row
    would move it)."""
    prefix = region_prefix(principal.region_code or "--")
    rows = read_table(path).rows
    usccs = {r["uscc"] for r in rows}
    known = set(session.scalars(select(Enterprise.uscc).where(Enterprise.uscc.in_(sorted(usccs)))))
    mine = _in_scope(session, principal, Enterprise.uscc, usccs)
    errors = []
    for n, r in enumerate(rows, start=1):
        if not r["region_code"].startswith(prefix):
            errors.append(_refused(path, n, "region_code", r["region_code"], t))
        elif r["uscc"] in known and r["uscc"] not in mine:
            errors.append(_refused(path, n, "uscc", r["uscc"], t))
    return errors
