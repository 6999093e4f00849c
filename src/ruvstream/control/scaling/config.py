"""One typed, frozen scaling config, and its JSON file format.

File (every section and field optional; unknown fields are refused by name)::

    {"tick_seconds": 2,
     "min_confidence": 0.5,
     "node": {"qps_per_instance": 6000, "streams_per_instance": 1000, "startup_seconds": 120},
     "reactive": {"stable_window_seconds": 60, "panic_window_seconds": 6,
                  "targets": {"cpu": 0.7, "p99_ms": 50}},
     "predictor": {"bucket_seconds": 300, "prewarm_margin_seconds": 60},
     "budget": {"hourly_dollars": 10000, "daily_dollars": 200000, "monthly_dollars": 5000000},
     "degradation": {"minor_at": 0.9, "major_at": 1.2, "critical_at": 1.5},
     "regions": {"us-central1": {"min_instances": 2, "max_instances": 100,
                                 "cost_per_instance_hour": 0.5, "priority": 10}},
     "simulation": {"quota": {"us-central1": 80}, "tier_mix": {"free": 0.3, "standard": 0.5,
                                                               "premium": 0.2}}}

Each section's fields and defaults are those of the dataclass it fills
(``NodeCapacity``, ``ReactiveConfig``, ``PredictorConfig``, ``BudgetConfig``,
``DegradationConfig``, ``RegionPolicy``, ``TierMix``), where each default's
source is written down.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .budget import BudgetConfig
from .capacity import RegionPolicy, region_policy
from .degradation import DegradationConfig
from .errors import ScalingConfigError
from .predictor import PredictorConfig
from .reactive import ReactiveConfig, ReactiveTargets
from .simulation import TierMix
from .sizing import NodeCapacity

__all__ = ["ScalingConfig", "SimulationConfig"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    """The replay's simulated fleet: quotas per region (default: the region's
    ``max_instances``) and the tier mix of offered load."""

    quota: Mapping[str, int] = field(default_factory=dict)
    tier_mix: TierMix = field(default_factory=TierMix)


@dataclass(frozen=True, slots=True)
class ScalingConfig:
    """Everything the policies need; regions not listed get ``region_policy`` defaults.

    ``tick_seconds`` defaults to Knative's 2 s tick interval.
    """

    tick_seconds: float = 2.0
    min_confidence: float = 0.5
    node: NodeCapacity = field(default_factory=NodeCapacity)
    reactive: ReactiveConfig = field(default_factory=ReactiveConfig)
    predictor: PredictorConfig = field(default_factory=PredictorConfig)
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    degradation: DegradationConfig = field(default_factory=DegradationConfig)
    regions: Mapping[str, RegionPolicy] = field(default_factory=dict)
    simulation: SimulationConfig = field(default_factory=SimulationConfig)

    def region(self, name: str) -> RegionPolicy:
        return self.regions.get(name) or region_policy(name)

    def quota(self, name: str) -> int:
        return self.simulation.quota.get(name, self.region(name).max_instances)

    @classmethod
    def load(cls, path: Path) -> ScalingConfig:
        try:
            doc = json.loads(Path(path).read_text())
        except json.JSONDecodeError as exc:
            raise ScalingConfigError(f"{path}: not JSON ({exc})") from None
        try:
            return cls.from_json(doc)
        except ScalingConfigError as exc:
            raise ScalingConfigError(f"{path}: {exc}") from None

    @classmethod
    def from_json(cls, doc: object) -> ScalingConfig:
        d = _object(doc, "config")
        _only(d, {f.name for f in dataclasses.fields(cls)}, "config")
        reactive = dict(_object(d.get("reactive", {}), "reactive"))
        targets = _build(ReactiveTargets, reactive.pop("targets", {}), "reactive.targets")
        sim = _object(d.get("simulation", {}), "simulation")
        _only(sim, {"quota", "tier_mix"}, "simulation")
        try:
            return cls(
                tick_seconds=_number(d.get("tick_seconds", 2.0), "tick_seconds"),
                min_confidence=_number(d.get("min_confidence", 0.5), "min_confidence"),
                node=_build(NodeCapacity, d.get("node", {}), "node"),
                reactive=dataclasses.replace(
                    _build(ReactiveConfig, reactive, "reactive"), targets=targets
                ),
                predictor=_build(PredictorConfig, d.get("predictor", {}), "predictor"),
                budget=_build(BudgetConfig, d.get("budget", {}), "budget"),
                degradation=_build(DegradationConfig, d.get("degradation", {}), "degradation"),
                regions={
                    name: _region(name, fields)
                    for name, fields in _object(d.get("regions", {}), "regions").items()
                },
                simulation=SimulationConfig(
                    quota={
                        r: int(_number(q, f"simulation.quota.{r}"))
                        for r, q in _object(sim.get("quota", {}), "simulation.quota").items()
                    },
                    tier_mix=_build(TierMix, sim.get("tier_mix", {}), "simulation.tier_mix"),
                ),
            )
        except ValueError as exc:
            if isinstance(exc, ScalingConfigError):
                raise
            raise ScalingConfigError(str(exc)) from None


def _region(name: str, raw: object) -> RegionPolicy:
    fields = _object(raw, f"regions.{name}")
    _only(
        fields,
        {"min_instances", "max_instances", "cost_per_instance_hour", "priority"},
        f"regions.{name}",
    )
    values: dict[str, Any] = {}
    for key, value in fields.items():
        number = _number(value, f"regions.{name}.{key}")
        values[key] = number if key == "cost_per_instance_hour" else int(number)
    return region_policy(name, **values)


def _build(cls: type[T], raw: object, where: str) -> T:
    """``cls(**raw)`` for a flat dataclass of numbers, naming unknown or bad fields."""
    fields = _object(raw, where)
    known = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    _only(fields, set(known) - {"targets"}, where)
    values: dict[str, Any] = {}
    for key, value in fields.items():
        if value is None and "None" in str(known[key].type):
            values[key] = None
            continue
        number = _number(value, f"{where}.{key}")
        values[key] = int(number) if known[key].type == "int" else number
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ScalingConfigError(f"{where}: {exc}") from None


def _object(raw: object, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ScalingConfigError(f"{where}: expected a JSON object")
    return raw


def _only(fields: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(fields) - allowed)
    if extra:
        raise ScalingConfigError(f"{where}: unknown field(s) {', '.join(extra)}")


def _number(raw: object, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ScalingConfigError(f"{where}: expected a number, got {raw!r}")
    return float(raw)
