"""Scrape the nodes' own ``/metrics`` during a run.

Counters are read before and after the load so the report can set what the
generator counted beside what the server counted (the load starts only once
the first reading is in, ``primed``); gauges (CPU, memory,
connections, streams) and the batch-size histogram are sampled every
``interval`` seconds into a series for the dashboard and the analysis.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

__all__ = ["Sample", "Scraper", "parse_metrics", "scrape_once"]

Sample = dict[str, float]


def parse_metrics(text: str) -> Sample:
    """Flatten Prometheus text into ``name{label=value,...}`` -> value."""
    out: Sample = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}" if labels else sample.name] = float(sample.value)
    return out


def total(sample: Sample, prefix: str, **labels: str) -> float:
    """Sum of the series named ``prefix`` whose labels include ``labels``."""
    want = [f"{k}={v}" for k, v in labels.items()]
    result = 0.0
    for key, value in sample.items():
        name, _, rest = key.partition("{")
        if name == prefix and all(w in rest.rstrip("}").split(",") for w in want):
            result += value
    return result


async def scrape_once(client: httpx.AsyncClient, url: str) -> Sample:
    response = await client.get(f"{url}/metrics", timeout=5.0)
    response.raise_for_status()
    return parse_metrics(response.text)


def _digest(sample: Sample) -> dict[str, float]:
    batches = total(sample, "ruvstream_batch_size_count")
    return {
        "cpu_percent": total(sample, "ruvstream_process_cpu_percent"),
        "rss_bytes": total(sample, "ruvstream_process_resident_memory_bytes"),
        "connections_http": total(sample, "ruvstream_connections", protocol="http"),
        "connections_ws": total(sample, "ruvstream_connections", protocol="websocket"),
        "searches": total(sample, "ruvstream_search_requests_total"),
        "batches": batches,
        "mean_batch": total(sample, "ruvstream_batch_size_sum") / batches if batches else 0.0,
        "errors": total(sample, "ruvstream_errors_total"),
    }


@dataclass
class Scraper:
    """Samples one node's metrics every ``interval`` seconds until stopped."""

    url: str
    region: str = "local"
    interval: float = 1.0
    series: list[dict[str, float]] = field(default_factory=list)
    failures: int = 0
    before: Sample = field(default_factory=dict)
    after: Sample = field(default_factory=dict)
    primed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once ``before`` is taken: load sent earlier would be counted in it."""

    async def run(self, stop: asyncio.Event) -> None:
        started = time.perf_counter()
        async with httpx.AsyncClient() as client:
            try:
                with contextlib.suppress(httpx.HTTPError):
                    self.before = await scrape_once(client, self.url)
            finally:
                self.primed.set()
            while not stop.is_set():
                # Wait first: the node's CPU figure covers the time since the last scrape.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval)
                try:
                    sample = await scrape_once(client, self.url)
                    self.series.append({"t": time.perf_counter() - started, **_digest(sample)})
                except httpx.HTTPError:
                    self.failures += 1
            with contextlib.suppress(httpx.HTTPError):
                self.after = await scrape_once(client, self.url)

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "region": self.region,
            "series": self.series,
            "failures": self.failures,
            "before": self.before,
            "after": self.after,
        }
