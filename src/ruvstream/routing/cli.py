"""``ruvstream router``: run the region-aware reverse proxy in front of nodes."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click

from ruvstream.core.breaker import BreakerConfig

from .config import PROXY_MODES, RouterSettings, parse_node
from .outlier import OutlierConfig
from .server import serve
from .strategies import STRATEGIES

__all__ = ["router"]


def _networks(values: tuple[str, ...]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        cidr, sep, region = value.partition("=")
        if not sep:
            raise click.BadParameter(f"expected CIDR=REGION, got {value!r}")
        pairs[cidr] = region
    return pairs


@click.command("router")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True, help="0 picks a free port.")
@click.option(
    "--port-file",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the bound port here once listening.",
)
@click.option(
    "--node",
    "nodes",
    multiple=True,
    help="REGION=URL[;weight=W][;name=N], repeatable (or nodes from --registry-nats-url).",
)
@click.option(
    "--registry-nats-url",
    default=None,
    help="Follow the control plane's node registry here: joining nodes become routable, "
    "draining ones are left.",
)
@click.option("--registry-namespace", default="ruvstream", show_default=True)
@click.option(
    "--strategy",
    type=click.Choice(sorted(STRATEGIES)),
    default="least-connections",
    show_default=True,
)
@click.option(
    "--default-region",
    default="us-central1",
    show_default=True,
    help="Region of clients that say nothing about where they are.",
)
@click.option(
    "--network",
    "networks",
    multiple=True,
    help="CIDR=REGION: clients from this source network are in REGION, repeatable.",
)
@click.option(
    "--redis-url",
    default=None,
    help="Shared rate limits in Redis (in-process limits when absent or down).",
)
@click.option(
    "--keys-file",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="JSON file of API keys and tier policies.",
)
@click.option(
    "--api-keys",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The key file node and router share (ruvstream keys): keys with scopes and a "
    "tier; every request needs one. Instead of --keys-file.",
)
@click.option(
    "--node-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="File holding the key the router presents to nodes (in place of the client's).",
)
@click.option(
    "--allowed-origins",
    multiple=True,
    help="Browser origin that may open /v1/ws (repeatable, * for any; default: own host).",
)
@click.option("--tls-cert", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--tls-key", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option(
    "--anonymous-tier",
    type=click.Choice(["free", "standard", "premium", "none"]),
    default="free",
    show_default=True,
    help="Tier of requests without a key when no keys file says otherwise (none: refuse).",
)
@click.option("--probe-interval", type=float, default=1.0, show_default=True)
@click.option(
    "--spill-at",
    type=float,
    default=0.85,
    show_default=True,
    help="Region utilisation above which traffic spills to the next region.",
)
@click.option(
    "--node-capacity",
    type=int,
    default=256,
    show_default=True,
    help="Requests in flight one node is expected to carry.",
)
@click.option(
    "--max-inflight",
    type=int,
    default=4096,
    show_default=True,
    help="Router in-flight count that means full pressure (drives shedding).",
)
@click.option("--max-attempts", type=int, default=3, show_default=True)
@click.option(
    "--hedge-after-ms",
    type=float,
    default=None,
    help="Send slow idempotent reads to a second node after this long.",
)
@click.option(
    "--proxy-mode",
    type=click.Choice(PROXY_MODES),
    default="fast",
    show_default=True,
    help="fast: plain JSON searches over the router's own keep-alive client, answers "
    "relayed whole; standard: every request streamed through aiohttp.",
)
@click.option("--breaker-failure-rate", type=float, default=0.5, show_default=True)
@click.option("--breaker-slow-seconds", type=float, default=2.0, show_default=True)
@click.option("--breaker-window", type=int, default=50, show_default=True)
@click.option("--breaker-min-calls", type=int, default=10, show_default=True)
@click.option("--breaker-open-seconds", type=float, default=5.0, show_default=True)
@click.option(
    "--otlp-endpoint",
    default=None,
    help="Send request spans to this OTLP/HTTP traces URL; the node gets each span's "
    "traceparent. Off by default.",
)
@click.option("--log-level", default="info", show_default=True)
def router(
    host: str,
    port: int,
    port_file: Path | None,
    nodes: tuple[str, ...],
    registry_nats_url: str | None,
    registry_namespace: str,
    strategy: str,
    default_region: str,
    networks: tuple[str, ...],
    redis_url: str | None,
    keys_file: Path | None,
    api_keys: Path | None,
    node_key_file: Path | None,
    allowed_origins: tuple[str, ...],
    tls_cert: Path | None,
    tls_key: Path | None,
    anonymous_tier: str,
    probe_interval: float,
    spill_at: float,
    node_capacity: int,
    max_inflight: int,
    max_attempts: int,
    hedge_after_ms: float | None,
    proxy_mode: str,
    breaker_failure_rate: float,
    breaker_slow_seconds: float,
    breaker_window: int,
    breaker_min_calls: int,
    breaker_open_seconds: float,
    otlp_endpoint: str | None,
    log_level: str,
) -> None:
    """Route clients to the nearest healthy node, with breakers, limits and shedding."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    if not nodes and not registry_nats_url:
        raise click.UsageError("give at least one --node, or --registry-nats-url")
    if api_keys and keys_file:
        raise click.UsageError("--api-keys replaces --keys-file: give one")
    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    try:
        breaker = BreakerConfig(
            failure_rate=breaker_failure_rate,
            slow_call_seconds=breaker_slow_seconds,
            window=breaker_window,
            min_calls=breaker_min_calls,
            open_wait=breaker_open_seconds,
        )
        settings = RouterSettings(
            nodes=tuple(parse_node(text, i) for i, text in enumerate(nodes)),
            strategy=strategy,
            default_region=default_region,
            networks=_networks(networks),
            redis_url=redis_url,
            keys_file=keys_file,
            api_keys=api_keys,
            node_key=node_key_file.read_text().strip() if node_key_file else None,
            tls_cert=tls_cert,
            tls_key=tls_key,
            allowed_origins=allowed_origins,
            anonymous_tier=None if anonymous_tier == "none" else anonymous_tier,
            probe_interval=probe_interval,
            spill_at=spill_at,
            node_capacity=node_capacity,
            max_inflight=max_inflight,
            max_attempts=max_attempts,
            hedge_after_ms=hedge_after_ms,
            proxy_mode=proxy_mode,
            breaker=breaker,
            outlier=OutlierConfig(),
            registry_nats_url=registry_nats_url,
            registry_namespace=registry_namespace,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    if otlp_endpoint:
        from ruvstream import tracing

        tracing.configure("ruvstream-router", otlp_endpoint=otlp_endpoint)
    try:
        import uvloop
    except ImportError:  # uvloop is in uvicorn[standard]; plain asyncio works without it
        asyncio.run(serve(settings, host, port, port_file, log_level))
    else:
        uvloop.run(serve(settings, host, port, port_file, log_level))


if __name__ == "__main__":
    router()
