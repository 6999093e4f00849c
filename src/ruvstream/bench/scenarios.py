"""The scenario library: the fifteen load shapes of the design, and their SLAs.

A scenario is written at production size (concurrent streams, queries per
second, durations) and mapped onto one machine by a ``LocalScale``: streams
and rates are divided by scale factors and the whole timeline is compressed
to a local duration, keeping the *shape* (stage ratios, read/write mix,
pattern, protocol, burst windows, failure times). Thresholds are checked on
the scaled run. Scenarios that need several regions, a router or injected
failures name those needs in ``requires``; the runner refuses them until the
pieces exist and says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = [
    "SCENARIOS",
    "SLA",
    "Burst",
    "LocalScale",
    "LocalShape",
    "Scenario",
    "Stage",
    "get_scenario",
]


@dataclass(frozen=True)
class Stage:
    """A segment of the timeline: ``minutes`` long, load going ``start`` -> ``end``.

    Levels are multiples of the scenario's base load (1.0 = ``streams`` and
    ``qps`` as written).
    """

    minutes: float
    start: float
    end: float


@dataclass(frozen=True)
class Burst:
    """Every ``every_min`` minutes, ``for_min`` minutes at ``multiplier`` x rate.

    Queries inside a burst follow the hotspot pattern.
    """

    multiplier: float
    for_min: float
    every_min: float


@dataclass(frozen=True)
class SLA:
    p99_ms: float
    error_pct: float
    availability_pct: float
    p50_ms: float | None = None
    min_recall: float = 0.9


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    streams: float
    qps: float
    stages: tuple[Stage, ...]
    sla: SLA
    read_ratio: float = 1.0
    pattern: str = "uniform"
    protocol: str = "http"
    burst: Burst | None = None
    requires: tuple[str, ...] = ()
    failures_at_min: tuple[float, ...] = ()
    outage_min: float = 0.0  # how long each failed region stays down (0: till the end)
    regions: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @property
    def minutes(self) -> float:
        return sum(stage.minutes for stage in self.stages)

    def level_at(self, minute: float) -> float:
        """Piecewise-linear load level at ``minute`` from the start (0 past the end)."""
        t = 0.0
        for stage in self.stages:
            if minute < t + stage.minutes:
                frac = (minute - t) / stage.minutes if stage.minutes else 1.0
                return stage.start + (stage.end - stage.start) * frac
            t += stage.minutes
        return 0.0

    def in_burst(self, minute: float) -> bool:
        if self.burst is None:
            return False
        return (minute % self.burst.every_min) < self.burst.for_min

    def rate_multiplier(self, minute: float) -> float:
        return self.burst.multiplier if self.in_burst(minute) and self.burst else 1.0


@dataclass(frozen=True)
class LocalScale:
    """How production size maps onto this machine.

    Defaults: 1 local stream per 1M production streams (500M -> 500) and 1
    local query/s per 200k production queries/s (50M qps -> 250 qps);
    ``max_streams`` and ``max_rate`` cap what one load process attempts.
    """

    stream_scale: float = 1_000_000
    rate_scale: float = 200_000
    seconds: float = 60.0
    max_streams: int = 30_000
    max_rate: float = 5_000.0


@dataclass(frozen=True)
class LocalShape:
    """A scenario mapped onto one machine; all methods take seconds from start."""

    scenario: Scenario
    scale: LocalScale
    base_streams: int = field(init=False)
    base_rate: float = field(init=False)

    def __post_init__(self) -> None:
        s = self.scenario
        object.__setattr__(self, "base_streams", math.ceil(s.streams / self.scale.stream_scale))
        object.__setattr__(self, "base_rate", s.qps / self.scale.rate_scale)

    @property
    def seconds(self) -> float:
        return self.scale.seconds

    def _minute(self, t: float) -> float:
        return t / self.scale.seconds * self.scenario.minutes

    def streams_at(self, t: float) -> int:
        level = self.scenario.level_at(self._minute(t))
        return min(self.scale.max_streams, round(self.base_streams * level))

    def rate_at(self, t: float) -> float:
        minute = self._minute(t)
        rate = self.base_rate * self.scenario.level_at(minute)
        return min(self.scale.max_rate, rate * self.scenario.rate_multiplier(minute))

    def in_burst(self, t: float) -> bool:
        return self.scenario.in_burst(self._minute(t))

    def failure_offsets(self) -> list[float]:
        total = self.scenario.minutes
        return [m / total * self.scale.seconds for m in self.scenario.failures_at_min]


def _ramp(up: float, hold: float, down: float, level: float = 1.0) -> tuple[Stage, ...]:
    return (Stage(up, 0.0, level), Stage(hold, level, level), Stage(down, level, 0.0))


_B = 1_000_000_000
_M = 1_000_000
_EU = ("europe-west1", "europe-west2", "europe-north1")

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "baseline_500m",
            "Baseline 500M concurrent",
            500 * _M,
            50 * _M,
            _ramp(30, 120, 15),
            SLA(50, 0.01, 99.99),
            tags=("baseline", "steady-state"),
        ),
        Scenario(
            "baseline_100m",
            "Baseline 100M concurrent",
            100 * _M,
            10 * _M,
            _ramp(10, 30, 5),
            SLA(50, 0.01, 99.99),
            tags=("baseline", "quick"),
        ),
        Scenario(
            "burst_10x",
            "Burst 10x (5B concurrent)",
            500 * _M,
            50 * _M,
            (Stage(5, 1, 10), Stage(10, 10, 10), Stage(5, 10, 1)),
            SLA(100, 0.1, 99.9),
            pattern="burst",
            burst=Burst(1, 5, 10),
            tags=("burst", "spike"),
        ),
        Scenario(
            "burst_25x",
            "Burst 25x (12.5B concurrent)",
            500 * _M,
            50 * _M,
            (Stage(10, 1, 25), Stage(15, 25, 25), Stage(10, 25, 1)),
            SLA(150, 0.5, 99.5),
            pattern="burst",
            protocol="http2",
            burst=Burst(1, 15, 30),
            tags=("burst", "extreme"),
        ),
        Scenario(
            "burst_50x",
            "Burst 50x (25B concurrent)",
            500 * _M,
            50 * _M,
            (Stage(15, 1, 50), Stage(20, 50, 50), Stage(15, 50, 1)),
            SLA(200, 1.0, 99.0),
            pattern="burst",
            protocol="http2",
            burst=Burst(1, 20, 60),
            tags=("burst", "maximum"),
        ),
        Scenario(
            "regional_failover",
            "Single-region failover",
            500 * _M,
            45 * _M,
            _ramp(10, 30, 5),
            SLA(100, 1.0, 99.0),
            requires=("regions", "router", "failures"),
            failures_at_min=(15,),
            outage_min=10,
            tags=("failover",),
        ),
        Scenario(
            "multi_region_failover",
            "Multi-region failover",
            500 * _M,
            40 * _M,
            _ramp(10, 40, 5),
            SLA(150, 2.0, 98.0),
            requires=("regions", "router", "failures"),
            failures_at_min=(15, 30),
            outage_min=20,
            tags=("failover", "multi-region"),
        ),
        Scenario(
            "cold_start",
            "Cold start",
            500 * _M,
            48 * _M,
            _ramp(30, 30, 10),
            SLA(100, 0.1, 99.9),
            requires=("spawn",),
            tags=("cold-start",),
        ),
        Scenario(
            "read_heavy",
            "Read-heavy (95/5)",
            500 * _M,
            50 * _M,
            _ramp(20, 60, 10),
            SLA(50, 0.01, 99.99),
            read_ratio=0.95,
            pattern="hotspot",
            tags=("workload",),
        ),
        Scenario(
            "write_heavy",
            "Write-heavy (30/70)",
            500 * _M,
            45 * _M,
            _ramp(20, 60, 10),
            SLA(80, 0.05, 99.95),
            read_ratio=0.3,
            tags=("workload",),
        ),
        Scenario(
            "balanced_workload",
            "Balanced (50/50)",
            500 * _M,
            48 * _M,
            _ramp(20, 60, 10),
            SLA(60, 0.02, 99.98),
            read_ratio=0.5,
            pattern="zipfian",
            tags=("workload",),
        ),
        Scenario(
            "world_cup",
            "World Cup final",
            500 * _M,
            50 * _M,
            (
                Stage(30, 1, 1),
                Stage(15, 1, 10),
                Stage(90, 10, 10),
                Stage(15, 10, 1),
                Stage(30, 1, 1),
            ),
            SLA(100, 0.1, 99.9),
            pattern="burst",
            protocol="ws",
            burst=Burst(1, 90, 120),
            requires=("regions",),
            regions=_EU,
            tags=("real-world", "predictable-spike"),
        ),
        Scenario(
            "black_friday",
            "Black Friday",
            2 * _B,
            200 * _M,
            (Stage(60, 0.2, 1), Stage(720, 1, 1), Stage(60, 1, 0.2)),
            SLA(80, 0.05, 99.95),
            read_ratio=0.9,
            pattern="burst",
            protocol="http2",
            burst=Burst(5, 60, 120),
            tags=("real-world", "sustained"),
        ),
        Scenario(
            "gradual_increase",
            "Gradual increase to the breaking point",
            100 * _M,
            10 * _M,
            tuple(Stage(30, float(i), float(i + 1)) for i in range(10)),
            SLA(100, 1.0, 99.0),
            tags=("capacity", "breaking-point"),
        ),
        Scenario(
            "soak",
            "Soak (24 h steady)",
            500 * _M,
            50 * _M,
            _ramp(30, 1380, 30),
            SLA(50, 0.01, 99.99),
            read_ratio=0.95,
            tags=("soak", "leaks"),
        ),
    )
}


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise KeyError(f"unknown scenario {name!r}; `ruvstream bench list` shows them") from None
