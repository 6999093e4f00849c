"""Replay a load trace through the real policies on simulated time.

``replay`` builds the same objects the leader runs (``build_orchestrator``)
and drives them, tick by tick, on a ``ManualClock`` it moves: the simulated
fleet promotes instances whose start-up has finished, each region serves the
trace's offered load with its ready capacity under the degradation plan in
force, the nodes' figures become samples, and the orchestrator ticks against
the fleet (actuator) and an in-memory degradation port. Each region's tick
is recorded: offered load, served and shed requests, desired, running and
starting capacity, degradation level, spend and the decision's reason.

SLO violation is counted per region-second in which offered load (after the
plan's deliberate shedding) exceeded what ready capacity could serve;
cost is billed instances (ready + starting) x the region's price.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry

from ruvstream.core.clock import ManualClock

from .calendar import Calendar
from .capacity import CapacityManager
from .config import ScalingConfig
from .decisions import DecisionLog, ScalingMetrics
from .degradation import LADDER, DegradationLevel
from .orchestrator import Orchestrator
from .ports import MemoryDegradationPort
from .predictor import Predictor
from .reactive import ReactiveScaler
from .simulation import SimulatedFleet, region_sample, serve
from .trace import Trace

__all__ = ["ReplayResult", "ReplayTick", "build_orchestrator", "replay"]


@dataclass(frozen=True, slots=True)
class ReplayTick:
    t: float
    region: str
    offered_qps: float
    streams: float
    offered: int
    served: int
    shed: int
    shed_share: float
    desired: int
    running: int
    starting: int
    level: str
    spend_dollars: float
    spend_rate_per_hour: float
    reason: str
    slo_violated: bool


@dataclass
class ReplayResult:
    ticks: list[ReplayTick]
    log: DecisionLog
    tick_seconds: float
    predictive: bool
    registry: CollectorRegistry = field(repr=False, default_factory=CollectorRegistry)

    def summary(self) -> dict[str, Any]:
        regions: dict[str, dict[str, Any]] = {}
        for k in self.ticks:
            s = regions.setdefault(k.region, {"offered": 0, "served": 0, "shed": 0,
                                              "slo_violation_seconds": 0.0, "peak_desired": 0})
            s["offered"] += k.offered
            s["served"] += k.served
            s["shed"] += k.shed
            s["slo_violation_seconds"] += self.tick_seconds if k.slo_violated else 0.0
            s["peak_desired"] = max(s["peak_desired"], k.desired)
        levels = [DegradationLevel.parse(k.level) for k in self.ticks]
        return {
            "predictive": self.predictive,
            "ticks": len({k.t for k in self.ticks}),
            "tick_seconds": self.tick_seconds,
            "slo_violation_seconds": sum(s["slo_violation_seconds"] for s in regions.values()),
            "cost_dollars": self.ticks[-1].spend_dollars if self.ticks else 0.0,
            "offered": sum(s["offered"] for s in regions.values()),
            "shed": sum(s["shed"] for s in regions.values()),
            "max_level": max(levels, default=DegradationLevel.NONE).label,
            "regions": regions,
        }

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary(), "ticks": [asdict(k) for k in self.ticks]}


def build_orchestrator(
    config: ScalingConfig,
    calendar: Calendar | None,
    *,
    predictive: bool = True,
    registry: CollectorRegistry | None = None,
) -> Orchestrator:
    """The leader's objects from one config: one predictor, one scaler, one manager."""
    capacity = CapacityManager(dict(config.regions), config.budget, config.degradation)
    predictor = (
        Predictor(calendar or Calendar(), config.node, config.predictor) if predictive else None
    )
    return Orchestrator(
        scaler=ReactiveScaler(config.reactive),
        capacity=capacity,
        predictor=predictor,
        metrics=ScalingMetrics(registry) if registry is not None else None,
        min_confidence=config.min_confidence,
    )


def replay(
    trace: Trace,
    config: ScalingConfig,
    calendar: Calendar | None = None,
    *,
    predictive: bool = True,
    start: float = 0.0,
    history: Iterable[tuple[str, float, float, float]] = (),
) -> ReplayResult:
    """Run the trace from ``start`` (wall time of ``t_seconds`` 0) to its last row.

    ``history`` rows ``(region, wall_time, qps, streams)`` seed the predictor
    before the run (demand the leader would have observed earlier).
    """
    return asyncio.run(_run(trace, config, calendar, predictive, start, history))


async def _run(
    trace: Trace,
    config: ScalingConfig,
    calendar: Calendar | None,
    predictive: bool,
    start: float,
    history: Iterable[tuple[str, float, float, float]],
) -> ReplayResult:
    registry = CollectorRegistry()
    orch = build_orchestrator(config, calendar, predictive=predictive, registry=registry)
    if orch.predictor is not None:
        for region, t, qps, streams in history:
            orch.predictor.observe(region, t, qps, streams)
    clock = ManualClock(start)
    regions = trace.regions
    node, tick = config.node, config.tick_seconds
    fleet = SimulatedFleet(
        clock, node.startup_seconds, {r: config.quota(r) for r in regions},
        initial={r: _initial(config, trace, r) for r in regions},
    )
    port = MemoryDegradationPort()
    ticks: list[ReplayTick] = []
    spend = 0.0
    steps = int(trace.end // tick) + 1
    for step in range(steps):
        if step:
            clock.advance(tick)
        fleet.advance()
        t_rel = step * tick
        actions = port.current.actions if port.current else LADDER[DegradationLevel.NONE]
        samples, loads = [], {}
        for r in regions:
            qps, streams = trace.at(r, t_rel)
            ready, billed = fleet.ready(r), fleet.billed(r)
            load = serve(r, clock.now(), tick, qps, streams, ready, node,
                         config.simulation.tier_mix, actions)
            loads[r] = load
            samples.append(region_sample(load, ready, billed, node))
            spend += billed * config.region(r).cost_per_instance_hour * tick / 3600
        plan = await orch.tick(samples, 1, fleet, port)
        by_region = {d.region: d for d in plan.decisions}
        for r in regions:
            load, d = loads[r], by_region[r]
            ticks.append(ReplayTick(
                t=t_rel, region=r, offered_qps=load.offered / tick, streams=load.streams,
                offered=load.offered, served=load.served, shed=load.shed,
                shed_share=load.shed_share, desired=d.desired, running=fleet.ready(r),
                starting=fleet.starting(r), level=d.level, spend_dollars=spend,
                spend_rate_per_hour=plan.allocation.rate_per_hour, reason=d.reason,
                slo_violated=load.overloaded,
            ))
    return ReplayResult(ticks, orch.log, tick, predictive, registry)


def _initial(config: ScalingConfig, trace: Trace, region: str) -> int:
    """Start in steady state: capacity for the region's first row, within its limits."""
    qps, streams = trace.at(region, 0.0)
    p = config.region(region)
    return min(max(config.node.instances_for(qps, streams), p.min_instances), p.max_instances)
