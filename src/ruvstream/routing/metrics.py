"""The router's Prometheus metrics, in a registry of its own.

Names follow ``ruvstream_router_<name>_<unit>``. Breaker state and node
health are gauges refreshed from the routing table at scrape time, so they
never drift from what selection actually sees.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from .node import Node
from .outlier import OutlierDetector

__all__ = ["RouterMetrics"]

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class RouterMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "ruvstream_router_requests_total",
            "Requests answered by the router, by node region, protocol and status class",
            ["region", "protocol", "status"],
            registry=r,
        )
        self.upstream_seconds = Histogram(
            "ruvstream_router_upstream_seconds",
            "Time from forwarding a request to the node's response headers",
            ["region"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.rejected = Counter(
            "ruvstream_router_rejected_total",
            "Requests refused by the router, by reason and tier",
            ["reason", "tier"],
            registry=r,
        )
        self.retries = Counter(
            "ruvstream_router_retries_total", "Attempts sent again to another node", registry=r
        )
        self.hedges = Counter(
            "ruvstream_router_hedges_total", "Hedged second attempts for slow reads", registry=r
        )
        self.failovers = Counter(
            "ruvstream_router_ws_failovers_total",
            "WebSocket sessions moved to another node after their node failed",
            registry=r,
        )
        searches = Counter(
            "ruvstream_router_search_path",
            "HTTP searches relayed, by the path that relayed them (fast client or streamed)",
            ["path"],
            registry=r,
        )
        # Both children exist from the start, so a path that never served shows 0.
        self.fast_searches = searches.labels("fast")
        self.streamed_searches = searches.labels("standard")
        self.inflight = Gauge(
            "ruvstream_router_inflight_requests", "Requests and streams in flight", registry=r
        )
        self.breaker_state = Gauge(
            "ruvstream_router_breaker_state",
            "Circuit breaker state per node: 0 closed, 1 open, 2 half-open",
            ["node", "region"],
            registry=r,
        )
        self.node_up = Gauge(
            "ruvstream_router_node_up_ratio",
            "1 when the node passed its last health probe",
            ["node", "region"],
            registry=r,
        )
        self.ejected = Gauge(
            "ruvstream_router_node_ejected_ratio",
            "1 while the node is ejected as an outlier",
            ["node", "region"],
            registry=r,
        )
        self._answered: dict[tuple[str, int], Counter] = {}
        self._upstream: dict[str, Histogram] = {}
        self.pressure = Gauge(
            "ruvstream_router_pressure_ratio", "Load pressure that drives shedding", registry=r
        )

    def upstream(self, region: str) -> Histogram:
        """``upstream_seconds`` for ``region``, looked up once."""
        child = self._upstream.get(region)
        if child is None:
            child = self._upstream[region] = self.upstream_seconds.labels(region)
        return child

    def answered(self, region: str, status: int) -> None:
        """One answered request (``requests``), its child looked up once per label pair."""
        key = (region, status // 100)
        child = self._answered.get(key)
        if child is None:
            child = self._answered[key] = self.requests.labels(region, "http", f"{key[1]}xx")
        child.inc()

    def refresh(self, nodes: list[Node], outliers: OutlierDetector, pressure: float) -> None:
        for node in nodes:
            labels = (node.name, node.region)
            self.breaker_state.labels(*labels).set(int(node.breaker.state))
            self.node_up.labels(*labels).set(1 if node.healthy else 0)
            self.ejected.labels(*labels).set(1 if outliers.is_ejected(node.name) else 0)
        self.pressure.set(pressure)
