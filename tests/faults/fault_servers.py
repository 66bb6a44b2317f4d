"""Private servers the fault tests may stop and restart: a PostgreSQL cluster (``initdb`` +
``pg_ctl`` in a temporary folder on a free loopback port) and a Mosquitto broker (persistence
in a temporary folder, a free loopback port). The system servers are never touched.

A module of its own (not ``conftest``) so that test modules can import it by a unique name.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from servers import need_server

START_TIMEOUT_S = 30.0


def free_port() -> int:
    """A loopback TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s")


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """A PostgreSQL cluster of this test only. As root the server runs as ``postgres``
    (PostgreSQL refuses root)."""

    def __init__(self, root: Path) -> None:
        bin_dir = _pg_bin()
        need_server(bin_dir is not None, "PostgreSQL binaries under /usr/lib/postgresql/*/bin")
        assert bin_dir is not None
        self.bin = bin_dir
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._user = "postgres" if os.geteuid() == 0 else None
        if self._user is not None:
            pw = pwd.getpwnam(self._user)
            os.chown(root, pw.pw_uid, pw.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "--no-sync", "-E", "UTF8", "--locale", "C")  # fmt: skip

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bin / tool), *args]
        if self._user is not None:
            cmd = ["runuser", "-u", self._user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, cwd=self.root)

    def start(self) -> None:
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
                "-c fsync=off -c max_connections=40")  # fmt: skip
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l",
                  str(self.root / "log"), "-w", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """``fast``: clean shutdown, sessions ended; ``immediate``: like a crash."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        cmd = [str(self.bin / "pg_ctl"), "-D", str(self.data), "status"]
        if self._user is not None:
            cmd = ["runuser", "-u", self._user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, cwd=self.root).returncode == 0


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """Started; stopped and removed at the end (a short folder: socket paths are limited)."""
    root = Path(tempfile.mkdtemp(prefix="kwpg"))
    try:
        pg = PrivatePostgres(root)
        pg.start()
        try:
            yield pg
        finally:
            try:
                pg.stop("immediate")
            except subprocess.CalledProcessError:
                pass  # already stopped by the test
    finally:
        shutil.rmtree(root, ignore_errors=True)


class PrivateMosquitto:
    """A broker of this test only, with persistence: a clean restart (SIGTERM, start)
    keeps sessions and queued QoS 1 messages, as a production broker configured so would."""

    def __init__(self, root: Path) -> None:
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        need_server(Path(exe).exists(), "the mosquitto executable")
        self.exe = exe
        self.port = free_port()
        self.conf = root / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {root}/\nmax_queued_messages 100000\n"
            # as root mosquitto would switch to the user "mosquitto", who cannot write here
            f"user {pwd.getpwuid(os.geteuid()).pw_name}\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([self.exe, "-c", str(self.conf)], stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: mosquitto saves its persistence file
            self.proc.wait(10)
        self.proc = None


@contextmanager
def private_mosquitto(root: Path) -> Iterator[PrivateMosquitto]:
    broker = PrivateMosquitto(root)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
