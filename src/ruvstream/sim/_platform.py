"""Platform profiles as data: what an instance is, holds, costs and takes to start.

Two profiles ship (``PLATFORMS``); a config file may override any field.

- ``cloud-run``: a 4 vCPU / 16 GiB instance (the original design's shape).
  At most 1,000 concurrent requests per instance (Cloud Run's ceiling), so at
  most 1,000 open streams; a request, so a stream, is cut after 60 minutes
  and the client reconnects (each reconnect costs ``reconnect_cost``
  requests of work); an instance with an open WebSocket is billed as active
  all the time, so it costs vCPU-seconds and GiB-seconds round the clock at
  the request-based rates the original used ($0.000024 per vCPU-s, and
  $0.0000025 per GiB-s): $0.49 per instance-hour. Start-up: 10 s to schedule
  and start the container before the node's own start-up and index load.
  Quota: 100,000 instances per region (the figure the original's 50x
  "results" say it maxed out, ``scaling-strategy.md:997``; Cloud Run's default
  is far lower, and ``--config`` can set any).
- ``vm-pool``: a VM or Kubernetes node pool of 16 vCPU / 64 GiB machines
  holding up to 100,000 sockets each (the original's ``MAX_CONNECTIONS``);
  streams are not cut; $0.78 per machine-hour (on-demand n2-standard-16);
  90 s to boot a machine and join the pool; 5,000 machines per region.

Region prices scale with the original's per-region table (``REGION_COSTS``:
us-central1 = 1.0, southamerica-east1 = 1.3); regions not in it pay the base.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ruvstream.control.scaling.capacity import REGION_COSTS

__all__ = ["PLATFORMS", "Platform", "region_price_factor"]

_BASE_REGION_COST = 0.50


@dataclass(frozen=True, slots=True)
class Platform:
    """One platform profile. ``stream_cut_seconds`` 0 means streams are never cut."""

    name: str
    vcpus: float
    memory_gb: float
    max_streams_per_instance: float
    stream_cut_seconds: float
    reconnect_cost: float
    price_per_instance_hour: float
    startup_seconds: float
    quota_per_region: int
    billing: str

    def __post_init__(self) -> None:
        if min(self.vcpus, self.memory_gb, self.max_streams_per_instance) <= 0:
            raise ValueError(f"platform {self.name}: vcpus, memory and streams must be > 0")
        if (
            min(
                self.stream_cut_seconds,
                self.reconnect_cost,
                self.price_per_instance_hour,
                self.startup_seconds,
            )
            < 0
            or self.quota_per_region < 1
        ):
            raise ValueError(f"platform {self.name}: negative figure or quota < 1")

    def reconnects_per_second(self, streams: float) -> float:
        """Streams cut and reopened per second (each stream once per cut period)."""
        return streams / self.stream_cut_seconds if self.stream_cut_seconds else 0.0

    def with_overrides(self, fields: Mapping[str, float]) -> Platform:
        known = {f.name for f in dataclasses.fields(self)} - {"name", "billing"}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise ValueError(f"platform {self.name}: unknown field(s) {', '.join(unknown)}")
        values: dict[str, Any] = {
            k: int(v) if k == "quota_per_region" else float(v) for k, v in fields.items()
        }
        return dataclasses.replace(self, **values)


def region_price_factor(region: str) -> float:
    return REGION_COSTS.get(region, _BASE_REGION_COST) / _BASE_REGION_COST


_CLOUD_RUN_VCPU_SECOND = 0.000024
_CLOUD_RUN_GIB_SECOND = 0.0000025

PLATFORMS: Mapping[str, Platform] = {
    p.name: p
    for p in (
        Platform(
            name="cloud-run",
            vcpus=4.0,
            memory_gb=16.0,
            max_streams_per_instance=1000.0,
            stream_cut_seconds=3600.0,
            reconnect_cost=1.0,
            price_per_instance_hour=round(
                (4 * _CLOUD_RUN_VCPU_SECOND + 16 * _CLOUD_RUN_GIB_SECOND) * 3600, 4
            ),
            startup_seconds=10.0,
            quota_per_region=100_000,
            billing="instance active while any socket is open (request-based rates)",
        ),
        Platform(
            name="vm-pool",
            vcpus=16.0,
            memory_gb=64.0,
            max_streams_per_instance=100_000.0,
            stream_cut_seconds=0.0,
            reconnect_cost=1.0,
            price_per_instance_hour=0.78,
            startup_seconds=90.0,
            quota_per_region=5_000,
            billing="per machine-hour, on demand",
        ),
    )
}
