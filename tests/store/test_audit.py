"""The audit trail: changes logged in their own transaction, secrets never logged, and every
kind of tampering (edit, insert, delete, cut tail) named by the chain check."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session

from kilnwatch.identity import Role
from kilnwatch.store.audit import ACTOR_KEY, ENTRY_COLUMNS, SECRET, chain_hash, check_chain
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import AuditEntry, Enterprise, IngestBatch
from kilnwatch.store.repos.users import add_user


def _changes(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with unit_of_work(factory) as s:
        s.info[ACTOR_KEY] = "jinan_admin"
        s.add(
            Enterprise(
                uscc="91370100MA3C4XY21E", name="甲钢铁", region_code="370100", industry="steel"
            )
        )
        s.add(
            Enterprise(
                uscc="91370200163562681G", name="乙焦化", region_code="370200", industry="coking"
            )
        )
    with unit_of_work(factory) as s:
        ent = s.scalars(select(Enterprise).where(Enterprise.industry == "steel")).one()
        ent.name = "甲钢铁集团"
        ent.status = "operating"  # unchanged value: not a change
    with unit_of_work(factory) as s:
        s.delete(s.scalars(select(Enterprise).where(Enterprise.industry == "coking")).one())


def _entries(engine: Engine) -> list[AuditEntry]:
    with make_session_factory(engine)() as s:
        return list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def test_changes_are_logged_with_actor_and_values(engine: Engine) -> None:
    _changes(engine)
    entries = _entries(engine)
    assert [(e.seq, e.action, e.table_name) for e in entries] == [
        (1, "insert", "enterprises"),
        (2, "insert", "enterprises"),
        (3, "update", "enterprises"),
        (4, "delete", "enterprises"),
    ]
    assert entries[0].actor == "jinan_admin" and entries[2].actor == "system"
    assert entries[2].changes == {"name": ["甲钢铁", "甲钢铁集团"]}
    assert entries[3].changes["name"] == "乙焦化"
    with make_session_factory(engine)() as s:
        check = check_chain(s)
    assert check.intact and check.entries == 4 and check.head_seq == 4


def test_rolled_back_changes_leave_no_entry_and_operational_rows_none(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with pytest.raises(RuntimeError), unit_of_work(factory) as s:
        s.add(
            Enterprise(uscc="91370100MA3C4XY21E", name="甲", region_code="370100", industry="steel")
        )
        s.flush()
        raise RuntimeError("import failed half way")
    with unit_of_work(factory) as s:
        s.add(IngestBatch(source=1, source_ref="file.csv", received_at=datetime.now(UTC)))
    assert _entries(engine) == []


def test_secrets_are_never_logged(engine: Engine) -> None:
    with unit_of_work(make_session_factory(engine)) as s:
        add_user(s, "auditor1", "correct-horse-9", Role.AUDITOR, region_code="370000")
    (entry,) = _entries(engine)
    assert entry.changes["password_hash"] == SECRET
    assert "correct-horse" not in str(entry.changes)


def _tamper(engine: Engine, statement: object) -> None:
    with engine.begin() as conn:
        conn.execute(statement)  # type: ignore[call-overload]


def _check(engine: Engine, head: tuple[int, str] | None = None) -> tuple[int, str] | None:
    with make_session_factory(engine)() as s:
        b = check_chain(s, expected_head=head).broken
    return None if b is None else (b.seq, b.code)


def test_edited_entry_is_named(engine: Engine) -> None:
    _changes(engine)
    _tamper(engine, update(AuditEntry).where(AuditEntry.seq == 3).values(actor="someone_else"))
    assert _check(engine) == (3, "audit.entry_edited")


def test_deleted_entry_is_named(engine: Engine) -> None:
    _changes(engine)
    _tamper(engine, delete(AuditEntry).where(AuditEntry.seq == 2))
    assert _check(engine) == (2, "audit.entry_missing")


def _copy(entry: AuditEntry, **changed: object) -> AuditEntry:
    fields = {c: getattr(entry, c) for c in (*ENTRY_COLUMNS, "prev_hash", "entry_hash")}
    return AuditEntry(**(fields | changed))


def test_inserted_entry_is_named(engine: Engine) -> None:
    _changes(engine)
    with make_session_factory(engine)() as s:
        rows = list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        s.expunge_all()
    # shift entries 3 and 4 up and slip in at 3 a forged entry whose own hash is right
    _tamper(engine, delete(AuditEntry).where(AuditEntry.seq >= 3))
    forged = _copy(rows[2], seq=3, changes={"name": ["x", "y"]}, prev_hash=rows[1].entry_hash)
    forged.entry_hash = chain_hash(forged.prev_hash, forged)
    with unit_of_work(make_session_factory(engine)) as s:
        s.add_all([forged, *(_copy(r, seq=r.seq + 1) for r in rows[2:])])
    assert _check(engine) == (4, "audit.chain_broken")


def test_cut_tail_is_found_against_the_kept_head(engine: Engine) -> None:
    _changes(engine)
    with make_session_factory(engine)() as s:
        head = (check_chain(s).head_seq, check_chain(s).head_hash)
    assert _check(engine, head) is None
    _tamper(engine, delete(AuditEntry).where(AuditEntry.seq == 4))
    assert _check(engine) is None  # a clean cut looks intact on its own...
    assert _check(engine, head) == (4, "audit.head_missing")  # ...but not against the head


def test_one_chain_for_concurrent_sessions(engine: Engine) -> None:
    factory = make_session_factory(engine)
    a, b = factory(), factory()
    try:
        a.add(
            Enterprise(uscc="91370100MA3C4XY21E", name="甲", region_code="370100", industry="steel")
        )
        a.commit()
        b.add(
            Enterprise(
                uscc="91370200163562681G", name="乙", region_code="370200", industry="coking"
            )
        )
        b.commit()
    finally:
        a.close()
        b.close()
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 2
        assert check_chain(s).intact


def test_an_empty_log_is_intact(session: Session) -> None:
    assert check_chain(session).entries == 0


def test_every_short_lived_factory_logs(engine: Engine) -> None:
    # a factory made at the address of a collected one was once taken for it and not audited
    # (an enterprise, not a user: a user's password hash costs ~0.15 s, and 40 rounds are needed)
    for i in range(40):
        with unit_of_work(make_session_factory(engine)) as s:
            s.add(Enterprise(uscc=f"91370100MA{i:08d}", name=f"企业{i}", region_code="370100",
                             industry="steel"))  # fmt: skip
    with make_session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 40
