"""Builders for the scaling tests: a small fleet on a ManualClock the tests move."""

from __future__ import annotations

from dataclasses import replace

from ruvstream.control.scaling import (
    BudgetConfig,
    Calendar,
    NodeCapacity,
    ReactiveConfig,
    RegionPolicy,
    ScalingConfig,
    ScalingSimulation,
)

REGION = "us-central1"
# One node serves 100 q/s; at the 0.7 target, 70 q/s per instance.
NODE = NodeCapacity(qps_per_instance=100.0, streams_per_instance=1000.0, startup_seconds=20.0)


def config(**changes: object) -> ScalingConfig:
    base = ScalingConfig(
        tick_seconds=2.0,
        node=NODE,
        reactive=ReactiveConfig(),
        budget=BudgetConfig(hourly_dollars=1e9, daily_dollars=1e12, monthly_dollars=1e15),
        regions={
            REGION: RegionPolicy(
                REGION, min_instances=1, max_instances=500, cost_per_instance_hour=1.0, priority=10
            )
        },
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def simulation(
    cfg: ScalingConfig | None = None,
    calendar: Calendar | None = None,
    *,
    initial: int = 10,
    predictive: bool = True,
    start: float = 1_800_000_000.0,
) -> ScalingSimulation:
    return ScalingSimulation(
        cfg or config(),
        calendar,
        [REGION],
        predictive=predictive,
        start=start,
        initial={REGION: initial},
    )


def run(sim: ScalingSimulation, qps: float, ticks: int, streams: float = 0.0) -> list[int]:
    """Step ``ticks`` times at ``qps``; the desired count after each tick."""
    return [sim.step({REGION: (qps, streams)})[0].desired for _ in range(ticks)]
