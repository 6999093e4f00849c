"""Reactive-only against predictive + reactive on the same bursty traces.

Both runs replay one trace through the same policies (``control.scaling``)
on simulated time with the same simulated fleet; the only difference is
whether the predictor (calendar + forecast) is switched on. The issue's
bar, per trace: predictive + reactive has at most half the SLO-violation
seconds of reactive-only, at no more than 1.2x its cost.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from ruvstream.control.scaling import ScalingConfig, replay
from ruvstream.control.scaling.sizing import CLOUD_STARTUP_SECONDS

from .traces import bursty_trace

__all__ = ["BAR_COST_RATIO", "BAR_VIOLATION_RATIO", "ComparisonRow", "compare"]

BAR_VIOLATION_RATIO = 0.5
BAR_COST_RATIO = 1.2


@dataclass(frozen=True)
class ComparisonRow:
    scenario: str
    seed: int
    burst_multiplier: float
    hours: float
    reactive_violation_seconds: float
    predictive_violation_seconds: float
    reactive_cost_dollars: float
    predictive_cost_dollars: float
    reactive_shed_share: float
    predictive_shed_share: float

    @property
    def violation_ratio(self) -> float:
        base = self.reactive_violation_seconds
        return self.predictive_violation_seconds / base if base else 0.0

    @property
    def cost_ratio(self) -> float:
        return self.predictive_cost_dollars / self.reactive_cost_dollars

    @property
    def passes(self) -> bool:
        return self.violation_ratio <= BAR_VIOLATION_RATIO and self.cost_ratio <= BAR_COST_RATIO

    def to_json(self) -> dict[str, object]:
        return {
            **self.__dict__,
            "violation_ratio": self.violation_ratio,
            "cost_ratio": self.cost_ratio,
            "passes": self.passes,
        }


def compare(
    scenarios: Iterable[str], seeds: Iterable[int], config: ScalingConfig | None = None
) -> list[ComparisonRow]:
    base = ScalingConfig()
    cfg = config or replace(base, node=replace(base.node, startup_seconds=CLOUD_STARTUP_SECONDS))
    rows = []
    for scenario in scenarios:
        for seed in seeds:
            bt = bursty_trace(scenario, seed)
            runs = {}
            for predictive in (False, True):
                result = replay(
                    bt.trace,
                    cfg,
                    bt.calendar,
                    predictive=predictive,
                    start=bt.start,
                    history=bt.history if predictive else (),
                )
                runs[predictive] = result.summary()
            rx, pr = runs[False], runs[True]
            rows.append(
                ComparisonRow(
                    scenario=scenario,
                    seed=seed,
                    burst_multiplier=bt.actual_multiplier,
                    hours=bt.trace.end / 3600,
                    reactive_violation_seconds=rx["slo_violation_seconds"],
                    predictive_violation_seconds=pr["slo_violation_seconds"],
                    reactive_cost_dollars=rx["cost_dollars"],
                    predictive_cost_dollars=pr["cost_dollars"],
                    reactive_shed_share=rx["shed"] / rx["offered"],
                    predictive_shed_share=pr["shed"] / pr["offered"],
                )
            )
    return rows
