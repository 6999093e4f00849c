"""The simulator's core: conservation every tick, determinism, the JSON it promises."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ruvstream.geo import region_names
from ruvstream.sim import SCENARIOS, Simulator, simulate

from .conftest import short, small


def test_every_tick_conserves_requests_in_every_region_and_some_are_shed() -> None:
    sim = Simulator(short("flash-crowd"), 3, small(), keep_ticks=True)
    result = sim.run()
    assert len(sim.recorder.ticks) == 15 * (1500 // 10 + 1)
    assert all(k.served + k.shed == k.offered for k in sim.recorder.ticks)
    assert any(k.shed > 0 for k in sim.recorder.ticks)  # the burst outruns start-up
    doc = result.doc
    assert doc["served"] + doc["shed"] == doc["offered"] > 0
    shedding = {k.region for k in sim.recorder.ticks if k.shed > 0}
    assert all(doc["slo_violation_minutes_by_region"][r] > 0 for r in shedding)
    streams = doc["streams"]
    assert (
        abs(streams["held"] + streams["refused"] - streams["offered"]) < 1e-6 * streams["offered"]
    )


def test_shed_by_tier_sums_to_shed_in_every_tick_and_in_the_totals() -> None:
    sim = Simulator(short("flash-crowd"), 3, small(), keep_ticks=True)
    doc = sim.run().doc
    for k in sim.recorder.ticks:
        assert sum(k.shed_by_tier.values()) == k.shed
        assert sum(k.offered_by_tier.values()) == k.offered
        assert all(k.shed_by_tier[t] <= k.offered_by_tier[t] for t in k.offered_by_tier)
        if not k.slo_violated:  # no capacity shortfall: only the plan sheds, never premium
            assert k.shed_by_tier["premium"] == 0
    tiers = doc["tiers"]
    assert sum(t["shed"] for t in tiers.values()) == doc["shed"] > 0
    assert sum(t["offered"] for t in tiers.values()) == doc["offered"]
    assert tiers["free"]["shed_share"] >= tiers["standard"]["shed_share"]
    assert tiers["standard"]["shed_share"] >= tiers["premium"]["shed_share"]
    by_region = doc["shed_by_tier_by_region"]
    assert sum(sum(r.values()) for r in by_region.values()) == doc["shed"]
    assert set(doc["series"]["shed_share_by_tier"]) == {"free", "standard", "premium"}


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not() -> None:
    scenario = short("flash-crowd", duration=900.0)
    a = simulate(scenario, 7, small()).to_json()
    b = simulate(scenario, 7, small()).to_json()
    c = simulate(scenario, 8, small()).to_json()
    assert a == b
    assert a != c


def test_the_json_holds_the_promised_fields_with_a_stated_unit() -> None:
    doc = json.loads(simulate(short("region-failure", duration=600.0), 1, small()).to_json())
    for key in (
        "scenario",
        "seed",
        "offered",
        "served",
        "shed",
        "unit",
        "instances_peak",
        "slo_violation_minutes",
        "cost_per_month",
    ):
        assert key in doc, key
    assert doc["scenario"] == "region-failure" and doc["seed"] == 1
    assert doc["unit"].startswith("requests")
    assert set(doc["instances_peak"]) == set(region_names())
    assert doc["cost_per_month"] > 0


def test_a_failed_region_serves_nothing_and_its_load_moves_to_its_neighbours() -> None:
    sim = Simulator(short("region-failure", duration=600.0), 1, small(), keep_ticks=True)
    sim.run()
    after = [k for k in sim.recorder.ticks if k.t >= 400.0]
    dead = [k for k in after if k.region == "europe-west1"]
    assert dead and all(k.offered == 0 and k.running == 0 for k in dead)
    before = {k.region: k.offered for k in sim.recorder.ticks if k.t == 200.0}
    later = {k.region: k.offered for k in sim.recorder.ticks if k.t == 500.0}
    assert later["europe-west2"] > 1.3 * before["europe-west2"]  # nearest by RTT


def test_every_scenario_runs_a_short_while() -> None:
    for name in SCENARIOS:
        doc = simulate(short(name, duration=120.0, event_start=30.0), 0, small()).doc
        assert doc["served"] + doc["shed"] == doc["offered"] > 0, name


def test_two_processes_with_different_hash_seeds_write_the_same_bytes(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"tick_seconds": 30, "traffic": {"streams": 20e6}}))
    outs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"run-{hash_seed}.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "ruvstream",
                "sim",
                "flash-crowd",
                "--seed",
                "5",
                "--config",
                str(config),
                "--json",
                str(out),
            ],
            check=True,
            capture_output=True,
            timeout=120,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        )
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
