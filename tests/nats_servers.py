"""Private NATS JetStream servers for tests: one node or a cluster on free loopback ports.

Each node is Debian's ``nats-server`` (installed by ``make sysdeps``) with its own store
directory under the test's temporary directory, so tests never touch the system server on
4222 and can kill their own nodes (SIGKILL). Under ``CI=true`` a missing binary fails.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from servers import need_server

BINARY_PATHS = ("/usr/sbin/nats-server", "/usr/bin/nats-server")
START_TIMEOUT_S = 20.0


def nats_binary() -> str | None:
    found = shutil.which("nats-server")
    return found or next((p for p in BINARY_PATHS if Path(p).exists()), None)


def free_ports(n: int) -> list[int]:
    """``n`` distinct free TCP ports on 127.0.0.1 (held together while chosen)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class Node:
    name: str
    port: int
    cluster_port: int | None
    config: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@dataclass
class NatsCluster:
    """Running nodes; :meth:`kill` stops one the hard way."""

    nodes: list[Node]
    root: Path
    logs: list[Path] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    @property
    def servers(self) -> str:
        return ",".join(self.urls)

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def kill(self, name: str) -> None:
        node = self.node(name)
        assert node.proc is not None
        node.proc.send_signal(signal.SIGKILL)
        node.proc.wait(10)

    def stop(self) -> None:
        for node in self.nodes:
            if node.alive():
                assert node.proc is not None
                node.proc.terminate()
        for node in self.nodes:
            if node.proc is not None:
                try:
                    node.proc.wait(10)
                except subprocess.TimeoutExpired:
                    node.proc.kill()
                    node.proc.wait(5)


def _config(node: Node, cluster: str | None, routes: list[int], store: Path) -> str:
    lines = [
        f"server_name: {node.name}",
        f"listen: 127.0.0.1:{node.port}",
        "jetstream {",
        f'  store_dir: "{store}"',
        "  max_memory_store: 64MB",
        "  max_file_store: 1GB",
        "}",
    ]
    if cluster is not None:
        route_urls = ", ".join(f"nats-route://127.0.0.1:{p}" for p in routes)
        lines += [
            "cluster {",
            f"  name: {cluster}",
            f"  listen: 127.0.0.1:{node.cluster_port}",
            f"  routes: [{route_urls}]",
            "}",
        ]
    return "\n".join(lines) + "\n"


def _wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nats-server exited: {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nats-server on {port} did not listen")


def start(root: Path, nodes: int = 1, name: str = "kw") -> NatsCluster:
    """``nodes`` servers (a cluster when more than one) under ``root``; waits until each
    accepts clients (the cluster may still be electing its JetStream leader)."""
    binary = nats_binary()
    need_server(binary is not None, "nats-server (make sysdeps installs it)")
    assert binary is not None
    root.mkdir(parents=True, exist_ok=True)
    ports = free_ports(2 * nodes)
    members = [
        Node(f"{name}{i}", ports[2 * i], ports[2 * i + 1] if nodes > 1 else None,
             root / f"{name}{i}.conf")
        for i in range(nodes)
    ]  # fmt: skip
    cluster = NatsCluster(members, root)
    try:
        for node in members:
            routes = [m.cluster_port for m in members if m is not node and m.cluster_port]
            store = root / f"{node.name}-store"
            store.mkdir(parents=True, exist_ok=True)
            node.config.write_text(
                _config(node, name if nodes > 1 else None, routes, store), encoding="utf-8"
            )
            log = root / f"{node.name}.log"
            cluster.logs.append(log)
            node.proc = subprocess.Popen(
                [binary, "-c", str(node.config), "-l", str(log)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        for node, log in zip(members, cluster.logs, strict=True):
            assert node.proc is not None
            _wait_listening(node.port, node.proc, log)
    except BaseException:
        cluster.stop()
        raise
    return cluster


@contextlib.contextmanager
def running(root: Path, nodes: int = 1, name: str = "kw") -> Iterator[NatsCluster]:
    cluster = start(root, nodes, name)
    try:
        yield cluster
    finally:
        cluster.stop()
