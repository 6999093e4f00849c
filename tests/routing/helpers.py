"""Small builders shared by the routing unit tests."""

from __future__ import annotations

from ruvstream.core.clock import ManualClock
from ruvstream.routing import BreakerConfig, CircuitBreaker, HealthReport, Node


def node(
    name: str,
    region: str = "us-east1",
    *,
    weight: float = 1.0,
    clock: ManualClock | None = None,
    report: HealthReport | None = None,
    capacity: int = 10,
) -> Node:
    breaker = CircuitBreaker(BreakerConfig(min_calls=2, window=4), clock or ManualClock())
    return Node(
        name=name,
        region=region,
        url=f"http://{name}.invalid",
        breaker=breaker,
        weight=weight,
        capacity=capacity,
        report=report or HealthReport(),
    )
