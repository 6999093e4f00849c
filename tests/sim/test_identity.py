"""The simulator drives the production scaling objects, never copies of them."""

from __future__ import annotations

import inspect

import ruvstream.control.scaling as scaling
import ruvstream.sim as sim_pkg
from ruvstream.sim import (
    Simulator,
    _engine,
    _node,
    _platform,
    _result,
    _scenarios,
    _traffic,
    capacity,
)

from .conftest import short, small


def test_the_orchestrator_and_its_policies_are_the_production_classes() -> None:
    sim = Simulator(short("world-cup", duration=60.0), 0, small())
    o = sim.sim.orchestrator
    assert type(sim.sim) is scaling.ScalingSimulation
    assert type(sim.sim.fleet) is scaling.SimulatedFleet
    assert type(o) is scaling.Orchestrator
    assert type(o.scaler) is scaling.ReactiveScaler
    assert type(o.capacity) is scaling.CapacityManager
    assert type(o.predictor) is scaling.Predictor
    assert type(sim.scaling.node) is scaling.NodeCapacity
    assert type(capacity(sim.config.node, sim.config.platform)) is scaling.NodeCapacity
    assert len(sim.calendar) > 0  # the planned event is in the predictor's calendar


def test_no_sim_module_defines_a_class_the_scaling_package_has() -> None:
    production = {n for n, v in vars(scaling).items() if inspect.isclass(v)}
    modules = (sim_pkg, _engine, _node, _platform, _result, _scenarios, _traffic)
    for module in modules:
        own = {
            name
            for name, value in vars(module).items()
            if inspect.isclass(value) and value.__module__.startswith("ruvstream.sim")
        }
        assert own.isdisjoint(production), (module.__name__, own & production)
