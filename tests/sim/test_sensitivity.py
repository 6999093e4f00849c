"""Sensitivity sweeps, and cost as a monotone function of instance-hours."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ruvstream.cli.main import main
from ruvstream.sim import PLATFORMS
from ruvstream.sim._platform import region_price_factor
from ruvstream.sim._sensitivity import sweep

from .conftest import short, small

_BASELINE = short("baseline", duration=600.0)


def test_cost_rises_with_instance_hours_and_stays_within_the_region_prices() -> None:
    doc = sweep(
        _BASELINE, 1, small(platform="vm-pool"), "queries-per-stream", ["0.05", "0.2", "0.8", "3.2"]
    )
    rows = sorted(doc["rows"], key=lambda r: r["instance_hours"])
    hours = [r["instance_hours"] for r in rows]
    costs = [r["cost_dollars"] for r in rows]
    assert hours == sorted(set(hours))  # the sweep did move the fleet
    assert costs == sorted(set(costs))
    price = PLATFORMS["vm-pool"].price_per_instance_hour
    factors = [region_price_factor(r) for r in ("us-central1", "southamerica-east1")]
    for r in rows:
        per_hour = r["cost_dollars"] / r["instance_hours"]
        assert price * factors[0] * 0.95 <= per_hour <= price * factors[1] * 1.05


def test_more_streams_per_node_needs_fewer_instance_hours() -> None:
    doc = sweep(_BASELINE, 1, small(), "streams-per-node", ["250", "1000", "4000"])
    hours = [r["instance_hours"] for r in doc["rows"]]
    assert hours == sorted(hours, reverse=True) and hours[0] > hours[-1]


def test_a_platform_sweep_runs_each_profile() -> None:
    doc = sweep(_BASELINE, 1, small(), "platform", list(PLATFORMS))
    assert [r["value"] for r in doc["rows"]] == list(PLATFORMS)
    by = {r["value"]: r for r in doc["rows"]}
    assert by["vm-pool"]["instances_peak_total"] < by["cloud-run"]["instances_peak_total"]


def test_the_prewarm_lead_sweep_reaches_the_predictor() -> None:
    doc = sweep(
        short("world-cup", duration=900.0, event_start=600.0),
        1,
        small(),
        "prewarm-lead",
        ["0", "600"],
    )
    early, late = doc["rows"][1], doc["rows"][0]
    assert early["instance_hours"] > late["instance_hours"]  # ordered sooner, billed longer


def test_the_sweep_flag_writes_its_table_and_refuses_an_unknown_parameter(
    tmp_path: Path,
) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"tick_seconds": 60, "traffic": {"streams": 10e6}}))
    out = tmp_path / "sweep.json"
    ok = CliRunner().invoke(
        main,
        [
            "sim",
            "baseline",
            "--config",
            str(config),
            "--sweep",
            "platform=cloud-run,vm-pool",
            "--json",
            str(out),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "| vm-pool |" in ok.output
    assert [r["value"] for r in json.loads(out.read_text())["rows"]] == ["cloud-run", "vm-pool"]
    bad = CliRunner().invoke(main, ["sim", "baseline", "--sweep", "colour=red"])
    assert bad.exit_code == 2 and "streams-per-node" in bad.output
