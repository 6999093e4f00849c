"""The capacity manager: region limits, cost, budget and degradation in one decision.

``allocate`` takes the instances each region wants and returns what to set:
each region is clamped into ``[min_instances, max_instances]``; when the
clamped total costs more per hour than the budget's hard cap allows, every
region keeps its minimum and the rest of the affordable rate is handed out
by region priority (highest first, then by name). The same call computes
pressure (cost wanted / cost affordable, or want / quota, whichever is
larger) and moves the degradation level with its hysteresis.

Region defaults are the original design's (``capacity-manager.ts:127-147``,
``variables.tf:296-324``): prices $0.50-0.65 per instance-hour and
priorities 5-10; unknown regions cost $0.50 and get priority 5. The
original's minimum of 10 instances per region is a fleet-scale figure; the
default here is 1 so a region keeps one warm node.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .budget import BudgetConfig, BudgetLedger, WindowStatus
from .degradation import (
    LADDER,
    DegradationActions,
    DegradationConfig,
    DegradationLevel,
    DegradationPolicy,
)

__all__ = [
    "REGION_COSTS",
    "REGION_PRIORITIES",
    "Allocation",
    "CapacityManager",
    "RegionPolicy",
    "region_policy",
]

REGION_COSTS: Mapping[str, float] = {
    "us-central1": 0.50,
    "us-east1": 0.52,
    "us-west1": 0.54,
    "europe-west1": 0.55,
    "europe-west4": 0.58,
    "asia-east1": 0.60,
    "asia-southeast1": 0.62,
    "southamerica-east1": 0.65,
}
REGION_PRIORITIES: Mapping[str, int] = {
    "us-central1": 10,
    "us-east1": 9,
    "europe-west1": 9,
    "asia-east1": 8,
    "us-west1": 7,
    "asia-southeast1": 6,
    "europe-west4": 6,
    "southamerica-east1": 5,
}


@dataclass(frozen=True, slots=True)
class RegionPolicy:
    """Limits and price of one region. Invariant: 0 <= min_instances <= max_instances."""

    name: str
    min_instances: int = 1
    max_instances: int = 1000
    cost_per_instance_hour: float = 0.50
    priority: int = 5

    def __post_init__(self) -> None:
        if not 0 <= self.min_instances <= self.max_instances:
            raise ValueError(f"region {self.name}: need 0 <= min_instances <= max_instances")
        if self.cost_per_instance_hour < 0:
            raise ValueError(f"region {self.name}: cost_per_instance_hour must be >= 0")


def region_policy(name: str, **overrides: Any) -> RegionPolicy:
    """A region's policy with the original design's price and priority unless overridden."""
    base = RegionPolicy(
        name,
        cost_per_instance_hour=REGION_COSTS.get(name, 0.50),
        priority=REGION_PRIORITIES.get(name, 5),
    )
    return replace(base, **overrides)


@dataclass(frozen=True, slots=True)
class Allocation:
    """One allocation: what to set, what was wanted, and why they differ.

    ``limited[region]`` is ``min-instances``, ``quota`` or ``budget`` where the
    region got other than it wanted.
    """

    t: float
    desired: Mapping[str, int]
    wanted: Mapping[str, int]
    limited: Mapping[str, str]
    rate_per_hour: float
    wanted_rate_per_hour: float
    affordable_rate_per_hour: float
    pressure: float
    pressure_source: str  # "budget" | "quota"
    budget: tuple[WindowStatus, ...]
    level: DegradationLevel


@dataclass
class CapacityManager:
    regions: dict[str, RegionPolicy] = field(default_factory=dict)
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    degradation: DegradationConfig = field(default_factory=DegradationConfig)

    def __post_init__(self) -> None:
        self.ledger = BudgetLedger(self.budget)
        self.policy = DegradationPolicy(self.degradation)

    def region(self, name: str) -> RegionPolicy:
        if name not in self.regions:
            self.regions[name] = region_policy(name)
        return self.regions[name]

    def record_spend(self, region: str, t0: float, t1: float, instances: int) -> None:
        rate = instances * self.region(region).cost_per_instance_hour
        self.ledger.record(t0, t1, rate)

    def rate_of(self, instances: Mapping[str, int]) -> float:
        return sum(n * self.region(r).cost_per_instance_hour for r, n in instances.items())

    def allocate(self, wanted: Mapping[str, int], now: float) -> Allocation:
        clamped, limited = {}, {}
        quota_pressure = 0.0
        for name, want in wanted.items():
            p = self.region(name)
            clamped[name] = min(max(want, p.min_instances), p.max_instances)
            if want > p.max_instances:
                limited[name] = "quota"
                quota_pressure = max(quota_pressure, want / max(1, p.max_instances))
            elif want < p.min_instances:
                limited[name] = "min-instances"
        wanted_rate = self.rate_of(clamped)
        affordable = self.ledger.affordable_rate(now)
        desired = dict(clamped)
        if wanted_rate > affordable:
            desired = self._within_budget(clamped, affordable)
            limited.update({r: "budget" for r in desired if desired[r] < clamped[r]})
        statuses = self.ledger.status(now, wanted_rate)
        cap = self.budget.hard_cap_ratio
        budget_pressure = max((s.usage / cap for s in statuses), default=0.0)
        pressure = max(budget_pressure, quota_pressure)
        source = "quota" if quota_pressure > budget_pressure else "budget"
        level = self.policy.update(pressure, now)
        return Allocation(
            t=now,
            desired=desired,
            wanted=dict(wanted),
            limited=limited,
            rate_per_hour=self.rate_of(desired),
            wanted_rate_per_hour=wanted_rate,
            affordable_rate_per_hour=affordable,
            pressure=pressure,
            pressure_source=source,
            budget=self.ledger.status(now, self.rate_of(desired)),
            level=level,
        )

    def _within_budget(self, clamped: Mapping[str, int], affordable: float) -> dict[str, int]:
        """Minimums for all, then the affordable rest by priority (highest first)."""
        desired = {r: min(n, self.region(r).min_instances) for r, n in clamped.items()}
        left = affordable - self.rate_of(desired)
        order = sorted(clamped, key=lambda r: (-self.region(r).priority, r))
        for name in order:
            price = self.region(name).cost_per_instance_hour
            room = clamped[name] - desired[name]
            extra = room if price == 0 else min(room, max(0, math.floor(left / price + 1e-9)))
            desired[name] += extra
            left -= extra * price
        return desired

    def actions(self) -> DegradationActions:
        return LADDER[self.policy.level]

    def export_state(self) -> dict[str, Any]:
        return {"budget": self.ledger.export_state(), "degradation": self.policy.export_state()}

    def import_state(self, doc: Mapping[str, Any]) -> None:
        self.ledger.import_state(dict(doc["budget"]))
        self.policy.import_state(doc["degradation"])
