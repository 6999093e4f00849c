"""Prometheus metrics of one node, on a registry of its own.

A registry per node (not the process-global one) lets several nodes share a
process in tests and in ``cluster up --bus embedded``. Counters and
histograms are updated where things happen; sizes (index vectors, memory,
WAL bytes, process CPU) are read at scrape time by ``NodeCollector``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import psutil
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["NodeMetrics"]

_LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class NodeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.http_requests = Counter(
            "ruvstream_http_requests_total",
            "HTTP requests answered",
            ["route", "method", "status"],
            registry=r,
        )
        self.http_latency = Histogram(
            "ruvstream_http_request_duration_seconds",
            "HTTP request latency",
            ["route", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.ws_frames = Counter(
            "ruvstream_ws_requests_total",
            "WebSocket request frames handled",
            ["op", "outcome"],
            registry=r,
        )
        self.search_requests = Counter(
            "ruvstream_search_requests_total",
            "Searches answered (all protocols)",
            ["collection"],
            registry=r,
        )
        self.search_latency = Histogram(
            "ruvstream_search_latency_seconds",
            "Time from search admission to results",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "ruvstream_batch_size",
            "Searches per batched index call",
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.writes = Counter(
            "ruvstream_writes_total",
            "Write ops applied",
            ["op", "source"],
            registry=r,
        )
        self.connections = Gauge(
            "ruvstream_connections",
            "Open connections by protocol",
            ["protocol"],
            registry=r,
        )
        # Per-request gauges: the label children are looked up once, here.
        self.open_connections = {
            p: self.connections.labels(p) for p in ("http", "websocket", "grpc")
        }
        self.streams = Gauge(
            "ruvstream_streams_active",
            "Open long-lived streams by kind",
            ["kind"],
            registry=r,
        )
        self.rejected = Counter(
            "ruvstream_admission_rejected_total",
            "Requests refused by admission control",
            ["reason"],
            registry=r,
        )
        self.slow_consumers = Counter(
            "ruvstream_slow_consumer_closes_total",
            "Streams closed because their reader fell behind, by transport and cause",
            ["transport", "cause"],
            registry=r,
        )
        self.read_timeouts = Counter(
            "ruvstream_http_read_timeouts_total",
            "HTTP connections cut because a request's head or body arrived too slowly",
            ["phase"],
            registry=r,
        )
        self._http_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._recent_searches: deque[float] = deque(maxlen=2048)
        self._search_children: dict[str, Any] = {}
        self.errors = Counter(
            "ruvstream_errors_total",
            "Errors answered, by code",
            ["code"],
            registry=r,
        )

    def observe_http(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count and time one HTTP answer (label children cached: this runs per request)."""
        key = (route, method, status)
        children = self._http_children.get(key)
        if children is None:
            children = self._http_children[key] = (
                self.http_requests.labels(route, method, str(status)),
                self.http_latency.labels(route, method),
            )
        children[0].inc()
        children[1].observe(seconds)

    def observe_search(self, collection: str, seconds: float) -> None:
        child = self._search_children.get(collection)
        if child is None:
            child = self._search_children[collection] = self.search_requests.labels(collection)
        child.inc()
        self.search_latency.observe(seconds)
        self._recent_searches.append(seconds)

    def recent_search_p99_ms(self) -> float:
        """p99 of the last 2,048 searches (0 before any): the load figure routers read."""
        if not self._recent_searches:
            return 0.0
        ordered = sorted(self._recent_searches)
        return 1000.0 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]

    def attach(self, read_state: Callable[[], dict[str, Any]]) -> None:
        """Export node state read at scrape time (sizes, WAL, subscriptions)."""
        self.registry.register(_NodeCollector(read_state))


class _NodeCollector(Collector):
    def __init__(self, read_state: Callable[[], dict[str, Any]]) -> None:
        self._read_state = read_state
        self._process = psutil.Process()
        self._process.cpu_percent(None)  # prime: the first reading is always 0

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        state = self._read_state()
        vectors = GaugeMetricFamily(
            "ruvstream_index_vectors", "Live vectors per collection", labels=["collection"]
        )
        memory = GaugeMetricFamily(
            "ruvstream_index_memory_bytes", "Index memory per collection", labels=["collection"]
        )
        for name, (count, nbytes) in state["collections"].items():
            vectors.add_metric([name], count)
            memory.add_metric([name], nbytes)
        yield vectors
        yield memory
        yield CounterMetricFamily(
            "ruvstream_wal_bytes", "Bytes appended to the WAL", value=state["wal_bytes"]
        )
        yield CounterMetricFamily(
            "ruvstream_wal_fsyncs", "WAL fsync calls", value=state["wal_fsyncs"]
        )
        yield GaugeMetricFamily(
            "ruvstream_subscriptions_active", "Standing queries", value=state["subscriptions"]
        )
        yield GaugeMetricFamily(
            "ruvstream_process_cpu_percent",
            "Process CPU (100 = one core)",
            value=self._process.cpu_percent(None),
        )
        yield GaugeMetricFamily(
            "ruvstream_process_resident_memory_bytes",
            "Process RSS",
            value=self._process.memory_info().rss,
        )
