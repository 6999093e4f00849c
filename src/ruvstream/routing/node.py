"""What the router knows about one node: address, health report, load, breaker.

A ``Node`` is plain state owned by the router's event loop (no locks; one
loop mutates it). ``routable`` is the single predicate every selection path
uses, so probes, breakers and ejections all take a node out the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruvstream.core.breaker import CircuitBreaker

__all__ = ["HealthReport", "Node"]


@dataclass(frozen=True, slots=True)
class HealthReport:
    """The load figures of a node's ``/health`` answer (missing ones read as 0)."""

    cpu_percent: float = 0.0
    memory_bytes: int = 0
    connections: int = 0
    streams: int = 0
    inflight: int = 0
    p99_ms: float = 0.0
    overloaded: bool = False
    ready: bool = True

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> HealthReport:
        def num(key: str) -> float:
            value = body.get(key, 0)
            return float(value) if isinstance(value, int | float) else 0.0

        return cls(
            cpu_percent=num("cpu_percent"),
            memory_bytes=int(num("memory_bytes")),
            connections=int(num("connections")),
            streams=int(num("streams")),
            inflight=int(num("inflight")),
            p99_ms=num("p99_ms"),
            overloaded=bool(body.get("overloaded", False)),
            ready=not (body.get("loading") or body.get("draining")),
        )


@dataclass(eq=False)
class Node:
    """One backend. ``name`` is unique in the router; ``weight`` feeds the weighted strategy."""

    name: str
    region: str
    url: str
    breaker: CircuitBreaker
    weight: float = 1.0
    capacity: int = 256
    healthy: bool = True
    report: HealthReport = field(default_factory=HealthReport)
    inflight: int = 0
    latency_ewma_ms: float = 0.0
    served: int = 0
    probe_failures: int = 0

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")

    def observe_latency(self, seconds: float, alpha: float = 0.2) -> None:
        ms = seconds * 1000.0
        self.latency_ewma_ms = (
            ms if self.served == 0 else (1 - alpha) * self.latency_ewma_ms + alpha * ms
        )
        self.served += 1

    @property
    def utilization(self) -> float:
        return self.inflight / self.capacity if self.capacity > 0 else 1.0
