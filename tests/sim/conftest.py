"""Short runs the simulator tests share: scenarios cut down so a run takes seconds."""

from __future__ import annotations

import dataclasses

from ruvstream.sim import PLATFORMS, SCENARIOS, Scenario, SimConfig, Traffic


def short(name: str, *, duration: float = 1500.0, event_start: float = 300.0) -> Scenario:
    """``name``'s shape from ``event_start`` on, ``duration`` seconds in all."""
    s = SCENARIOS[name]
    failures = tuple((r, min(at, duration / 2)) for r, at in s.failures)
    return dataclasses.replace(
        s, duration_seconds=duration, event_start=event_start, failures=failures
    )


def small(
    streams: float = 50e6, *, burst_as: str = "streams", platform: str = "cloud-run"
) -> SimConfig:
    """50M streams by default: the same shapes, a tenth of the fleet."""
    return SimConfig(
        traffic=Traffic(streams=streams, burst_as=burst_as), platform=PLATFORMS[platform]
    )
