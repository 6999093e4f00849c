"""Sensitivity: cost and SLO of one scenario as one input moves, all else held.

``PARAMETERS`` names what can move:

- ``streams-per-node``: open streams an instance holds (the platform's socket
  cap, with memory enough to hold them);
- ``queries-per-stream``: searches each stream sends per second;
- ``prewarm-lead``: the predictor's margin over the instance start-up, in
  seconds (its lead is start-up + margin);
- ``platform``: a platform profile by name.

Each value is a full run with the same seed, so the rows differ only by the
input (and by what the policies made of it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from ._engine import SimConfig, simulate
from ._platform import PLATFORMS
from ._scenarios import Scenario

__all__ = ["PARAMETERS", "sweep"]


def _streams_per_node(c: SimConfig, v: str) -> SimConfig:
    n = float(v)
    platform = dataclasses.replace(c.platform, max_streams_per_instance=n)
    node = dataclasses.replace(
        c.node, streams_per_gb=max(c.node.streams_per_gb, n / c.platform.memory_gb)
    )
    return dataclasses.replace(c, platform=platform, node=node)


def _queries_per_stream(c: SimConfig, v: str) -> SimConfig:
    return dataclasses.replace(
        c, traffic=dataclasses.replace(c.traffic, queries_per_stream=float(v))
    )


def _prewarm_lead(c: SimConfig, v: str) -> SimConfig:
    predictor = dataclasses.replace(c.scaling.predictor, prewarm_margin_seconds=float(v))
    return dataclasses.replace(c, scaling=dataclasses.replace(c.scaling, predictor=predictor))


def _platform(c: SimConfig, v: str) -> SimConfig:
    if v not in PLATFORMS:
        raise ValueError(f"platform: expected one of {', '.join(PLATFORMS)}, got {v!r}")
    return dataclasses.replace(c, platform=PLATFORMS[v])


PARAMETERS: dict[str, Callable[[SimConfig, str], SimConfig]] = {
    "streams-per-node": _streams_per_node,
    "queries-per-stream": _queries_per_stream,
    "prewarm-lead": _prewarm_lead,
    "platform": _platform,
}

_KEEP = (
    "cost_dollars",
    "cost_per_month",
    "cost_per_stream_month",
    "instance_hours",
    "instances_peak_total",
    "slo_violation_minutes",
    "shed_share",
    "time_to_capacity_seconds",
)


def sweep(
    scenario: Scenario, seed: int, config: SimConfig, parameter: str, values: Sequence[str]
) -> dict[str, Any]:
    """One run per value; the rows keep each run's cost, capacity and SLO figures."""
    if parameter not in PARAMETERS:
        raise ValueError(f"sweep: parameter must be one of {', '.join(PARAMETERS)}")
    rows = []
    for v in values:
        doc = simulate(scenario, seed, PARAMETERS[parameter](config, v)).doc
        rows.append({"value": v, **{k: doc[k] for k in _KEEP}})
    return {"scenario": scenario.name, "seed": seed, "parameter": parameter, "rows": rows}
