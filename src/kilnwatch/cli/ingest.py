"""Ingest commands: the long-running receivers ``kilnwatch ingest mqtt`` and
``kilnwatch ingest hj212`` (file imports are ``kilnwatch import …``, :mod:`kilnwatch.cli.imports`).

The receivers stop on SIGTERM/SIGINT after committing and acknowledging the current batch.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlparse

import typer

from kilnwatch.cli._common import settings
from kilnwatch.ingest.validate import ValidationPolicy
from kilnwatch.shutdown import loop_stop_on_signals
from kilnwatch.store.engine import make_engine, make_session_factory
from kilnwatch.store.migrate import upgrade

if TYPE_CHECKING:
    from kilnwatch.config import Settings
    from kilnwatch.ingest.hj212_store import ServeOptions
    from kilnwatch.ingest.log.publisher import LogPublisher
    from kilnwatch.metrics import MetricsServer

app = typer.Typer(
    help="Live ingestion: MQTT and HJ 212 receivers, ingest-log writers.",
    no_args_is_help=True,
)

LogOption = Annotated[
    str | None,
    typer.Option(
        "--log",
        help="Publish to the ingest log (NATS JetStream) at nats://host:port[,…] instead of "
        "storing; `kilnwatch ingest writer` stores. Default: KILNWATCH_INGEST_LOG, else store.",
    ),
]
MetricsPort = Annotated[
    int | None,
    typer.Option(help="Serve /metrics and /healthz on this port (0: a free port, printed)."),
]


def _broker(url: str) -> tuple[str, int]:
    parsed = urlparse(url if "://" in url else f"mqtt://{url}")
    if parsed.scheme not in ("mqtt", "tcp"):
        raise typer.BadParameter("use mqtt://host:port", param_hint="--broker")
    return parsed.hostname or "127.0.0.1", parsed.port or 1883


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, _frame: object) -> None:
        logging.getLogger("kilnwatch.ingest").info("signal %s: finishing the batch", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


@app.command("mqtt")
def mqtt_cmd(
    broker: Annotated[str, typer.Option(help="Broker URL.")] = "mqtt://127.0.0.1:1883",
    batch_size: Annotated[int, typer.Option(help="Readings per commit.", min=1)] = 5000,
    max_delay_ms: Annotated[int, typer.Option(help="Longest wait to fill a batch.", min=0)] = 200,
    client_id: Annotated[
        str | None, typer.Option(help="Unique per worker; keep it across restarts.")
    ] = None,
    group: Annotated[str, typer.Option(help="Shared-subscription group.")] = "kilnwatch",
    prefix: Annotated[str, typer.Option(help="Topic prefix.")] = "kilnwatch/v1",
    receive_maximum: Annotated[int, typer.Option(help="Unacked messages in flight.")] = 1000,
    session_expiry_s: Annotated[int, typer.Option(help="Broker keeps the session [s].")] = 3600,
    keepalive_s: Annotated[int, typer.Option(help="MQTT keep-alive [s].", min=1)] = 30,
    takeover_after_s: Annotated[
        float, typer.Option(help="Drain the session of a peer lost this long [s].", min=0)
    ] = 30.0,
    log: LogOption = None,
    metrics_port: MetricsPort = None,
) -> None:
    """Subscribe to readings topics (shared subscription, QoS 1); ack after each commit (or,
    with --log, after JetStream holds the batch)."""
    from kilnwatch.ingest.mqtt.worker import MqttIngestWorker, MqttOptions

    host, port = _broker(broker)
    options = MqttOptions(
        host=host, port=port, client_id=client_id or f"kilnwatch-ingest-{socket.gethostname()}",
        group=group, prefix=prefix, batch_readings=batch_size, max_delay_ms=max_delay_ms,
        receive_maximum=receive_maximum, session_expiry_s=session_expiry_s,
        keepalive_s=keepalive_s, takeover_after_s=takeover_after_s,
    )  # fmt: skip
    s = settings()
    engine = make_engine(s, server=True)
    upgrade(engine)
    stop = threading.Event()
    _stop_on_signals(stop)

    def ready() -> None:
        typer.echo(f"mqtt ingest ready: {options.client_id} on {host}:{port}", err=False)

    publisher = _publisher(log or s.ingest_log, f"kilnwatch-mqtt-{options.client_id}")
    worker = MqttIngestWorker(
        make_session_factory(engine), options, ValidationPolicy.of(s), ready,
        outlet=publisher.publish if publisher is not None else None,
    )  # fmt: skip

    def health() -> bool:
        return bool(worker.client.is_connected()) and (publisher is None or publisher.connected)

    endpoint = _metrics(metrics_port, health)
    try:
        stats = worker.run(stop)
    finally:
        engine.dispose()
        if publisher is not None:
            publisher.close()
        if endpoint is not None:
            endpoint.close()
    typer.echo(f"mqtt ingest stopped: {stats}")


def _publisher(urls: str, name: str) -> LogPublisher | None:
    from kilnwatch.ingest.log.publisher import open_publisher

    return open_publisher(_servers_text(urls), name) if urls else None


def _servers_text(urls: str) -> str:
    from kilnwatch.ingest.log.stream import parse_servers

    try:
        return ",".join(parse_servers(urls))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--log / --nats") from None


def _metrics(port: int | None, health: Callable[[], bool]) -> MetricsServer | None:
    from kilnwatch.metrics import serve_metrics

    endpoint = serve_metrics(port, health)
    if endpoint is not None:
        typer.echo(f"metrics on :{endpoint.port} (/metrics, /healthz)")
    return endpoint


@app.command("hj212")
def hj212_cmd(
    port: Annotated[int, typer.Option(help="TCP port (0: a free port, printed).")] = 9212,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "0.0.0.0",
    batch_frames: Annotated[int, typer.Option(help="Frames per group commit.", min=1)] = 500,
    max_delay_ms: Annotated[int, typer.Option(help="Group-commit wait.", min=0)] = 10,
    workers: Annotated[
        int, typer.Option(help="Receiver processes sharing the port (SO_REUSEPORT).", min=1)
    ] = 1,
    writers: Annotated[
        int | None,
        typer.Option(
            help="Group commits in flight per process (default: 2 on PostgreSQL with one "
            "process, else 1).",
            min=1,
        ),
    ] = None,
    log: LogOption = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            help="Serve /metrics and /healthz on this port (with --workers N: "
            "port + i for process i)."
        ),
    ] = None,
) -> None:
    """Receive HJ 212 uploads from registered data loggers (gateways with protocol hj212);
    with --log, publish them to the ingest log and reply once JetStream holds them."""
    from kilnwatch.ingest.gateways import RememberedSecrets, SecretCheck
    from kilnwatch.ingest.hj212_store import (
        ServeOptions,
        run_receiver_loop,
        serve_store,
        tune_gc_for_receiver,
    )

    s = settings()
    engine = make_engine(s, server=True)
    upgrade(engine)
    urls = log or s.ingest_log
    options = ServeOptions(host=host, port=port, batch_frames=batch_frames,
                           max_delay_ms=max_delay_ms, writers=writers,
                           log=_servers_text(urls) if urls else "",
                           metrics_port=metrics_port)  # fmt: skip
    if workers > 1:
        engine.dispose()
        # one writer per process: groups twice as large and no two writer threads sharing
        # one GIL (measured: 5 100-5 900 frames/s against 4 300-4 500 with two)
        _hj212_workers(s, dataclasses.replace(options, writers=writers or 1), workers)
        return
    factory = make_session_factory(engine)
    policy = ValidationPolicy.of(s)

    async def serve() -> dict[str, object]:
        stop = loop_stop_on_signals()
        secrets = SecretCheck(remembered=RememberedSecrets.for_settings(s))
        return await serve_store(factory, options, policy, stop, _hj212_ready(host, 1), secrets)

    tune_gc_for_receiver()
    try:
        counters = run_receiver_loop(serve())
    finally:
        engine.dispose()
    typer.echo(f"hj212 ingest stopped: {counters}")


def _hj212_ready(host: str, workers: int) -> Callable[[int], None]:
    def ready(bound: int) -> None:
        typer.echo(f"hj212 ingest ready on {host}:{bound} ({workers} process(es))")

    return ready


def _hj212_workers(s: Settings, options: ServeOptions, workers: int) -> None:
    from functools import partial

    from kilnwatch.ingest.hj212.workers import merge_counters, run_workers
    from kilnwatch.ingest.hj212_store import run_store_worker

    target = partial(run_store_worker, s, options)
    snapshots = run_workers(target, host=options.host, port=options.port, workers=workers,
                            on_ready=_hj212_ready(options.host, workers))  # fmt: skip
    typer.echo(f"hj212 ingest stopped: {merge_counters(snapshots)}")


@app.command("writer")
def writer_cmd(
    nats_urls: Annotated[
        str | None,
        typer.Option(
            "--nats", help="NATS URLs nats://host:port[,…] (default: KILNWATCH_INGEST_LOG)."
        ),
    ] = None,
    batch: Annotated[int, typer.Option(help="Messages per fetch and commit.", min=1)] = 200,
    consumer: Annotated[
        str | None,
        typer.Option(
            help="Durable consumer the writers share (default: writers, or "
            "writers-pN with --partition N)."
        ),
    ] = None,
    partition: Annotated[
        int | None,
        typer.Option(
            help="Take only this partition's subject (<subject>.N, 0..15): writer "
            "groups per partition, instead of one consumer for all.",
            min=0,
        ),
    ] = None,
    stream: Annotated[str, typer.Option(help="Stream of the ingest log.")] = "KILNWATCH_READINGS",
    subject: Annotated[str, typer.Option(help="Subject prefix (<subject>.>).")] = (
        "kilnwatch.readings"
    ),
    ack_wait_s: Annotated[
        float, typer.Option(help="Seconds after which unacknowledged messages come again.", min=0.5)
    ] = 30.0,
    replicas: Annotated[
        int | None,
        typer.Option(
            help="Replicas when this writer creates the stream (default: 3 in a cluster, else 1).",
            min=1,
        ),
    ] = None,
    metrics_port: MetricsPort = None,
) -> None:
    """Store readings from the ingest log: fetch, validate and store in one transaction,
    commit, then acknowledge (stateless: run as many as needed, on any host)."""
    from kilnwatch.ingest.log.stream import LogOptions, parse_servers
    from kilnwatch.ingest.log.writer import LogWriter, WriterOptions

    s = settings()
    urls = nats_urls or s.ingest_log
    if not urls:
        raise typer.BadParameter("give --nats nats://host:port[,…]", param_hint="--nats")
    try:
        servers = parse_servers(urls)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--nats") from None
    name = consumer or ("writers" if partition is None else f"writers-p{partition}")
    try:
        log_options = LogOptions(servers=servers, stream=stream, subject=subject, consumer=name,
                                 partition=partition, ack_wait_s=ack_wait_s,
                                 replicas=replicas)  # fmt: skip
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--partition") from None
    engine = make_engine(s, server=True)
    upgrade(engine)
    writer = LogWriter(make_session_factory(engine), log_options, WriterOptions(batch=batch),
                       ValidationPolicy.of(s),
                       name=f"kilnwatch-writer-{socket.gethostname()}")  # fmt: skip
    endpoint = _metrics(metrics_port, lambda: writer.connected)

    async def main() -> object:
        stop = loop_stop_on_signals()
        ready = asyncio.Event()
        task = asyncio.create_task(writer.run(stop, ready))
        await asyncio.wait([task, asyncio.create_task(ready.wait())],
                           return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        if ready.is_set():
            typer.echo(f"writer ready: consumer {name} of {stream} on {','.join(servers)}")
        return await task

    try:
        stats = asyncio.run(main())
    finally:
        engine.dispose()
        if endpoint is not None:
            endpoint.close()
    typer.echo(f"writer stopped: {stats}")


__all__ = ["app"]
