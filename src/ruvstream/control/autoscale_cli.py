"""The command line's side of the scaling loop: options -> ``AutoscaleSpec``, decisions out.

``autoscale_spec`` builds what ``ruvstream control --autoscale`` runs: the
scaling config (``--scaling-config``) with each ``--region``'s bounds as its
instance limits, the calendar (``--calendar``), the router's degradation
port (``--router-url``), the metrics (``--metrics-port``) and, with
``--dry-run``, a report that prints each round's plan instead of acting.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import click
from prometheus_client import CollectorRegistry, start_http_server

from .autoscale import AutoscaleSpec
from .names import ControlNames
from .scaling import (
    Calendar,
    HttpDegradationPort,
    Orchestrator,
    ScalingConfig,
    ScalingMetrics,
    TickPlan,
    build_orchestrator,
    region_policy,
)
from .scaling_store import ScalingStore, query_decisions
from .swarm import RegionBounds

__all__ = [
    "autoscale_spec",
    "limit_regions",
    "read_decisions",
    "render_decisions",
    "render_plan",
]


def limit_regions(config: ScalingConfig, regions: Mapping[str, RegionBounds]) -> ScalingConfig:
    """``config`` with each region's instance limits set to its ``--region`` bounds."""
    limited = dict(config.regions)
    for name, bounds in regions.items():
        base = config.regions.get(name) or region_policy(name)
        limited[name] = dataclasses.replace(
            base, min_instances=bounds.min, max_instances=bounds.max
        )
    return dataclasses.replace(config, regions=limited)


def autoscale_spec(
    options: dict[str, Any], regions: Mapping[str, RegionBounds]
) -> tuple[AutoscaleSpec, HttpDegradationPort | None]:
    path = options["scaling_config"]
    config = limit_regions(ScalingConfig.load(path) if path else ScalingConfig(), regions)
    calendar = Calendar.load(options["calendar"]) if options["calendar"] else None
    registry = CollectorRegistry()
    metrics = ScalingMetrics(registry)
    if options["metrics_port"] is not None:
        start_http_server(options["metrics_port"], "127.0.0.1", registry=registry)

    def build() -> Orchestrator:
        orchestrator = build_orchestrator(config, calendar)
        orchestrator.metrics = metrics  # one set of gauges across terms
        return orchestrator

    port = None
    if options["router_url"] and not options["dry_run"]:
        port = HttpDegradationPort(options["router_url"], api_key=options["router_api_key"])
    spec = AutoscaleSpec(
        build=build,
        node=config.node,
        every=config.tick_seconds,
        port=port,
        dry_run=options["dry_run"],
        report=_echo_plan if options["dry_run"] else None,
    )
    return spec, port


def render_plan(plan: TickPlan) -> str:
    lines = [
        f"t={plan.t:.1f} token={plan.fencing_token} level={plan.degradation.level.label}"
        f"{' (dry run)' if plan.dry_run else ''}"
    ]
    lines += [render_decision(d.to_json()) for d in plan.decisions]
    return "\n".join(lines)


def _echo_plan(plan: TickPlan) -> None:
    click.echo(render_plan(plan))


def render_decision(d: Mapping[str, Any]) -> str:
    return (
        f"  {d['region']}: {d['previous']} -> {d['desired']} ({d['reason']}) "
        f"predicted={d['predicted']} reactive={d['reactive']} ({d['reactive_reason']}) "
        f"ready={d['ready_instances']} qps={float(d['offered_qps']):.1f} level={d['level']}"
    )


def render_decisions(decisions: list[dict[str, Any]]) -> str:
    if not decisions:
        return "no scaling decisions recorded"
    return "\n".join(f"t={float(d['t']):.1f}{render_decision(d)}" for d in decisions)


async def read_decisions(
    nats_url: str,
    namespace: str,
    *,
    region: str | None = None,
    changed_only: bool = False,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    from .store.jetstream import NatsBackend

    backend = await NatsBackend.connect(nats_url)
    try:
        bucket = await backend.find(ControlNames(namespace).scaling)
        if bucket is None:
            return []
        stored = await ScalingStore(bucket).decisions()
    finally:
        await backend.close()
    return query_decisions(stored, region=region, changed_only=changed_only, limit=limit)
