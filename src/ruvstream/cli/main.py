"""The ``ruvstream`` command: serve, load, config show, and the other subsystems."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from ruvstream import __version__
from ruvstream.cli.load import load
from ruvstream.config import (
    AuthSettings,
    BatchSettings,
    ControlSettings,
    InputLimits,
    LimitSettings,
    NodeSettings,
    ReplicationSettings,
    ServerSettings,
    Settings,
    StorageSettings,
    TracingSettings,
)

__all__ = ["main", "settings_from_options"]

_BATCH = BatchSettings()
_LIMITS = LimitSettings()
_INPUT = InputLimits()

_SUBCOMMANDS = {
    "router": "ruvstream.routing.cli:router",
    "bench": "ruvstream.bench.cli:bench",
    "cluster": "ruvstream.devstack.cli:cluster",
    "client": "ruvstream.client.cli:client",
    "control": "ruvstream.control.cli:control",
    "scale": "ruvstream.control.scaling.cli:scale",
    "wal": "ruvstream.cli.wal:wal",
    "keys": "ruvstream.cli.keys:keys",
    "sim": "ruvstream.sim.cli:sim",
}


def _check_http(ctx: click.Context, param: click.Parameter, mode: str) -> str:
    """Refuse ``--http fast`` up front, in one line, when uvicorn cannot run it."""
    if mode == "fast":
        from ruvstream.api.http_mode import fast_path_unavailable

        if (reason := fast_path_unavailable()) is not None:
            raise click.ClickException(f"--http fast cannot run: {reason}")
    return mode


def _node_options(fn: click.decorators.FC) -> click.decorators.FC:
    options = [
        click.option(
            "--data-dir",
            type=click.Path(path_type=Path),
            default=Path("./ruvstream-data"),
            show_default=True,
        ),
        click.option("--host", default="127.0.0.1", show_default=True),
        click.option(
            "--http",
            type=click.Choice(["auto", "fast", "standard"]),
            default="auto",
            show_default=True,
            callback=_check_http,
            help="fast: the node's HTTP protocol with its search shortcut; standard: "
            "uvicorn's own (and WebSocket frames through its ASGI queue); "
            "auto: fast when the installed uvicorn allows it.",
        ),
        click.option(
            "--port",
            type=int,
            default=8470,
            show_default=True,
            help="0 picks a free port (see --port-file).",
        ),
        click.option(
            "--port-file",
            type=click.Path(path_type=Path),
            default=None,
            help="Write the bound port here once listening.",
        ),
        click.option(
            "--http2",
            is_flag=True,
            default=False,
            help="Serve HTTP/2 (prior knowledge, h2c upgrade, and ALPN over TLS) beside "
            "HTTP/1.1 on the main port, with hypercorn instead of uvicorn (--http is then unused).",
        ),
        click.option(
            "--grpc-port",
            type=int,
            default=None,
            help="Also serve gRPC (ruvstream.v1.VectorSearch) on this port; 0 picks a free "
            "one. Off by default.",
        ),
        click.option(
            "--grpc-port-file",
            type=click.Path(path_type=Path),
            default=None,
            help="Write the bound gRPC port here once listening.",
        ),
        click.option("--region", default="local", show_default=True),
        click.option("--node-id", default=None, help="Defaults to host-pid."),
        click.option(
            "--fsync",
            type=click.Choice(["batch", "interval", "off"]),
            default="batch",
            show_default=True,
        ),
        click.option("--batch-window-ms", type=float, default=_BATCH.window_ms, show_default=True),
        click.option("--max-batch", type=int, default=_BATCH.max_batch, show_default=True),
        click.option(
            "--search-threads",
            type=int,
            default=_BATCH.search_threads,
            show_default=True,
            help="Batches searched at once; each uses cores / this many OpenMP threads.",
        ),
        click.option(
            "--max-connections", type=int, default=_LIMITS.max_connections, show_default=True
        ),
        click.option(
            "--max-inflight-per-conn",
            type=int,
            default=_LIMITS.max_inflight_per_connection,
            show_default=True,
        ),
        click.option(
            "--max-payload-bytes", type=int, default=_LIMITS.max_payload_bytes, show_default=True
        ),
        click.option(
            "--max-outbox-bytes",
            type=int,
            default=_LIMITS.max_outbox_bytes,
            show_default=True,
            help="Bytes waiting to go out on one WebSocket before it is closed as a slow consumer.",
        ),
        click.option(
            "--send-stall-seconds",
            type=float,
            default=_LIMITS.send_stall_seconds,
            show_default=True,
            help="Cut a connection (WebSocket, SSE) whose peer takes no bytes for this long.",
        ),
        click.option(
            "--header-timeout",
            type=float,
            default=_LIMITS.header_timeout_seconds,
            show_default=True,
            help="Seconds a request's head may take to arrive (then 408 and close).",
        ),
        click.option(
            "--body-timeout",
            type=float,
            default=_LIMITS.body_timeout_seconds,
            show_default=True,
            help="Seconds a request's body may take after its head (then 408 and close).",
        ),
        click.option(
            "--max-records-per-write",
            type=click.IntRange(min=1),
            default=_INPUT.max_records_per_write,
            show_default=True,
        ),
        click.option(
            "--max-metadata-depth",
            type=click.IntRange(1, 200),  # orjson nests at most 255 levels
            default=_INPUT.max_metadata_depth,
            show_default=True,
        ),
        click.option(
            "--max-metadata-bytes",
            type=click.IntRange(min=1),
            default=_INPUT.max_metadata_bytes,
            show_default=True,
        ),
        click.option("--snapshot-interval", type=float, default=300.0, show_default=True),
        click.option(
            "--snapshot-every-ops",
            type=int,
            default=StorageSettings().snapshot_every_ops,
            show_default=True,
            help="Also snapshot once this many ops were logged since the last one.",
        ),
        click.option(
            "--wal-recovery",
            type=click.Choice(["strict", "truncate"]),
            default="strict",
            show_default=True,
            help="WAL damage before its tail: strict refuses to start; truncate keeps "
            "the entries before it and moves the damaged segments aside.",
        ),
        click.option("--drain-seconds", type=float, default=10.0, show_default=True),
        click.option(
            "--bus",
            type=click.Choice(["none", "embedded", "nats"]),
            default="none",
            show_default=True,
        ),
        click.option("--nats-url", default="nats://127.0.0.1:4222", show_default=True),
        click.option(
            "--stream",
            default="ruvstream-ops",
            show_default=True,
            help="JetStream stream carrying the op records.",
        ),
        click.option(
            "--lag-bound",
            type=float,
            default=5.0,
            show_default=True,
            help="Replication lag (s) past which /health says degraded.",
        ),
        click.option(
            "--control-nats-url",
            default=None,
            help="Join the control plane at this NATS server (agent: registry, figures, tasks).",
        ),
        click.option("--control-namespace", default="ruvstream", show_default=True),
        click.option("--control-heartbeat", type=float, default=2.0, show_default=True),
        click.option(
            "--control-lapse",
            type=float,
            default=10.0,
            show_default=True,
            help="Seconds without a heartbeat after which the node counts as gone.",
        ),
        click.option("--capacity", type=int, default=256, show_default=True),
        click.option("--advertise-url", default=None, help="URL others reach this node at."),
        click.option(
            "--otlp-endpoint",
            default=None,
            help="Send request spans to this OTLP/HTTP traces URL "
            "(http://collector:4318/v1/traces). Off by default.",
        ),
        click.option("--log-level", default="info", show_default=True),
        *_auth_options(),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _auth_options() -> list[Any]:
    file = click.Path(dir_okay=False, path_type=Path)
    return [
        click.option(
            "--api-keys",
            type=file,
            default=None,
            help="Key file (ruvstream keys create): every request needs a key in scope.",
        ),
        click.option(
            "--insecure",
            is_flag=True,
            help="Allow listening on a non-loopback address without --api-keys.",
        ),
        click.option(
            "--open-metrics",
            is_flag=True,
            help="With --api-keys, /metrics still answers without a key (for scrapers).",
        ),
        click.option(
            "--allowed-origins",
            multiple=True,
            help="Browser origin that may open /v1/ws (repeatable; default: the node's host).",
        ),
        click.option(
            "--cors-origins", multiple=True, help="Origin allowed by CORS (repeatable, or *)."
        ),
        click.option("--tls-cert", type=file, default=None, help="PEM certificate (chain)."),
        click.option("--tls-key", type=file, default=None, help="PEM private key."),
    ]


def _auth_settings(o: dict[str, object]) -> AuthSettings:
    def path(name: str) -> Path | None:
        value = o.get(name)
        return Path(str(value)) if value else None

    def strings(name: str) -> tuple[str, ...]:
        value = o.get(name)
        return tuple(str(v) for v in value) if isinstance(value, tuple | list) else ()

    if bool(o.get("tls_cert")) != bool(o.get("tls_key")):
        raise click.UsageError("--tls-cert and --tls-key go together")
    return AuthSettings(
        api_keys=path("api_keys"),
        insecure=bool(o.get("insecure")),
        open_metrics=bool(o.get("open_metrics")),
        allowed_origins=strings("allowed_origins"),
        cors_origins=strings("cors_origins"),
        tls_cert=path("tls_cert"),
        tls_key=path("tls_key"),
    )


def settings_from_options(**o: object) -> Settings:
    node = NodeSettings(region=str(o["region"]))
    if o.get("node_id"):
        node = NodeSettings(region=str(o["region"]), node_id=str(o["node_id"]))
    return Settings(
        server=ServerSettings(
            host=str(o["host"]),
            port=int(o["port"]),  # type: ignore[call-overload]
            port_file=o["port_file"],  # type: ignore[arg-type]
            drain_seconds=float(o["drain_seconds"]),  # type: ignore[arg-type]
            http=str(o["http"]),
            grpc_port=None if o.get("grpc_port") is None else int(o["grpc_port"]),  # type: ignore[call-overload]
            grpc_port_file=o.get("grpc_port_file"),  # type: ignore[arg-type]
            http2=bool(o.get("http2", False)),
        ),
        node=node,
        storage=StorageSettings(
            data_dir=o["data_dir"],  # type: ignore[arg-type]
            fsync=str(o["fsync"]),
            snapshot_interval_seconds=float(o["snapshot_interval"]),  # type: ignore[arg-type]
            snapshot_every_ops=int(o.get("snapshot_every_ops", 50_000)),  # type: ignore[call-overload]
            wal_recovery=str(o.get("wal_recovery", "strict")),
        ),
        batch=BatchSettings(
            window_ms=float(o["batch_window_ms"]),  # type: ignore[arg-type]
            max_batch=int(o["max_batch"]),  # type: ignore[call-overload]
            search_threads=int(o["search_threads"]),  # type: ignore[call-overload]
        ),
        limits=LimitSettings(
            max_connections=int(o["max_connections"]),  # type: ignore[call-overload]
            max_inflight_per_connection=int(o["max_inflight_per_conn"]),  # type: ignore[call-overload]
            max_payload_bytes=int(o["max_payload_bytes"]),  # type: ignore[call-overload]
            max_outbox_bytes=int(o.get("max_outbox_bytes", _LIMITS.max_outbox_bytes)),  # type: ignore[call-overload]
            send_stall_seconds=float(o.get("send_stall_seconds", _LIMITS.send_stall_seconds)),  # type: ignore[arg-type]
            header_timeout_seconds=float(o.get("header_timeout", _LIMITS.header_timeout_seconds)),  # type: ignore[arg-type]
            body_timeout_seconds=float(o.get("body_timeout", _LIMITS.body_timeout_seconds)),  # type: ignore[arg-type]
        ),
        input=InputLimits(
            max_records_per_write=int(o.get("max_records_per_write", _INPUT.max_records_per_write)),  # type: ignore[call-overload]
            max_metadata_depth=int(o.get("max_metadata_depth", _INPUT.max_metadata_depth)),  # type: ignore[call-overload]
            max_metadata_bytes=int(o.get("max_metadata_bytes", _INPUT.max_metadata_bytes)),  # type: ignore[call-overload]
        ),
        replication=ReplicationSettings(
            bus=str(o["bus"]),
            nats_url=str(o["nats_url"]),
            stream=str(o["stream"]),
            lag_bound_seconds=float(o["lag_bound"]),  # type: ignore[arg-type]
        ),
        control=ControlSettings(
            nats_url=str(o["control_nats_url"]) if o.get("control_nats_url") else None,
            namespace=str(o.get("control_namespace", "ruvstream")),
            heartbeat_seconds=float(o.get("control_heartbeat", 2.0)),  # type: ignore[arg-type]
            lapse_seconds=float(o.get("control_lapse", 10.0)),  # type: ignore[arg-type]
            capacity=int(o.get("capacity", 256)),  # type: ignore[call-overload]
            advertise_url=str(o["advertise_url"]) if o.get("advertise_url") else None,
            drain_notice_seconds=min(1.0, float(o["drain_seconds"]) / 4),  # type: ignore[arg-type]
        ),
        auth=_auth_settings(o),
        tracing=TracingSettings(
            otlp_endpoint=str(o["otlp_endpoint"]) if o.get("otlp_endpoint") else None
        ),
    )


class _Group(click.Group):
    """Subsystem commands load on first use, so ``serve`` imports only what it needs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._available()})

    def _available(self) -> list[str]:
        found = []
        for name, target in _SUBCOMMANDS.items():
            module = target.split(":")[0]
            if importlib.util.find_spec(module) is not None:
                found.append(name)
        return found

    def invoke(self, ctx: click.Context) -> object:
        """A server that cannot start (busy port, data dir in use) is one line and exit 1."""
        try:
            return super().invoke(ctx)
        except Exception as exc:
            # Only a server started by this process can raise it; looking the
            # module up instead of importing it keeps uvicorn out of other commands.
            serving = sys.modules.get("ruvstream.serving")
            if serving is None or not isinstance(exc, serving.StartupError):
                raise
            click.echo(f"ruvstream {ctx.invoked_subcommand}: {exc}", err=True)
            ctx.exit(1)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None or name not in _SUBCOMMANDS:
            return command
        module, attr = _SUBCOMMANDS[name].split(":")
        try:
            loaded: click.Command = getattr(importlib.import_module(module), attr)
        except ImportError:
            return None
        return loaded


@click.group(cls=_Group)
@click.version_option(__version__)
def main() -> None:
    """ruvstream: streaming vector search."""


@main.command()
@_node_options
def serve(**options: object) -> None:
    """Run one node (embedded defaults: no flags needed)."""
    from ruvstream.api.server import serve as run

    logging.basicConfig(
        level=str(options["log_level"]).upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = settings_from_options(**options)
    # The index thread returns from each GIL-free faiss call needing the GIL for a
    # moment, and both OpenMP threads idle until it gets it. A busy event loop gives
    # it up only at the switch interval: 5 ms by default. Measured side by side,
    # 20 us served about 7% (HTTP) to 20% (WebSocket) more searches than 1 ms.
    sys.setswitchinterval(20e-6)
    try:
        import uvloop
    except ImportError:
        asyncio.run(run(settings))
    else:
        uvloop.run(run(settings))


@main.group()
def config() -> None:
    """Inspect configuration."""


@config.command("show")
@_node_options
def config_show(**options: object) -> None:
    """Print the effective settings as JSON."""
    click.echo(json.dumps(settings_from_options(**options).as_dict(), indent=2))


main.add_command(load)
