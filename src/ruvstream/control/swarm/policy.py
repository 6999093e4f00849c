"""The swarm's threshold policy: desired nodes per region from reported load, with cooldowns.

Pure, on an injected clock. ``decide(region, desired, loads)`` returns the
new desired count for a region given the per-node load figures of its
serving nodes (the mean is compared):

* above ``scale_up`` and below the region's ``max``, once ``up_cooldown``
  has passed since the last scale-up: one ``step`` more (capped at max);
* below ``scale_down`` and above ``min``, once ``down_cooldown`` has passed
  since the last change either way: one fewer (scale-in is gradual);
* otherwise unchanged, but always clamped into ``[min, max]``.

The burst-scaling policies (``control/scaling``) replace it by calling
``SwarmManager.set_desired`` themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ruvstream.core.clock import Clock, SystemClock

from ..figures import Figures

__all__ = ["METRICS", "RegionBounds", "ThresholdConfig", "ThresholdPolicy", "load_of"]

METRICS = ("qps", "cpu", "connections", "streams")


def load_of(figures: Figures, metric: str) -> float:
    if metric == "qps":
        return figures.qps
    if metric == "cpu":
        return figures.cpu_percent
    if metric == "connections":
        return figures.total_connections
    if metric == "streams":
        return figures.total_streams
    raise ValueError(f"unknown load metric {metric!r}; choose from {', '.join(METRICS)}")


@dataclass(frozen=True, slots=True)
class RegionBounds:
    min: int = 1
    max: int = 4

    def __post_init__(self) -> None:
        if not 0 <= self.min <= self.max:
            raise ValueError(f"need 0 <= min <= max, got {self.min}..{self.max}")

    def clamp(self, count: int) -> int:
        return max(self.min, min(self.max, count))


@dataclass(frozen=True, slots=True)
class ThresholdConfig:
    metric: str = "qps"
    scale_up: float = 100.0
    scale_down: float = 20.0
    up_cooldown: float = 30.0
    down_cooldown: float = 60.0
    step: int = 1

    def __post_init__(self) -> None:
        load_of(Figures(), self.metric)
        if self.scale_down >= self.scale_up or self.step < 1:
            raise ValueError("need scale_down < scale_up and step >= 1")


@dataclass
class ThresholdPolicy:
    config: ThresholdConfig
    bounds: Mapping[str, RegionBounds]
    clock: Clock = field(default_factory=SystemClock)
    _last_up: dict[str, float] = field(default_factory=dict)
    _last_change: dict[str, float] = field(default_factory=dict)

    def decide(self, region: str, desired: int, loads: Sequence[float]) -> int:
        bounds = self.bounds[region]
        now = self.clock.monotonic()
        clamped = bounds.clamp(desired)
        if clamped != desired or not loads:
            return clamped
        mean = sum(loads) / len(loads)
        c = self.config
        since_up = now - self._last_up.get(region, -1e18)
        since_change = now - self._last_change.get(region, -1e18)
        if mean > c.scale_up and desired < bounds.max and since_up >= c.up_cooldown:
            self._last_up[region] = self._last_change[region] = now
            return bounds.clamp(desired + c.step)
        if mean < c.scale_down and desired > bounds.min and since_change >= c.down_cooldown:
            self._last_change[region] = now
            return desired - 1
        return desired
