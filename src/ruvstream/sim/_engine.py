"""The global simulator: fifteen regions, a traffic shape, the production scaling objects.

One run builds a ``ScalingSimulation`` (the replay's core: the production
predictor, reactive scaler and capacity manager behind one orchestrator,
acting on a ``SimulatedFleet`` with start-up delay and per-region quota) and
steps it tick by tick. Each tick the scenario gives every region its streams
and requests per second (seeded noise on top), a failed region's load moves
to its nearest healthy regions and its instances are gone, and the platform
adds the reconnects its stream cut causes. The fleet serves with ready
instances only; the orchestrator then decides and acts.

Units: ``offered``, ``served`` and ``shed`` count requests (queries and
messages, reconnects included), and every tick holds served + shed ==
offered in every region (``serve`` works in whole requests). Streams are
counted apart in stream-seconds (held + refused == offered).

The same scenario, seed and config give the same result byte for byte: the
noise comes from one ``numpy`` generator seeded with ``seed``, time from the
simulation's manual clock.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ruvstream.control.scaling import (
    BudgetConfig,
    Calendar,
    CalendarEvent,
    ScalingConfig,
    ScalingSimulation,
    SimulationConfig,
    region_policy,
)
from ruvstream.control.scaling.calendar import BurstPattern
from ruvstream.geo import region_names

from ._node import DEFAULT_PROFILE, NodeProfile, capacity
from ._platform import PLATFORMS, Platform, region_price_factor
from ._result import RunRecorder, SimResult
from ._scenarios import Scenario, failover
from ._traffic import Traffic, baseline_shares

__all__ = ["NO_BUDGET", "SimConfig", "Simulator", "simulate"]

# Unbounded by default: the simulator asks what capacity is needed; a config can set
# the original's $10,000/h to see the budget bind.
NO_BUDGET = BudgetConfig(hourly_dollars=1e15, daily_dollars=1e16, monthly_dollars=1e17)
_START = 1_767_225_600.0  # 2026-01-01T00:00:00Z: run time 0 is midnight UTC


@dataclass(frozen=True, slots=True)
class SimConfig:
    """A run's inputs besides scenario and seed. ``noise``: sd of the per-tick
    log-normal factor on each region's load; ``slo_p99_ms``: a tick whose p99 (from
    the node profile's curve at the tick's load) exceeds it violates the SLO."""

    traffic: Traffic = field(default_factory=Traffic)
    platform: Platform = field(default_factory=lambda: PLATFORMS["cloud-run"])
    node: NodeProfile = DEFAULT_PROFILE
    scaling: ScalingConfig = field(default_factory=lambda: ScalingConfig(budget=NO_BUDGET))
    predictive: bool = True
    noise: float = 0.02
    slo_p99_ms: float = 50.0
    series_seconds: float = 300.0
    tick_seconds: float | None = None

    def scaling_for(self, scenario: Scenario) -> ScalingConfig:
        """The policies' config: the node's capacity on the platform, its quota and prices."""
        quota = self.platform.quota_per_region
        regions = {
            r: dataclasses.replace(
                self.scaling.regions.get(r) or region_policy(r),
                max_instances=quota,
                cost_per_instance_hour=self.platform.price_per_instance_hour
                * region_price_factor(r),
            )
            for r in region_names()
        }
        return dataclasses.replace(
            self.scaling,
            tick_seconds=self.tick_seconds or scenario.tick_seconds,
            node=capacity(self.node, self.platform),
            regions=regions,
            simulation=SimulationConfig(
                quota=dict.fromkeys(regions, quota), tier_mix=self.scaling.simulation.tier_mix
            ),
        )


class Simulator:
    """One run of ``scenario``; ``run`` steps it to the end and returns the result."""

    def __init__(
        self, scenario: Scenario, seed: int, config: SimConfig, *, keep_ticks: bool = False
    ) -> None:
        self.scenario, self.seed, self.config = scenario, seed, config
        self.scaling = config.scaling_for(scenario)
        self.base = {r: config.traffic.streams * s for r, s in baseline_shares().items()}
        self.shares = scenario.burst_shares(seed)
        self.rng = np.random.default_rng(seed)
        self.calendar = self._calendar()
        initial = {r: self._steady(r) for r in self.base}
        self.sim = ScalingSimulation(
            self.scaling,
            self.calendar,
            self.base,
            predictive=config.predictive,
            start=_START,
            initial=initial,
        )
        self._seed_history()
        self.recorder = RunRecorder(scenario, seed, config, self.scaling, keep_ticks=keep_ticks)

    def run(self) -> SimResult:
        return asyncio.run(self._run())

    async def _run(self) -> SimResult:
        tick = self.scaling.tick_seconds
        for step in range(int(self.scenario.duration_seconds // tick) + 1):
            t = step * tick
            down = self.scenario.down(t)
            offered = self.offered(t, down)
            ticks = await self.sim.astep(offered)
            for r in down:  # a failed region holds nothing, whatever was asked of it
                self.sim.fleet.set_desired_now(r, 0, self.sim.fencing_token)
            self.recorder.record(t, ticks, self.sim.last_plan, down)
        return self.recorder.result()

    def offered(self, t: float, down: tuple[str, ...]) -> dict[str, tuple[float, float]]:
        """Each region's (requests/s, streams) at ``t``, after failover and the stream cut."""
        traffic, platform = self.config.traffic, self.config.platform
        extra = self.scenario.extra(t, self.base, self.shares)
        noise = self.rng.lognormal(0.0, self.config.noise, len(self.base))
        load = {}
        for (r, b), f in zip(sorted(self.base.items()), noise, strict=True):
            qps, streams = traffic.region_load(b, extra[r])
            load[r] = (qps * float(f), streams * float(f))
        load = failover(load, down)
        return {
            r: (q + platform.reconnects_per_second(s) * platform.reconnect_cost, s)
            for r, (q, s) in load.items()
        }

    def _steady(self, region: str) -> int:
        """Start in steady state: capacity for the baseline, within the quota."""
        qps, streams = self.config.traffic.region_load(self.base[region], 0.0)
        qps += self.config.platform.reconnects_per_second(streams)
        want = self.scaling.node.instances_for(qps, streams)
        return min(max(want, 1), self.config.platform.quota_per_region)

    def _seed_history(self) -> None:
        """A day of baseline demand before the run, as the leader would have seen it."""
        predictor = self.sim.orchestrator.predictor
        if predictor is None:
            return
        bucket = self.scaling.predictor.bucket_seconds
        for r, b in sorted(self.base.items()):
            qps, streams = self.config.traffic.region_load(b, 0.0)
            for i in range(int(86400 // bucket), 0, -1):
                predictor.observe(r, _START - i * bucket, qps, streams)

    def _calendar(self) -> Calendar:
        """Planned events, one per region with its own expected audience at the peak."""
        s = self.scenario
        calendar = Calendar()
        if not s.planned or self.config.traffic.burst_as != "streams":
            return calendar
        peak_at = max(s.multiplier, key=lambda p: p[1])[0]
        pattern = BurstPattern(s.name, s.peak_multiplier, s.event_seconds, peak_at, ())
        calendar.patterns[s.name] = pattern
        peak = s.extra(s.event_start + peak_at, self.base, self.shares)
        for r in sorted(self.base):
            if peak[r] > 0:
                calendar.add(
                    CalendarEvent(
                        id=f"{s.name}-{r}",
                        name=s.title,
                        type=s.name,
                        start=_START + s.event_start,
                        regions=(r,),
                        expected_audience=int(self.base[r] + peak[r]),
                    )
                )
        return calendar


def simulate(scenario: Scenario, seed: int = 0, config: SimConfig | None = None) -> SimResult:
    return Simulator(scenario, seed, config or SimConfig()).run()
