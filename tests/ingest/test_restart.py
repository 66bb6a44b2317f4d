"""A receiver restart: every device answered without one scrypt per device, secrets in the
database still only as scrypt hashes (docs/ingestion.md, "Restart"). The scenario is
``benchmarks/restart.py``'s, with 12 devices."""

from __future__ import annotations

import importlib.util
import stat
from pathlib import Path

from sqlalchemy import Engine

from kilnwatch.config import Settings
from kilnwatch.identity import hash_secret
from kilnwatch.ingest.gateways import RememberedSecrets

DEVICES = 12
KEY = "a-test-secret-key-of-at-least-32-bytes"
_spec = importlib.util.spec_from_file_location(
    "bench_restart", Path(__file__).parents[2] / "benchmarks" / "restart.py"
)
assert _spec and _spec.loader
restart = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(restart)


def test_a_restarted_receiver_answers_every_device_without_scrypt(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    conf = settings.model_copy(update={"var_dir": tmp_path, "secret_key": KEY})
    restart.register(conf, DEVICES)  # each device with its own password and salt
    cold, checks = restart.run(conf, DEVICES, 0)
    assert None not in cold and checks == DEVICES
    remembered = tmp_path / "gateway-secrets.remembered.json"
    assert stat.S_IMODE(remembered.stat().st_mode) == 0o600
    text = remembered.read_text()
    assert "pw-" not in text and "scrypt$" not in text  # neither secrets nor stored hashes
    # the restart: a new receiver has nothing in memory, only the file
    warm, checks = restart.run(conf, DEVICES, 1, wrong=3)
    assert [s is not None for s in warm] == [d != 3 for d in range(DEVICES)]  # still refused
    assert checks == 1  # scrypt only for the wrong password
    # how much sooner the devices are answered is benchmarks/restart.py's figure, not a timed
    # assertion here: on a loaded machine the warm run's one scrypt and the receiver's start
    # can take longer than twelve scrypts did (a fresh-clone run: 1.13 s against 0.80 s)


def test_remembered_matches_need_the_key_and_the_stored_hash(tmp_path: Path) -> None:
    path = tmp_path / "remembered.json"
    stored = hash_secret("right")
    RememberedSecrets(path, KEY).remember("right", stored)
    again = RememberedSecrets(path, KEY)
    assert again.matches("right", stored) and not again.matches("wrong", stored)
    assert not RememberedSecrets(path, KEY + "-rotated").matches("right", stored)
    assert not again.matches("right", hash_secret("right"))  # rotated: a new salt and hash
    path.write_text("not json")
    assert not RememberedSecrets(path, KEY).matches("right", stored)  # scrypt answers then
