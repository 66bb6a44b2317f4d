"""Special supervision (专项督查): a joint team's look at a major problem found by a joint
inspection, the "四进" supervision, the platform's monitoring, a complaint, a verification
finding, meter operation or a retrofit plan that is not carried out (issue 15).

Opened from its source (recorded once per source), started with its team, concluded with its
outcome; a conclusion may require rectification (:func:`kilnwatch.supervise.rectification.open_for`)
or a penalty (:func:`kilnwatch.supervise.penalties.propose_penalty` with ``source_item_id``).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from kilnwatch.errors import InputError, PermissionDeniedError
from kilnwatch.identity import Principal
from kilnwatch.store.models import Region, SupervisionItem
from kilnwatch.store.repos.findings import get_finding
from kilnwatch.store.repos.registry import get_enterprise
from kilnwatch.store.repos.scope import region_in_scope
from kilnwatch.supervise.access import REGULATOR_ROLES, department_of
from kilnwatch.supervise.items import NewItem, create_item, get_item

KIND = "special"
SOURCES_WITH_ITEMS = {"complaint", "rectification"}
"""Sources that are themselves items (the special supervision is linked as their child)."""


def open_special(
    session: Session,
    principal: Principal,
    *,
    source_code: str,
    source_ref: str,
    title: str,
    scope: str,
    due_on: date | None,
    enterprise_id: int | None = None,
    region_code: str | None = None,
) -> SupervisionItem:
    """Open a special supervision of an enterprise (or of a region, for a problem that spans
    enterprises) from its source, in the principal's jurisdiction.

    ``source_code`` is a code of ``sources.csv``; ``source_ref`` the problem's identifier there:
    a finding id (``verify.finding``), an item id (``complaint``, ``rectification``), a visit id
    (``inspection.visit``), or the other capability's reference (``monitoring.alert``,
    ``metering.operation``, ``retrofit.plan``, ``four_in``).
    """
    if principal.role not in REGULATOR_ROLES:
        raise PermissionDeniedError("only a supervisor opens a special supervision")
    ref = source_ref.strip()
    if not ref:
        raise InputError("a source reference is required", field="source_ref")
    parent = None
    if source_code == "verify.finding":
        if not ref.isdigit():
            raise InputError("a finding id", field="source_ref")
        enterprise_id = get_finding(session, principal, int(ref)).enterprise_id
    elif source_code in SOURCES_WITH_ITEMS:
        if not ref.isdigit():
            raise InputError("an item id", field="source_ref")
        source = get_item(session, principal, int(ref))
        if source.kind != source_code:
            raise InputError(f"item {ref} is a {source.kind}", field="source_ref")
        parent, enterprise_id = source.id, source.enterprise_id or enterprise_id
        region_code = region_code or source.region_code
    if enterprise_id is not None:
        region_code = get_enterprise(session, principal, enterprise_id).region_code
    if region_code is None or session.get(Region, region_code) is None:
        raise InputError("name an enterprise or a region", field="region_code")
    if not region_in_scope(principal, region_code):
        raise PermissionDeniedError(f"region {region_code} is outside your jurisdiction")
    new = NewItem(
        kind=KIND, title=title, source_code=source_code, source_ref=ref, region_code=region_code,
        body=scope, enterprise_id=enterprise_id, department=department_of(session, principal),
        due_on=due_on, parent_id=parent,
    )  # fmt: skip
    item, _ = create_item(session, new, actor=principal.subject)
    return item
