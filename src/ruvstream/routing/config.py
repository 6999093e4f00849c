"""Router settings: one frozen object built once at start-up (from the CLI or tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ruvstream.core.breaker import BreakerConfig

from .outlier import OutlierConfig

__all__ = ["PROXY_MODES", "NodeSpec", "RouterSettings", "parse_node"]

PROXY_MODES = ("fast", "standard")


@dataclass(frozen=True, slots=True)
class NodeSpec:
    region: str
    url: str
    name: str
    weight: float = 1.0


def parse_node(text: str, index: int = 0) -> NodeSpec:
    """``REGION=URL`` with optional ``;weight=W`` and ``;name=N`` suffixes."""
    head, *options = text.split(";")
    region, sep, url = head.partition("=")
    if not sep or not region or not url.startswith(("http://", "https://")):
        raise ValueError(f"expected REGION=http://HOST:PORT, got {text!r}")
    fields = dict(option.split("=", 1) for option in options if "=" in option)
    name = fields.get("name") or f"{region}-{index}"
    return NodeSpec(region, url.rstrip("/"), name, float(fields.get("weight", 1.0)))


@dataclass(frozen=True, slots=True)
class RouterSettings:
    nodes: tuple[NodeSpec, ...]
    strategy: str = "least-connections"
    default_region: str = "us-central1"
    networks: dict[str, str] = field(default_factory=dict)
    redis_url: str | None = None
    keys_file: Path | None = None
    api_keys: Path | None = None
    """The key file node and router share (``ruvstream keys``): every request needs a
    key in scope; the key's tier sets its limits. Replaces ``keys_file``."""
    node_key: str | None = None
    """The key the router presents to nodes, in place of the client's."""
    tls_cert: Path | None = None
    tls_key: Path | None = None
    allowed_origins: tuple[str, ...] = ()
    """Browser origins that may open /v1/ws through the router; empty: its own host only."""
    anonymous_tier: str | None = "free"
    probe_interval: float = 1.0
    probe_timeout: float = 1.0
    spill_at: float = 0.85
    node_capacity: int = 256
    max_inflight: int = 4096
    max_attempts: int = 3
    hedge_after_ms: float | None = None
    connect_timeout: float = 1.0
    read_timeout: float = 30.0
    max_payload_bytes: int = 64 * 1024 * 1024
    proxy_mode: str = "fast"
    """``fast``: plain JSON searches go over the router's own keep-alive client and come
    back whole (``routing/upstream.py``); ``standard``: every request through aiohttp."""
    breaker: BreakerConfig = field(default_factory=BreakerConfig)
    outlier: OutlierConfig = field(default_factory=OutlierConfig)
    registry_nats_url: str | None = None
    """Follow the control plane's node registry at this NATS server (beside ``nodes``)."""
    registry_namespace: str = "ruvstream"
    registry_lapse: float = 10.0
    """TTL of the registry bucket if the router is the first to open it (the nodes' lapse)."""

    def __post_init__(self) -> None:
        if self.proxy_mode not in PROXY_MODES:
            raise ValueError(f"proxy mode must be one of {', '.join(PROXY_MODES)}")
