"""A run's result: totals, per-region figures and a time series, as one JSON document.

``RunRecorder`` folds each tick in as it comes, so a day of fifteen regions
never sits in memory tick by tick (``keep_ticks`` keeps them, for tests).
Floats are rounded to 6 significant decimals before they are written, and
keys are sorted, so the same run gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ruvstream.control.scaling import DegradationLevel, ReplayTick, ScalingConfig, TickPlan

if TYPE_CHECKING:
    from ._engine import SimConfig
    from ._scenarios import Scenario

__all__ = ["HOURS_PER_MONTH", "TIERS", "RunRecorder", "SimResult"]

HOURS_PER_MONTH = 730.0
TIERS = ("free", "standard", "premium")


@dataclass
class _Region:
    offered: int = 0
    served: int = 0
    shed: int = 0
    stream_seconds: float = 0.0
    stream_seconds_held: float = 0.0
    instances_peak: int = 0
    wanted_peak: int = 0
    violation_seconds: float = 0.0
    run_seconds: float = 0.0
    longest_violation_seconds: float = 0.0
    billed: int = 0
    offered_by_tier: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TIERS, 0))
    shed_by_tier: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TIERS, 0))
    # the open series interval
    interval_offered: int = 0
    interval_shed: int = 0


@dataclass
class SimResult:
    doc: dict[str, Any]
    ticks: list[ReplayTick] = field(default_factory=list, repr=False)

    def to_json(self) -> str:
        return json.dumps(_rounded(self.doc), sort_keys=True, indent=1) + "\n"


class RunRecorder:
    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        config: SimConfig,
        scaling: ScalingConfig,
        *,
        keep_ticks: bool = False,
    ) -> None:
        self.scenario, self.seed, self.config, self.scaling = scenario, seed, config, scaling
        self.keep_ticks = keep_ticks
        self.ticks: list[ReplayTick] = []
        self.regions: dict[str, _Region] = {}
        self.series: dict[str, Any] = {
            "t_minutes": [],
            "cost_per_hour": [],
            "level": [],
            "instances": {},
            "offered_qps": {},
            "shed_share": {},
            "shed_share_by_tier": {t: [] for t in TIERS},
        }
        self._interval_tiers = {t: [0, 0] for t in TIERS}  # offered, shed
        self.peak_total = 0
        self.max_level = DegradationLevel.NONE
        self.spend = 0.0
        self.instance_hours = 0.0
        self.last_t = 0.0
        self._next_sample = 0.0

    def record(
        self, t: float, ticks: Iterable[ReplayTick], plan: TickPlan | None, down: tuple[str, ...]
    ) -> None:
        tick = self.scaling.tick_seconds
        node = self.scaling.node
        wanted = {} if plan is None else {d.region: d.wanted for d in plan.decisions}
        total = 0
        for k in ticks:
            if k.served + k.shed != k.offered:
                raise AssertionError(f"{k.region} at {t}: served + shed != offered")
            if sum(k.shed_by_tier.values()) != k.shed:
                raise AssertionError(f"{k.region} at {t}: shed by tier != shed")
            if self.keep_ticks:
                self.ticks.append(k)
            s = self.regions.setdefault(k.region, _Region())
            s.offered += k.offered
            s.served += k.served
            s.shed += k.shed
            s.interval_offered += k.offered
            s.interval_shed += k.shed
            self._tiers(s, k)
            held = min(k.streams, k.running * node.streams_per_instance)
            s.stream_seconds += k.streams * tick
            s.stream_seconds_held += held * tick
            billed = k.running + k.starting
            total += billed
            s.billed = billed
            s.instances_peak = max(s.instances_peak, billed)
            s.wanted_peak = max(s.wanted_peak, wanted.get(k.region, k.desired))
            self._violation(s, k, tick, k.region in down)
            self.max_level = max(self.max_level, DegradationLevel.parse(k.level))
            self.spend = k.spend_dollars
        self.peak_total = max(self.peak_total, total)
        self.instance_hours += total * tick / 3600.0
        self.last_t = t
        if t >= self._next_sample:
            self._sample(t, plan)
            self._next_sample += self.config.series_seconds

    def _tiers(self, s: _Region, k: ReplayTick) -> None:
        for tier, n in k.offered_by_tier.items():
            s.offered_by_tier[tier] += n
            self._interval_tiers[tier][0] += n
        for tier, n in k.shed_by_tier.items():
            s.shed_by_tier[tier] += n
            self._interval_tiers[tier][1] += n

    def _violation(self, s: _Region, k: ReplayTick, tick: float, is_down: bool) -> None:
        capacity = k.running * self.scaling.node.qps_per_instance * tick
        load = k.served / capacity if capacity else (1.0 if k.offered else 0.0)
        slow = self.config.node.p99_ms(load) > self.config.slo_p99_ms
        if is_down:
            s.run_seconds = 0.0
            return
        # A request refused by the degradation plan is refused all the same.
        if k.slo_violated or k.shed > 0 or slow:
            s.violation_seconds += tick
        # Under capacity: ready instances could not take what was offered (the plan's
        # deliberate shedding aside); the longest such stretch is the time to capacity.
        if k.slo_violated:
            s.run_seconds += tick
            s.longest_violation_seconds = max(s.longest_violation_seconds, s.run_seconds)
        else:
            s.run_seconds = 0.0

    def _sample(self, t: float, plan: TickPlan | None) -> None:
        ser = self.series
        ser["t_minutes"].append(t / 60.0)
        ser["cost_per_hour"].append(0.0 if plan is None else plan.allocation.rate_per_hour)
        ser["level"].append(int(self.max_level) if plan is None else int(plan.allocation.level))
        for r, s in sorted(self.regions.items()):
            ser["instances"].setdefault(r, []).append(s.billed)
            ser["offered_qps"].setdefault(r, []).append(
                s.interval_offered / max(self.config.series_seconds, self.scaling.tick_seconds)
            )
            ser["shed_share"].setdefault(r, []).append(
                s.interval_shed / s.interval_offered if s.interval_offered else 0.0
            )
            s.interval_offered = s.interval_shed = 0
        for tier, (offered, shed) in self._interval_tiers.items():
            ser["shed_share_by_tier"][tier].append(shed / offered if offered else 0.0)
            self._interval_tiers[tier] = [0, 0]

    def result(self) -> SimResult:
        return SimResult(self._doc(), self.ticks)

    def _doc(self) -> dict[str, Any]:
        rs = self.regions
        hours = (self.last_t + self.scaling.tick_seconds) / 3600.0
        offered = sum(s.offered for s in rs.values())
        shed = sum(s.shed for s in rs.values())
        mean_streams = sum(s.stream_seconds for s in rs.values()) / (hours * 3600.0)
        per_month = self.spend / hours * HOURS_PER_MONTH
        stuck = [r for r, s in rs.items() if s.run_seconds > 0]
        c = self.config
        return {
            "scenario": self.scenario.name,
            "title": self.scenario.title,
            "seed": self.seed,
            "unit": "requests (queries + messages + reconnects)",
            "duration_seconds": self.last_t + self.scaling.tick_seconds,
            "tick_seconds": self.scaling.tick_seconds,
            "offered": offered,
            "served": sum(s.served for s in rs.values()),
            "shed": shed,
            "shed_share": shed / offered if offered else 0.0,
            "tiers": self._tier_totals(),
            "shed_by_tier_by_region": {r: dict(s.shed_by_tier) for r, s in sorted(rs.items())},
            "streams": {
                "unit": "stream-seconds",
                "offered": sum(s.stream_seconds for s in rs.values()),
                "held": sum(s.stream_seconds_held for s in rs.values()),
                "refused": sum(s.stream_seconds - s.stream_seconds_held for s in rs.values()),
                "mean_open": mean_streams,
            },
            "instances_peak": {r: s.instances_peak for r, s in sorted(rs.items())},
            "instances_peak_total": self.peak_total,
            "instances_wanted_peak": {r: s.wanted_peak for r, s in sorted(rs.items())},
            "slo_violation_minutes": sum(s.violation_seconds for s in rs.values()) / 60.0,
            "slo_violation_minutes_by_region": {
                r: s.violation_seconds / 60.0 for r, s in sorted(rs.items())
            },
            "time_to_capacity_seconds": None
            if stuck
            else max((s.longest_violation_seconds for s in rs.values()), default=0.0),
            "never_reached_capacity": sorted(stuck),
            "max_degradation_level": self.max_level.label,
            "instance_hours": self.instance_hours,
            "cost_dollars": self.spend,
            "cost_per_hour": self.spend / hours,
            "cost_per_month": per_month,
            "cost_per_stream_month": per_month / mean_streams if mean_streams else None,
            "config": {
                "traffic": asdict(c.traffic),
                "platform": asdict(c.platform),
                "node": c.node.to_json(),
                "instance": asdict(self.scaling.node),
                "predictive": c.predictive,
                "noise": c.noise,
                "slo_p99_ms": c.slo_p99_ms,
            },
            "series": self.series,
        }

    def _tier_totals(self) -> dict[str, dict[str, float]]:
        """Per tier: requests offered and shed (the plan's and the overflow's), and the share."""
        out = {}
        for tier in TIERS:
            offered = sum(s.offered_by_tier[tier] for s in self.regions.values())
            shed = sum(s.shed_by_tier[tier] for s in self.regions.values())
            out[tier] = {
                "offered": offered,
                "shed": shed,
                "shed_share": shed / offered if offered else 0.0,
            }
        return out


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value
