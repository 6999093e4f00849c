"""Every scaling decision with its inputs and reason: a queryable log and metrics.

``Decision.reason`` is one of a closed set (so it can label a counter):

- ``predicted``: the predictor's figure was the larger and was set;
- ``reactive`` / ``panic``: the reactive scaler's figure (in panic or not);
- ``hold``: nothing changed;
- ``min-instances`` / ``quota`` / ``budget``: a limit gave the region other than it wanted.

``ScalingMetrics`` exports the last decisions on a registry the caller owns:
``ruvstream_scaling_desired_instances{region}``, ``..._predicted_instances``,
``..._reactive_instances``, ``..._panic{region}``,
``..._prediction_confidence{region}``, ``ruvstream_scaling_degradation_level``
(0 none .. 3 critical), ``ruvstream_scaling_pressure``,
``ruvstream_scaling_budget_spend_dollars{window}``,
``ruvstream_scaling_budget_limit_dollars{window}``,
``ruvstream_scaling_budget_usage_ratio{window}`` and
``ruvstream_scaling_decisions_total{reason}``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

from .budget import WindowStatus

__all__ = ["REASONS", "Decision", "DecisionLog", "ScalingMetrics"]

REASONS = ("predicted", "reactive", "panic", "hold", "min-instances", "quota", "budget")


@dataclass(frozen=True, slots=True)
class Decision:
    """One region's decision at one tick, with what it was made from."""

    t: float
    region: str
    desired: int
    previous: int
    reason: str
    predicted: int
    prediction_source: str
    confidence: float
    event_id: str | None
    reactive: int
    reactive_reason: str
    in_panic: bool
    wanted: int
    level: str
    pressure: float
    ready_instances: int
    offered_qps: float
    streams: float
    fencing_token: int
    dry_run: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class DecisionLog:
    """The last ``maxlen`` decisions, oldest first."""

    def __init__(self, maxlen: int = 100_000) -> None:
        self._items: deque[Decision] = deque(maxlen=maxlen)

    def append(self, decision: Decision) -> None:
        self._items.append(decision)

    def extend(self, decisions: Iterable[Decision]) -> None:
        self._items.extend(decisions)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Decision]:
        return iter(self._items)

    def query(
        self,
        *,
        region: str | None = None,
        since: float | None = None,
        until: float | None = None,
        reasons: Iterable[str] | None = None,
        changed_only: bool = False,
        limit: int | None = None,
    ) -> list[Decision]:
        """Decisions matching every filter given, oldest first; ``limit`` keeps the newest."""
        wanted = None if reasons is None else set(reasons)
        out = [
            d
            for d in self._items
            if (region is None or d.region == region)
            and (since is None or d.t >= since)
            and (until is None or d.t <= until)
            and (wanted is None or d.reason in wanted)
            and (not changed_only or d.desired != d.previous)
        ]
        return out if limit is None else out[-limit:]


class ScalingMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.desired = Gauge(
            "ruvstream_scaling_desired_instances",
            "Instances the scaler set per region",
            ["region"],
            registry=r,
        )
        self.predicted = Gauge(
            "ruvstream_scaling_predicted_instances",
            "Instances the predictor asked for",
            ["region"],
            registry=r,
        )
        self.reactive = Gauge(
            "ruvstream_scaling_reactive_instances",
            "Instances the reactive scaler asked for",
            ["region"],
            registry=r,
        )
        self.panic = Gauge(
            "ruvstream_scaling_panic",
            "1 while the region's reactive scaler is in panic",
            ["region"],
            registry=r,
        )
        self.confidence = Gauge(
            "ruvstream_scaling_prediction_confidence",
            "Confidence of the region's prediction (0..1)",
            ["region"],
            registry=r,
        )
        self.level = Gauge(
            "ruvstream_scaling_degradation_level",
            "Degradation level: 0 none, 1 minor, 2 major, 3 critical",
            registry=r,
        )
        self.pressure = Gauge(
            "ruvstream_scaling_pressure",
            "Capacity wanted over capacity allowed (budget or quota)",
            registry=r,
        )
        self.spend = Gauge(
            "ruvstream_scaling_budget_spend_dollars",
            "Spend in the current budget period",
            ["window"],
            registry=r,
        )
        self.limit = Gauge(
            "ruvstream_scaling_budget_limit_dollars",
            "Budget limit of the period",
            ["window"],
            registry=r,
        )
        self.usage = Gauge(
            "ruvstream_scaling_budget_usage_ratio",
            "Projected spend over the limit",
            ["window"],
            registry=r,
        )
        self.decisions = Counter(
            "ruvstream_scaling_decisions_total",
            "Scaling decisions by reason",
            ["reason"],
            registry=r,
        )

        self._by_region: dict[str, tuple[Gauge, ...]] = {}
        self._by_reason = {reason: self.decisions.labels(reason) for reason in REASONS}
        self._by_window: dict[str, tuple[Gauge, ...]] = {}

    def record(
        self,
        decisions: Iterable[Decision],
        level: int,
        pressure: float,
        budget: Iterable[WindowStatus],
    ) -> None:
        for d in decisions:
            gauges = self._by_region.get(d.region)
            if gauges is None:
                gauges = self._by_region[d.region] = tuple(
                    g.labels(d.region)
                    for g in (
                        self.desired,
                        self.predicted,
                        self.reactive,
                        self.panic,
                        self.confidence,
                    )
                )
            for gauge, value in zip(
                gauges,
                (d.desired, d.predicted, d.reactive, int(d.in_panic), d.confidence),
                strict=True,
            ):
                gauge.set(value)
            self._by_reason[d.reason].inc()
        self.level.set(level)
        self.pressure.set(pressure)
        for s in budget:
            window = self._by_window.get(s.window)
            if window is None:
                window = self._by_window[s.window] = tuple(
                    g.labels(s.window) for g in (self.spend, self.limit, self.usage)
                )
            for gauge, value in zip(window, (s.spent, s.limit, s.usage), strict=True):
                gauge.set(value)
