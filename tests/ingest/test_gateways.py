"""One gateway directory for every protocol: entries from the registry, reloads, HTTP's read."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from kilnwatch.identity import hash_secret
from kilnwatch.ingest.gateways import GatewayDirectory, SecretCheck, gateway_by_code
from kilnwatch.ingest.registry import import_registry
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import Enterprise, Gateway

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"


def test_directories_by_code_and_by_mn_follow_the_registry(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with unit_of_work(factory) as s:
        import_registry(s, REGISTRY)
    hj212 = GatewayDirectory(factory, "hj212", by="mn", miss_reload_s=None)
    device = hj212.lookup("88888880000001")
    assert device is not None and device.gateway.code == "GW-JN-212"
    assert dict(device.hj212_meters) == {"a21026": "M-JN-SO2"}
    assert hj212.lookup("GW-JN-212") is None  # keyed by MN
    mqtt = GatewayDirectory(factory, "mqtt", miss_reload_s=0.0)
    assert mqtt.lookup("GW-NEW") is None
    with unit_of_work(factory) as s:
        owner = s.scalars(select(Enterprise)).first()
        assert owner is not None
        s.add(Gateway(code="GW-NEW", enterprise_id=owner.id, protocol="mqtt"))
    generation = mqtt.generation
    found = mqtt.lookup("GW-NEW")  # a miss reloads (here at once; by default once a second)
    assert found is not None and found.gateway.protocol == "mqtt"
    assert mqtt.generation == generation + 1
    assert hj212.lookup("GW-NEW") is None and hj212.generation == 1  # HJ 212: no miss reload


def test_http_reads_its_gateway_now_and_one_secret_check_serves(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with unit_of_work(factory) as s:
        import_registry(s, REGISTRY)
    check = SecretCheck()
    with factory() as s:
        entry = gateway_by_code(s, "GW-JN-01")
        assert entry is not None and check.verify("s3cret-jn-01", entry.secret_hash)
    with unit_of_work(factory) as s:
        gateway = s.scalars(select(Gateway).where(Gateway.code == "GW-JN-01")).one()
        gateway.secret_hash = hash_secret("rotated")
    with factory() as s:
        entry = gateway_by_code(s, "GW-JN-01")
        assert entry is not None
        assert not check.verify("s3cret-jn-01", entry.secret_hash)  # rotation applies at once
        assert check.verify("rotated", entry.secret_hash)
    with unit_of_work(factory) as s:
        s.scalars(select(Gateway).where(Gateway.code == "GW-JN-01")).one().active = False
    with factory() as s:
        assert gateway_by_code(s, "GW-JN-01") is None
    assert check.checks == 3
