"""The data-quality page shows the forwarding queues (``forward/``) of the user's jurisdiction:
frames waiting, acknowledged and dead per upstream target, the newest error; other
jurisdictions see nothing of them."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pages_support import PASSWORD, sign_in
from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.forward.queue import enqueue_new, mark_acked, mark_failed
from kilnwatch.forward.targets import read_targets, save_targets, target_by_name
from kilnwatch.identity import Role
from kilnwatch.store.models import ForwardFrame
from kilnwatch.store.repos.users import add_user

sys.path.insert(0, str(Path(__file__).parents[1] / "forward"))
from forward_support import NOW, add_readings, load_platform_registry, targets_toml  # noqa: E402


@pytest.fixture
def forwarded(session: Session, tmp_path: Path) -> None:
    """Jinan's emission monitor forwarded to the target "city": five frames, one
    acknowledged, one failed once and one dead."""
    load_platform_registry(session, tmp_path)
    save_targets(session, read_targets(targets_toml(tmp_path / "t.toml", 9999, max_attempts=1)))
    add_readings(session, range(5))
    target = target_by_name(session, "city")
    assert enqueue_new(session, target, NOW) == 5
    acked, failed, *_ = session.scalars(select(ForwardFrame).order_by(ForwardFrame.id))
    mark_acked(acked, NOW)
    assert mark_failed(failed, target, NOW, "no ACK within 5 s", random.Random(1))
    for name, role, region in (("jinan", Role.CITY, "370100"), ("qingdao", Role.CITY, "370200")):
        add_user(session, name, PASSWORD, role, region_code=region)
    session.commit()


def test_quality_page_shows_the_forwarding_queue_of_the_jurisdiction(
    client: TestClient, forwarded: None
) -> None:
    sign_in(client, "jinan")
    page = client.get("/quality")
    assert page.status_code == 200 and "数据转发队列" in page.text
    csv = client.get("/quality?format=csv&table=forwarding").text.lstrip("\ufeff").splitlines()
    assert len(csv) == 2, csv
    row = dict(zip(csv[0].split(","), csv[1].split(","), strict=True))
    assert (row["目标平台"], row["地址"], row["待发送"], row["已确认"], row["死信"]) == (
        "city", "127.0.0.1:9999", "3", "1", "1")  # fmt: skip
    assert row["最近错误"] == "no ACK within 5 s"
    client.cookies.clear()
    sign_in(client, "qingdao")
    assert "辖区内没有转发的数据" in client.get("/quality").text
