"""What one node can carry: the measured figures every policy sizes capacity with.

The predictor turns predicted demand into instances with these figures, and
the replay's simulated fleet serves offered load with the same ones, so a
prediction and its outcome are measured in one unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["CLOUD_STARTUP_SECONDS", "MEASURED_STARTUP_SECONDS", "NodeCapacity", "ceil_int"]

MEASURED_STARTUP_SECONDS = 6.0
"""Spawn to ``/ready`` of a local node, the slowest of nine starts rounded up:
``ruvstream bench startup --records 0 --records 20000 --runs 3`` then ``--records
100000 --runs 3`` on this 2-core machine (dim 50): ready median 2.5 / 1.9 / 4.7 s,
max 3.0 / 2.6 / 5.9 s for an empty node and snapshots of 20,000 and 100,000 records.
A node on a cluster adds scheduling and the image pull: measure it there and set
``node.startup_seconds``."""

CLOUD_STARTUP_SECONDS = 120.0
"""The start-up the scaling benchmark simulates (a container scheduled on a new
machine and its image pulled), the figure its documented runs used."""


def ceil_int(x: float) -> int:
    """``ceil`` that ignores float noise (7.000000001 -> 7), never below 0."""
    return max(0, math.ceil(x - 1e-9))


@dataclass(frozen=True, slots=True)
class NodeCapacity:
    """Per-node figures, measured on the node benchmark and set in the config.

    - ``qps_per_instance``: searches per second one node serves at full load.
      Default 6,000: the node benchmark serves 6,300-6,900 over HTTP and
      WebSocket on this 2-core machine (README, "Benchmarks").
    - ``streams_per_instance``: open streams one node holds at full memory. Default
      1,000, Cloud Run's ceiling of concurrent requests per instance (DESIGN).
    - ``startup_seconds``: from "start a node" to "serving" (process start plus
      index load from a snapshot). Default ``MEASURED_STARTUP_SECONDS``, measured
      by ``ruvstream bench startup``; the predictor's pre-warm lead is this plus
      its margin.
    - ``container_concurrency``: in-flight requests a node at full load holds
      (Knative's ``container-concurrency-target-default`` 100); the reactive
      concurrency target is a share of it.
    - ``target_utilization``: the share of full load capacity is sized for (Knative's
      ``container-concurrency-target-percentage`` 70);
      ``stream_target_utilization`` the share of stream capacity (0.75, the
      original's memory scale-out threshold: streams are what fills memory).
      ``build_orchestrator`` derives both from the reactive targets, so the
      predictor sizes capacity exactly as the reactive scaler will judge it.
    """

    qps_per_instance: float = 6000.0
    streams_per_instance: float = 1000.0
    startup_seconds: float = MEASURED_STARTUP_SECONDS
    container_concurrency: float = 100.0
    target_utilization: float = 0.7
    stream_target_utilization: float = 0.75

    def __post_init__(self) -> None:
        if self.qps_per_instance <= 0 or self.streams_per_instance <= 0:
            raise ValueError("qps_per_instance and streams_per_instance must be > 0")
        if not (0 < self.target_utilization <= 1 and 0 < self.stream_target_utilization <= 1):
            raise ValueError("target utilisations must lie in (0, 1]")
        if self.startup_seconds < 0:
            raise ValueError("startup_seconds must be >= 0")

    def instances_for(self, qps: float, streams: float) -> int:
        """Instances that carry ``qps`` and ``streams`` at the target utilisation."""
        by_qps = qps / (self.qps_per_instance * self.target_utilization)
        by_streams = streams / (self.streams_per_instance * self.stream_target_utilization)
        return ceil_int(max(by_qps, by_streams))

    def concurrency_for(self, qps: float) -> float:
        """In-flight requests ``qps`` keeps open (Little's law at full-load service time)."""
        return qps / self.qps_per_instance * self.container_concurrency
