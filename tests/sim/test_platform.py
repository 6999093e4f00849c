"""Platform facts in the run: Cloud Run's hourly stream cut adds reconnect load, quotas
bind, and a budget from the config binds through the production capacity manager."""

from __future__ import annotations

import dataclasses

from ruvstream.control.scaling import BudgetConfig
from ruvstream.sim import PLATFORMS, SimConfig, Simulator, Traffic, simulate

from .conftest import short, small


def test_cloud_runs_stream_cut_adds_one_reconnect_per_stream_per_hour() -> None:
    scenario = short("baseline", duration=60.0)
    quiet = dataclasses.replace(small(), noise=0.0)
    run = Simulator(scenario, 0, quiet).offered(0.0, ())
    pool = Simulator(scenario, 0, dataclasses.replace(quiet, platform=PLATFORMS["vm-pool"]))
    vm = pool.offered(0.0, ())
    for region, (qps, streams) in run.items():
        assert vm[region][1] == streams
        assert abs(qps - vm[region][0] - streams / 3600.0) < 1e-6 * qps


def test_the_platform_quota_caps_every_region() -> None:
    platform = dataclasses.replace(PLATFORMS["vm-pool"], quota_per_region=3)
    config = SimConfig(traffic=Traffic(streams=50e6), platform=platform)
    doc = simulate(short("flash-crowd", duration=600.0), 0, config).doc
    assert max(doc["instances_peak"].values()) == 3
    assert max(doc["instances_wanted_peak"].values()) > 3
    assert doc["shed"] > 0


def test_a_budget_in_the_config_holds_the_fleets_cost_rate() -> None:
    budget = BudgetConfig(hourly_dollars=20_000.0, daily_dollars=1e9, monthly_dollars=1e12)
    base = small()
    config = dataclasses.replace(base, scaling=dataclasses.replace(base.scaling, budget=budget))
    free = simulate(short("flash-crowd", duration=900.0), 0, base).doc
    held = simulate(short("flash-crowd", duration=900.0), 0, config).doc
    assert max(free["series"]["cost_per_hour"]) > 20_000.0
    assert max(held["series"]["cost_per_hour"]) <= 20_000.0
    assert held["shed"] > free["shed"]
