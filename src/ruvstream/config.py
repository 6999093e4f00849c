"""Typed, frozen settings: built once at start-up, passed down, never re-read.

Every knob has a default that runs a single node on a laptop; ``ruvstream
config show`` prints the effective values. Nothing else reads the environment.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "AuthSettings",
    "BatchSettings",
    "ControlSettings",
    "InputLimits",
    "LimitSettings",
    "NodeSettings",
    "ReplicationSettings",
    "ServerSettings",
    "Settings",
    "StorageSettings",
    "TracingSettings",
]


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8470
    port_file: Path | None = None
    drain_seconds: float = 10.0
    """How long SIGTERM waits for in-flight work before closing connections."""
    heartbeat_seconds: float = 20.0
    http: str = "auto"
    """auto | fast | standard: the HTTP/1.1 protocol (see ``api/http_mode.py``)."""
    grpc_port: int | None = None
    """The gRPC port (0 picks a free one); None serves no gRPC."""
    grpc_port_file: Path | None = None
    """Where the bound gRPC port is written once listening."""
    http2: bool = False
    """Serve the main port with hypercorn: HTTP/2 (h2c, prior knowledge, TLS) and HTTP/1.1."""


@dataclass(frozen=True, slots=True)
class NodeSettings:
    region: str = "local"
    node_id: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")


@dataclass(frozen=True, slots=True)
class StorageSettings:
    data_dir: Path = Path("./ruvstream-data")
    fsync: str = "batch"
    fsync_interval_seconds: float = 0.05
    snapshot_interval_seconds: float = 300.0
    snapshot_every_ops: int = 50_000
    """A snapshot is also taken once this many ops were logged since the last one."""
    tombstone_retention_seconds: float = 7 * 24 * 3600.0
    wal_recovery: str = "strict"
    """strict: WAL damage before the tail stops the start; truncate: keep the
    frames before it and move the damaged segments aside (storage/wal.py)."""


@dataclass(frozen=True, slots=True)
class BatchSettings:
    window_ms: float = 0.5
    max_batch: int = 64
    search_threads: int = 1
    """Batches searched at once. Each one spreads over cores / search_threads
    OpenMP threads; one batch over every core beat two single-core batches
    side by side, because two index threads fight the event loop for the GIL."""


@dataclass(frozen=True, slots=True)
class LimitSettings:
    max_connections: int = 10_000
    max_inflight_per_connection: int = 256
    max_payload_bytes: int = 64 * 1024 * 1024
    max_subscription_queue: int = 10_000
    idempotency_ttl_seconds: float = 600.0
    max_subscription_queue_bytes: int = 4 * 1024 * 1024
    """Matches one subscription may have queued, in bytes (ids and metadata as JSON)."""
    max_outbox_frames: int = 10_000
    """Frames waiting to go out on one WebSocket; past this (or the bytes) it is a slow consumer."""
    max_outbox_bytes: int = 16 * 1024 * 1024
    send_stall_seconds: float = 30.0
    """A connection whose peer takes no bytes for this long while some wait to go out is cut."""
    header_timeout_seconds: float = 10.0
    """A request's head must be in within this long (from the connection or its first byte)."""
    body_timeout_seconds: float = 60.0
    """A request's body must be in within this long of its head."""


@dataclass(frozen=True, slots=True)
class InputLimits:
    """What one request may hold; each is refused with a 4xx naming the limit (docs/api.md)."""

    max_records_per_write: int = 100_000
    max_batch_queries: int = 1_000
    max_id_length: int = 512
    max_metadata_depth: int = 32
    """Nesting of objects and lists inside one record's metadata (the object itself is 1)."""
    max_metadata_bytes: int = 64 * 1024
    """One record's metadata, as compact JSON."""
    max_filter_depth: int = 16
    max_filter_values: int = 100_000
    """Values in one ``$in`` or ``$nin`` list."""
    max_filter_branches: int = 1_000
    """Filters in one ``$and`` or ``$or`` list."""


@dataclass(frozen=True, slots=True)
class ReplicationSettings:
    bus: str = "none"
    """none | embedded | nats."""
    nats_url: str = "nats://127.0.0.1:4222"
    stream: str = "ruvstream-ops"
    lag_bound_seconds: float = 5.0


@dataclass(frozen=True, slots=True)
class ControlSettings:
    """The node's control-plane agent (off unless ``nats_url`` is set)."""

    nats_url: str | None = None
    namespace: str = "ruvstream"
    """Prefix of the control plane's buckets, streams and subjects."""
    heartbeat_seconds: float = 2.0
    lapse_seconds: float = 10.0
    """A node whose entry was not refreshed for this long counts as gone."""
    capacity: int = 256
    advertise_url: str | None = None
    """The URL others reach this node at (default: http://host:bound-port)."""
    drain_notice_seconds: float = 1.0
    """Time between marking the entry draining and draining the node (routers move away)."""


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """Keys, origins and TLS of the node's listener (docs/operations.md, Keys, scopes and TLS)."""

    api_keys: Path | None = None
    """The key file (``ruvstream keys``); None: no key is asked for."""
    insecure: bool = False
    """Allow a non-loopback listener without keys."""
    open_metrics: bool = False
    """``/metrics`` answers without a key (for scrapers that cannot send one)."""
    allowed_origins: tuple[str, ...] = ()
    """Browser origins that may open /v1/ws; empty: the node's own host only."""
    cors_origins: tuple[str, ...] = ()
    tls_cert: Path | None = None
    tls_key: Path | None = None


@dataclass(frozen=True, slots=True)
class TracingSettings:
    otlp_endpoint: str | None = None
    """OTLP/HTTP traces URL; None (the default) traces nothing (see ``ruvstream.tracing``)."""


@dataclass(frozen=True, slots=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    node: NodeSettings = field(default_factory=NodeSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    batch: BatchSettings = field(default_factory=BatchSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    input: InputLimits = field(default_factory=InputLimits)
    replication: ReplicationSettings = field(default_factory=ReplicationSettings)
    control: ControlSettings = field(default_factory=ControlSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    tracing: TracingSettings = field(default_factory=TracingSettings)

    def as_dict(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, Path):
                return str(value)
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            return value

        return plain(dataclasses.asdict(self))  # type: ignore[no-any-return]
