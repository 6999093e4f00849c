"""Offered traffic: how many streams each region holds and what they send, over time.

``Traffic`` is the workload's three parameters: ``streams`` worldwide at
baseline, ``queries_per_stream`` and ``messages_per_stream`` (per second).
A request is one query or one message; the node profile's QPS figure serves
both (a pushed message costs the node one request's work: a stated
assumption, not a measurement).

The baseline split is the original design's: five tier-1 hubs of 80M streams
and ten tier-2 regions of 10M (``LOAD_TEST_SCENARIOS.md`` 1.1), i.e. shares of
16 % and 2 % of ``streams``, taken from ``ruvstream.geo``'s tiers.

A burst is ``extra`` streams on top of the baseline, shared over regions by
the scenario's ``shares``. ``burst_as`` says what an extra audience member
is: ``streams`` (each opens its own connection, as the original assumed) or
``messages`` (the audience arrives as messages over the baseline's bounded
connections, each extra member adding ``queries_per_stream`` requests per
second to the region's existing streams).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

from ruvstream.geo import REGIONS

__all__ = ["BURST_MODES", "Traffic", "baseline_shares", "piecewise"]

BURST_MODES = ("streams", "messages")
_TIER_STREAMS = {1: 80e6, 2: 10e6}


@dataclass(frozen=True, slots=True)
class Traffic:
    """The workload. Defaults: the original's 500M streams at 0.1 queries per stream
    per second (``benchmark-scenarios.ts``: 500M x 0.1 = 50M q/s), no pushed messages."""

    streams: float = 500e6
    queries_per_stream: float = 0.1
    messages_per_stream: float = 0.0
    burst_as: str = "streams"

    def __post_init__(self) -> None:
        if self.streams < 0 or self.queries_per_stream < 0 or self.messages_per_stream < 0:
            raise ValueError("streams, queries_per_stream and messages_per_stream must be >= 0")
        if self.burst_as not in BURST_MODES:
            raise ValueError(f"burst_as must be one of {', '.join(BURST_MODES)}")

    @property
    def requests_per_stream(self) -> float:
        return self.queries_per_stream + self.messages_per_stream

    def region_load(self, base_streams: float, extra: float) -> tuple[float, float]:
        """(offered requests/s, open streams) of a region with ``extra`` burst audience."""
        if self.burst_as == "streams":
            streams = base_streams + extra
            return streams * self.requests_per_stream, streams
        qps = base_streams * self.requests_per_stream + extra * self.queries_per_stream
        return qps, base_streams


def baseline_shares() -> dict[str, float]:
    """Each region's share of baseline streams (tier-1 80M, tier-2 10M; they sum to 1)."""
    raw = {r.name: _TIER_STREAMS[r.tier] for r in REGIONS}
    total = sum(raw.values())
    return {name: v / total for name, v in raw.items()}


def piecewise(points: tuple[tuple[float, float], ...], t: float) -> float:
    """Linear interpolation through ``(t, value)`` points; flat outside them."""
    if t <= points[0][0]:
        return points[0][1]
    for (t0, v0), (t1, v1) in itertools.pairwise(points):
        if t <= t1:
            return v0 if t1 == t0 else v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    return points[-1][1]


def normalised(weights: Mapping[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    return {k: v / total for k, v in weights.items()} if total else dict(weights)
