"""The public surface of ruvstream.sim, guarded by exact equality."""

from __future__ import annotations

import ruvstream.sim as sim


def test_the_exports_are_exactly_the_documented_names() -> None:
    assert set(sim.__all__) == {
        "BURST_MODES",
        "BURST_README",
        "COST_TABLES",
        "TOTALS",
        "Claim",
        "CostItem",
        "Inconsistency",
        "claims",
        "inconsistencies",
        "per_stream_month",
        "total",
        "DEFAULT_PROFILE",
        "HOURS_PER_MONTH",
        "PLATFORMS",
        "SCENARIOS",
        "NodeProfile",
        "Platform",
        "Scenario",
        "SimConfig",
        "SimResult",
        "Simulator",
        "Traffic",
        "capacity",
        "simulate",
    }
    assert all(getattr(sim, name) is not None for name in sim.__all__)


def test_the_scenarios_are_the_seven_shapes_and_their_shares_sum_to_one() -> None:
    assert list(sim.SCENARIOS) == [
        "baseline",
        "daily-peak",
        "world-cup",
        "product-launch",
        "flash-crowd",
        "region-failure",
        "cascade",
    ]
    for s in sim.SCENARIOS.values():
        assert abs(sum(s.burst_shares(0).values()) - 1.0) < 1e-9, s.name
