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
import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry

from ruvstream.core.clock import ManualClock

from .calendar import Calendar
from .capacity import CapacityManager
from .config import ScalingConfig
from .decisions import Decision, DecisionLog, ScalingMetrics
from .degradation import LADDER, DegradationLevel
from .orchestrator import Orchestrator, TickPlan
from .ports import MemoryDegradationPort, StateStore
from .predictor import Predictor
from .reactive import ReactiveScaler
from .simulation import SimulatedFleet, TickLoad, region_sample, serve
from .sizing import NodeCapacity
from .trace import Trace

__all__ = ["ReplayResult", "ReplayTick", "ScalingSimulation", "build_orchestrator", "replay"]


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
    # Per tier (free, standard, premium); each sums to ``offered`` and ``shed``.
    offered_by_tier: dict[str, int] = field(default_factory=dict)
    shed_by_tier: dict[str, int] = field(default_factory=dict)


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
            s = regions.setdefault(
                k.region,
                {
                    "offered": 0,
                    "served": 0,
                    "shed": 0,
                    "slo_violation_seconds": 0.0,
                    "peak_desired": 0,
                },
            )
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
        Predictor(calendar or Calendar(), sizing_node(config), config.predictor)
        if predictive
        else None
    )
    return Orchestrator(
        scaler=ReactiveScaler(config.reactive),
        capacity=capacity,
        predictor=predictor,
        metrics=ScalingMetrics(registry) if registry is not None else None,
        min_confidence=config.min_confidence,
    )


class ScalingSimulation:
    """The policies on simulated time: step it with each region's offered load.

    Holds the ``ManualClock``, the ``SimulatedFleet`` (actuator), an in-memory
    degradation port and the orchestrator; ``restart`` replaces the
    orchestrator as a leader restart would, with or without its saved state,
    while the fleet keeps running. The replay, the tests and the benchmark
    drive the same object.
    """

    def __init__(
        self,
        config: ScalingConfig,
        calendar: Calendar | None,
        regions: Iterable[str],
        *,
        predictive: bool = True,
        start: float = 0.0,
        initial: Mapping[str, int] | None = None,
        fencing_token: int = 1,
    ) -> None:
        self.config, self.calendar, self.predictive = config, calendar, predictive
        self.regions = sorted(regions)
        self.clock = ManualClock(start)
        self.start = start
        self.registry = CollectorRegistry()
        self.orchestrator = build_orchestrator(
            config, calendar, predictive=predictive, registry=self.registry
        )
        initial = initial or {}
        self.fleet = SimulatedFleet(
            self.clock,
            config.node.startup_seconds,
            {r: config.quota(r) for r in self.regions},
            initial={r: initial.get(r, config.region(r).min_instances) for r in self.regions},
        )
        self.port = MemoryDegradationPort()
        self.fencing_token = fencing_token
        self.spend_dollars = 0.0
        self.steps = 0
        self.last_plan: TickPlan | None = None

    def restart(self, store: StateStore | None) -> bool:
        """A new leader: fresh objects, state from ``store`` if given; True if state was found."""
        self.orchestrator = build_orchestrator(
            self.config,
            self.calendar,
            predictive=self.predictive,
            registry=CollectorRegistry(),
        )
        self.fencing_token += 1
        return self.orchestrator.restore(store) if store is not None else False

    def step(self, offered: Mapping[str, tuple[float, float]]) -> list[ReplayTick]:
        """One tick: move the clock (after the first), serve, observe, decide, act."""
        return asyncio.run(self.astep(offered))

    async def astep(self, offered: Mapping[str, tuple[float, float]]) -> list[ReplayTick]:
        cfg, tick = self.config, self.config.tick_seconds
        if self.steps:
            self.clock.advance(tick)
        self.steps += 1
        self.fleet.advance()
        port = self.port.current
        actions = port.actions if port else LADDER[DegradationLevel.NONE]
        samples, loads = [], {}
        for r in self.regions:
            qps, streams = offered.get(r, (0.0, 0.0))
            ready, billed = self.fleet.ready(r), self.fleet.billed(r)
            load = serve(
                r,
                self.clock.now(),
                tick,
                qps,
                streams,
                ready,
                cfg.node,
                cfg.simulation.tier_mix,
                actions,
            )
            loads[r] = load
            samples.append(region_sample(load, ready, billed, cfg.node))
            self.spend_dollars += billed * cfg.region(r).cost_per_instance_hour * tick / 3600
        plan = await self.orchestrator.tick(samples, self.fencing_token, self.fleet, self.port)
        self.last_plan = plan
        by_region = {d.region: d for d in plan.decisions}
        t_rel = self.clock.now() - self.start
        return [self._record(t_rel, loads[r], by_region[r], plan) for r in self.regions]

    def _record(self, t: float, load: TickLoad, d: Decision, plan: TickPlan) -> ReplayTick:
        return ReplayTick(
            t=t,
            region=load.region,
            offered_qps=load.offered / load.seconds,
            streams=load.streams,
            offered=load.offered,
            served=load.served,
            shed=load.shed,
            shed_share=load.shed_share,
            desired=d.desired,
            running=self.fleet.ready(load.region),
            starting=self.fleet.starting(load.region),
            level=d.level,
            spend_dollars=self.spend_dollars,
            spend_rate_per_hour=plan.allocation.rate_per_hour,
            reason=d.reason,
            slo_violated=load.overloaded,
            offered_by_tier=dict(load.offered_by_tier),
            shed_by_tier=dict(load.shed_by_tier),
        )


def sizing_node(config: ScalingConfig) -> NodeCapacity:
    """The node figures with the reactive scaler's targets, for the predictor's sizing."""
    node, t = config.node, config.reactive.targets
    changes: dict[str, float] = {}
    if t.concurrency_per_instance:
        changes["target_utilization"] = min(
            1.0, t.concurrency_per_instance / node.container_concurrency
        )
    if t.memory:
        changes["stream_target_utilization"] = min(1.0, t.memory)
    return dataclasses.replace(node, **changes)


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
    initial = {r: _initial(config, trace, r) for r in trace.regions}
    sim = ScalingSimulation(
        config, calendar, trace.regions, predictive=predictive, start=start, initial=initial
    )
    predictor = sim.orchestrator.predictor
    if predictor is not None:
        for region, t, qps, streams in history:
            predictor.observe(region, t, qps, streams)
    ticks: list[ReplayTick] = []
    tick = config.tick_seconds
    for step in range(int(trace.end // tick) + 1):
        t_rel = step * tick
        ticks.extend(await sim.astep({r: trace.at(r, t_rel) for r in sim.regions}))
    return ReplayResult(ticks, sim.orchestrator.log, tick, predictive, sim.registry)


def _initial(config: ScalingConfig, trace: Trace, region: str) -> int:
    """Start in steady state: capacity for the region's first row, within its limits."""
    qps, streams = trace.at(region, 0.0)
    p = config.region(region)
    return min(max(config.node.instances_for(qps, streams), p.min_instances), p.max_instances)
