"""Devices with skewed clocks (issue 22): readings stamped beyond the future tolerance, or —
when ``KILNWATCH_INGEST_DEVICE_MAX_AGE_S`` is set — older than a device may deliver (a logger
whose clock was reset), are refused with a stable code, counted in the answer and kept as
dead letters; readings within the tolerances are stored; an operator's file import of old
history is not limited. Figure: readings sent per skew, stored, refused by code."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from fault_ingest import SECRET, add_target, stored
from sqlalchemy import select

from kilnwatch.config import Settings
from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.validate import RawReading, ValidationPolicy
from kilnwatch.store.engine import make_engine, make_session_factory
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.models import DeadLetter
from kilnwatch.web.app import create_app

PER_SKEW = 50
MAX_AGE_S = 30 * 86400


def _batch(code: str, start: datetime) -> dict[str, object]:
    stamps = [(start + timedelta(seconds=i)).isoformat() for i in range(PER_SKEW)]
    return {"readings": [{"meter_code": code, "unit": "m3", "value": 1.0, "ts": ts}
                         for ts in stamps]}  # fmt: skip


def test_skewed_device_clocks_are_refused_with_a_stable_code_and_counted(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'kw.sqlite'}", environment="test",
                        var_dir=tmp_path, ingest_device_max_age_s=MAX_AGE_S)  # fmt: skip
    engine = make_engine(settings)
    upgrade(engine)
    target = add_target(engine, "http")
    now = datetime.now(UTC).replace(microsecond=0)
    skews = {  # the device's clock against the platform's, and the expected outcome
        "ahead_10_min": (now + timedelta(minutes=10), "ingest.future_timestamp"),
        "ahead_4_min": (now + timedelta(minutes=4) - timedelta(seconds=PER_SKEW), None),
        "behind_1_day": (now - timedelta(days=1), None),
        "reset_to_2000": (datetime(2000, 1, 1, tzinfo=UTC), "ingest.stale_timestamp"),
        "behind_40_days": (now - timedelta(days=40), "ingest.stale_timestamp"),
    }
    answers = {}
    app = create_app(settings)
    with TestClient(app) as client:
        for name, (start, _) in skews.items():
            r = client.post("/api/v1/ingest/readings", json=_batch(target.meter_code, start),
                            auth=(target.gateway, SECRET))  # fmt: skip
            assert r.status_code == 200, r.text
            answers[name] = r.json()
    app.state.engine.dispose()
    for name, (_, code) in skews.items():
        expected = {code: PER_SKEW} if code else {}
        assert answers[name]["reasons"] == expected, name
        assert answers[name]["accepted"] == (0 if code else PER_SKEW), name
    with make_session_factory(engine)() as session:
        dead = Counter(session.scalars(select(DeadLetter.reason)))
        # an operator's file import of old history: no gateway, no age limit
        old = [RawReading(target.meter_code, datetime(2000, 1, 1, tzinfo=UTC) + timedelta(hours=i),
                          1.0, "m3", row_no=i + 1) for i in range(PER_SKEW)]  # fmt: skip
        imported = ingest_readings(session, old, "file", "history.csv",
                                   policy=ValidationPolicy.of(settings))  # fmt: skip
        session.commit()
    assert dead == {"ingest.future_timestamp": PER_SKEW, "ingest.stale_timestamp": 2 * PER_SKEW}
    assert imported.accepted == PER_SKEW
    rows, times, _ = stored(engine, target.meter_id)
    figure = {"sent_per_skew": PER_SKEW, "skews": list(skews),
              "stored": times, "doubled": rows - times, "refused": dict(dead)}  # fmt: skip
    print(f"\nFIGURE skewed_clocks: {figure}")
    assert (rows, times) == (3 * PER_SKEW, 3 * PER_SKEW)
    engine.dispose()
