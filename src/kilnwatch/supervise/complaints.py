"""Complaints (举报投诉): intake from the public web form and from files, triage, link to special
supervision, reply (issue 15).

A complaint is a supervision item (received → triaged → investigating → replied → closed, or
rejected). Who complained is kept with it and shown only to the department handling it; the
enterprise complained about never sees the complaint.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.errors import ImportRejected, InputError
from kilnwatch.store.models import Enterprise, Region, SupervisionItem
from kilnwatch.supervise.items import NewItem, create_item

KIND = "complaint"
CHANNELS = ("web", "import", "phone", "letter", "email", "visit")
"""How a complaint reached the regulator (网上, 批量导入, 电话, 来信, 邮件, 来访)."""
IMPORT_COLUMNS = ("ref", "channel", "region_code", "enterprise_uscc", "subject", "body",
                  "complainant", "contact")  # fmt: skip
"""Columns of ``kilnwatch supervise import-complaints`` (docs/supervision.md)."""


@dataclass(frozen=True)
class Complaint:
    subject: str
    body: str
    channel: str
    region_code: str | None = None
    enterprise_uscc: str | None = None
    complainant: str | None = None
    contact: str | None = None
    ref: str | None = None
    """The complaint's number in the system it came from (the key of a re-import)."""


def _check(session: Session, c: Complaint) -> tuple[str, int | None]:
    if c.channel not in CHANNELS:
        raise InputError(f"unknown channel {c.channel!r}; one of {list(CHANNELS)}", field="channel")
    if not c.subject.strip():
        raise InputError("a subject is required", field="subject")
    if len(c.subject) > 300:
        raise InputError("at most 300 characters", field="subject")
    if len(c.body.strip()) < 2:
        raise InputError("say what is wrong", field="body")
    if len(c.body) > 4000:
        raise InputError("at most 4000 characters", field="body")
    for name, value in (("complainant", c.complainant), ("contact", c.contact)):
        if value and len(value) > 100:
            raise InputError("at most 100 characters", field=name)
    enterprise = None
    if c.enterprise_uscc:
        enterprise = session.scalar(
            select(Enterprise).where(Enterprise.uscc == c.enterprise_uscc.strip().upper())
        )
        if enterprise is None:
            raise InputError(f"unknown enterprise {c.enterprise_uscc}", field="enterprise_uscc")
    region = enterprise.region_code if enterprise else (c.region_code or "").strip()
    if not region or session.get(Region, region) is None:
        raise InputError(f"unknown region {region or '(empty)'}", field="region_code")
    return region, enterprise.id if enterprise else None


def receive_complaint(session: Session, c: Complaint, *, actor: str) -> SupervisionItem:
    """Record a complaint (once per ``ref``), assigned to a supervisor of its region."""
    region, enterprise_id = _check(session, c)
    new = NewItem(
        kind=KIND, title=c.subject.strip(), source_code="complaint", source_ref=c.ref or None,
        region_code=region, body=c.body.strip(), enterprise_id=enterprise_id,
    )  # fmt: skip
    item, _ = create_item(
        session, new, actor=actor, channel=c.channel,
        complainant=(c.complainant or "").strip() or None,
        complainant_contact=(c.contact or "").strip() or None,
    )  # fmt: skip
    return item


def import_complaints(session: Session, path: Path, *, actor: str) -> list[SupervisionItem]:
    """Import a CSV of complaints (:data:`IMPORT_COLUMNS`); all or nothing: any bad row refuses
    the file with every fault (file, row, field, reason)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", file=str(path)) from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("channel", "subject", "body") if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"missing columns {missing}; expected {list(IMPORT_COLUMNS)}",
                         file=path.name, row=0)  # fmt: skip
    errors: list[InputError] = []
    items = []
    for i, row in enumerate(reader, start=1):
        cells = {k: (v or "").strip() for k, v in row.items() if k}
        c = Complaint(
            subject=cells.get("subject", ""), body=cells.get("body", ""),
            channel=cells.get("channel") or "import", region_code=cells.get("region_code") or None,
            enterprise_uscc=cells.get("enterprise_uscc") or None,
            complainant=cells.get("complainant") or None, contact=cells.get("contact") or None,
            ref=f"import:{cells['ref']}" if cells.get("ref") else None,
        )  # fmt: skip
        try:
            with session.begin_nested():
                items.append(receive_complaint(session, c, actor=actor))
        except InputError as exc:
            errors.append(InputError(exc.reason, file=path.name, row=i, field=exc.location.field))
    if errors:
        raise ImportRejected(errors, file=path.name)
    return items
