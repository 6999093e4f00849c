"""Prometheus metrics of one node's replication, on the node's own registry."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["ReplicationMetrics"]

_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
_DELAY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class _LagCollector(Collector):
    """Lag is computed at scrape time, so a scrape never shows a stale figure."""

    def __init__(self, lags: Callable[[], dict[str, float]]) -> None:
        self._lags = lags

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "ruvstream_replication_lag_seconds",
            "Time since this node was last known caught up with a source region.",
            labels=["source_region"],
        )
        for region, lag in sorted(self._lags().items()):
            family.add_metric([region], lag)
        yield family


class ReplicationMetrics:
    def __init__(self, registry: CollectorRegistry, lags: Callable[[], dict[str, float]]) -> None:
        registry.register(_LagCollector(lags))
        self.apply_delay = Histogram(
            "ruvstream_replication_apply_delay_seconds",
            "From an op's origin timestamp to its application here.",
            ["source_region"],
            buckets=_DELAY_BUCKETS,
            registry=registry,
        )
        self.applied = Counter(
            "ruvstream_replication_applied_ops_total",
            "Ops from the bus by outcome: changed state, or a duplicate/older version.",
            ["source_region", "result"],
            registry=registry,
        )
        self.published = Counter(
            "ruvstream_replication_published_ops_total",
            "Local ops stored on the bus.",
            registry=registry,
        )
        self.publish_errors = Counter(
            "ruvstream_replication_publish_errors_total",
            "Publishes that failed and were queued for retry.",
            registry=registry,
        )
        self.outbox = Gauge(
            "ruvstream_replication_outbox_ops",
            "Local ops acknowledged here and not yet stored on the bus (the backlog).",
            registry=registry,
        )
        self.backlog_age = Gauge(
            "ruvstream_replication_backlog_oldest_seconds",
            "Age of the oldest local op not yet stored on the bus (0 when none waits).",
            registry=registry,
        )
        self.bus_reachable = Gauge(
            "ruvstream_replication_bus_reachable",
            "1 while the bus is connected and the last publish succeeded, else 0.",
            registry=registry,
        )
        self.publish_batch = Histogram(
            "ruvstream_replication_publish_batch_ops",
            "Local ops per published batch.",
            buckets=_BATCH_BUCKETS,
            registry=registry,
        )
        self.apply_batch = Histogram(
            "ruvstream_replication_apply_batch_ops",
            "Remote ops per applied batch (one WAL group commit).",
            buckets=_BATCH_BUCKETS,
            registry=registry,
        )
        self.position = Gauge(
            "ruvstream_replication_applied_seq",
            "Bus sequence through which this node has applied every op.",
            registry=registry,
        )
