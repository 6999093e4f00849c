"""The original design's claims beside a run: a fleet that refused its load never
'confirms' a claim by being small or cheap."""

from __future__ import annotations

import dataclasses

from ruvstream.sim import PLATFORMS, SimConfig, Traffic, claims, simulate

from .conftest import short, small


def test_a_starved_fleet_confirms_nothing() -> None:
    platform = dataclasses.replace(PLATFORMS["vm-pool"], quota_per_region=3)
    doc = simulate(
        short("flash-crowd", duration=600.0),
        0,
        SimConfig(traffic=Traffic(streams=50e6), platform=platform),
    ).doc
    found = {c.claim: c for c in claims(doc)}
    fleet = found["500M streams on 5,000 instances"]
    assert doc["instances_peak_total"] <= 5000 * 50e6 / 500e6  # small, because starved
    assert fleet.holds is False and "shed" in fleet.simulated
    premium = doc["tiers"]["premium"]["shed_share"]
    assert f"free {doc['tiers']['free']['shed_share']:.0%}" in fleet.simulated
    assert f"premium {premium:.0%}" in fleet.simulated
    assert found["$0.0055 per stream-month"].holds is False


def test_a_served_baseline_is_judged_on_its_figures() -> None:
    doc = simulate(short("baseline", duration=300.0), 0, small()).doc
    assert doc["shed"] == 0
    found = {c.claim: c for c in claims(doc)}
    # 50M streams at 1,000 per Cloud Run instance (75 % target): about 66,700 > 500
    assert found["500M streams on 5,000 instances"].holds is False
    assert found["scale-up under 60 s"].holds is True
    assert found["scale-up under 60 s"].simulated.startswith("never under capacity")
    assert "shed" not in found["500M streams on 5,000 instances"].simulated
