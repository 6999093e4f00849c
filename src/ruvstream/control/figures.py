"""A node's figures, read from its own Prometheus registry: the numbers ``/metrics`` shows.

Nothing is recomputed from the node's internals: a ``Sample`` is one read of
the registry (counters, gauges, the search-latency histogram), and
``figures_between`` turns two samples into rates and window percentiles
(QPS, error rate, p50/p95/p99 as Prometheus' ``histogram_quantile`` would
estimate them). CPU and memory come from the same registry, where the node
reads them from the OS at collection time.

Invariants: rates are never negative (a counter that went down, as after a
restart, counts from zero); percentiles of a window without searches are 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry

from ruvstream.core.clock import Clock, SystemClock

__all__ = ["Figures", "FiguresReader", "Sample", "figures_between", "quantile", "read_sample"]

_SEARCHES = "ruvstream_search_requests_total"
_LATENCY = "ruvstream_search_latency_seconds"
_ERRORS = "ruvstream_errors_total"
_REQUESTS = ("ruvstream_http_requests_total", "ruvstream_ws_requests_total")


@dataclass(frozen=True, slots=True)
class Figures:
    """One report of a node's load; the swarm and the coordinator's strategies read it."""

    cpu_percent: float = 0.0
    memory_bytes: int = 0
    memory_percent: float = 0.0
    connections: dict[str, float] = field(default_factory=dict)
    streams: dict[str, float] = field(default_factory=dict)
    qps: float = 0.0
    latency_ms: dict[str, float] = field(default_factory=dict)
    error_rate: float = 0.0
    replication_lag_seconds: float = 0.0
    index_vectors: dict[str, float] = field(default_factory=dict)
    index_bytes: dict[str, float] = field(default_factory=dict)

    @property
    def total_connections(self) -> float:
        return sum(self.connections.values())

    @property
    def total_streams(self) -> float:
        return sum(self.streams.values())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, body: Mapping[str, Any] | None) -> Figures:
        if not body:
            return cls()
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in body.items() if k in known})


@dataclass(frozen=True, slots=True)
class Sample:
    """Registry values at one moment: ``values[(name, labels)]`` and latency buckets."""

    at: float
    values: dict[tuple[str, tuple[tuple[str, str], ...]], float]
    buckets: tuple[tuple[float, float], ...] = ()

    def total(self, name: str) -> float:
        return sum(v for (n, _), v in self.values.items() if n == name)

    def by_label(self, name: str, label: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for (n, labels), value in self.values.items():
            if n == name:
                key = dict(labels).get(label, "")
                out[key] = out.get(key, 0.0) + value
        return out


def read_sample(registry: CollectorRegistry, at: float) -> Sample:
    values: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    buckets: list[tuple[float, float]] = []
    for family in registry.collect():
        for s in family.samples:
            if s.name == f"{_LATENCY}_bucket":
                buckets.append((float(s.labels["le"]), s.value))
            elif not s.name.endswith(("_bucket", "_created", "_sum", "_count")):
                values[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return Sample(at, values, tuple(sorted(buckets)))


def quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float:
    """``histogram_quantile``: linear within the bucket holding rank ``q``; cumulative input."""
    if not buckets or buckets[-1][1] <= 0:
        return 0.0
    rank = q * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            width = count - lower_count
            share = (rank - lower_count) / width if width > 0 else 0.0
            return lower_bound + (bound - lower_bound) * share
        lower_bound, lower_count = bound, count
    return lower_bound


def _delta(now: float, before: float) -> float:
    return now - before if now >= before else now


def _window(
    cur: Iterable[tuple[float, float]], prev: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    old = dict(prev)
    return [(bound, _delta(count, old.get(bound, 0.0))) for bound, count in cur]


def figures_between(prev: Sample | None, cur: Sample, memory_total: float = 0.0) -> Figures:
    """The figures of the window ``prev`` -> ``cur`` (rates over its length)."""
    seconds = cur.at - prev.at if prev is not None else 0.0
    empty = Sample(cur.at, {})
    base = prev or empty
    searches = _delta(cur.total(_SEARCHES), base.total(_SEARCHES))
    requests = sum(_delta(cur.total(n), base.total(n)) for n in _REQUESTS)
    errors = _delta(cur.total(_ERRORS), base.total(_ERRORS))
    window = _window(cur.buckets, base.buckets)
    streams = {k or "ws": v for k, v in cur.by_label("ruvstream_streams_active", "kind").items()}
    streams["subscriptions"] = cur.total("ruvstream_subscriptions_active")
    memory = cur.total("ruvstream_process_resident_memory_bytes")
    lags = cur.by_label("ruvstream_replication_lag_seconds", "source_region")
    return Figures(
        cpu_percent=round(cur.total("ruvstream_process_cpu_percent"), 2),
        memory_bytes=int(memory),
        memory_percent=round(100.0 * memory / memory_total, 3) if memory_total else 0.0,
        connections=cur.by_label("ruvstream_connections", "protocol"),
        streams=streams,
        qps=round(searches / seconds, 3) if seconds > 0 else 0.0,
        latency_ms={
            f"p{int(q * 100)}": round(1000.0 * quantile(q, window), 3) for q in (0.5, 0.95, 0.99)
        },
        error_rate=round(errors / requests, 4) if requests > 0 else 0.0,
        replication_lag_seconds=max(lags.values(), default=0.0),
        index_vectors=cur.by_label("ruvstream_index_vectors", "collection"),
        index_bytes=cur.by_label("ruvstream_index_memory_bytes", "collection"),
    )


class FiguresReader:
    """Reads a registry on each call; each report covers the time since the previous one."""

    def __init__(
        self, registry: CollectorRegistry, clock: Clock | None = None, memory_total: float = 0.0
    ) -> None:
        self.registry = registry
        self.clock = clock or SystemClock()
        self.memory_total = memory_total
        self._last: Sample | None = None

    def read(self) -> Figures:
        cur = read_sample(self.registry, self.clock.monotonic())
        figures = figures_between(self._last, cur, self.memory_total)
        self._last = cur
        return figures
