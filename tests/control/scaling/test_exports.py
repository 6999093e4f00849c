"""The public surface of ruvstream.control.scaling is what its ``__all__`` promises."""

from __future__ import annotations

import ruvstream.control.scaling as scaling
from ruvstream.control.scaling.cli import scale


def test_all_names_exist_once() -> None:
    assert len(set(scaling.__all__)) == len(scaling.__all__)
    for name in scaling.__all__:
        assert getattr(scaling, name) is not None


def test_what_a_simulator_imports_is_exported() -> None:
    wanted = {
        "ScalingSimulation",
        "SimulatedFleet",
        "serve",
        "region_sample",
        "TierMix",
        "TickLoad",
        "build_orchestrator",
        "Orchestrator",
        "ScalingConfig",
        "Calendar",
        "Predictor",
        "ReactiveScaler",
        "CapacityManager",
        "NodeCapacity",
        "replay",
        "Trace",
    }
    assert wanted <= set(scaling.__all__)


def test_cli_is_named_scale() -> None:
    assert scale.name == "scale"
    assert set(scale.commands) == {"replay", "plan", "check-calendar"}
