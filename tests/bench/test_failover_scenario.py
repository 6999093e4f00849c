"""regional_failover on a real deployment: 2 regions x 1 node behind a router process.

The first region (where anonymous clients go) is killed a third of the way
through and restarted at five ninths; the run must keep answering through
the surviving region and record what happened.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ruvstream.bench.deployment import RegionalDeployment
from ruvstream.bench.failures import plan_failures
from ruvstream.bench.report import to_markdown
from ruvstream.bench.runner import RunConfig, ScenarioUnavailableError, execute
from ruvstream.bench.scenarios import LocalScale, LocalShape, get_scenario

pytestmark = pytest.mark.timeout(120)

SECONDS = 9.0
RATE = 40.0


def test_plan_kills_the_first_region_and_never_the_last() -> None:
    shape = LocalShape(get_scenario("multi_region_failover"), LocalScale(seconds=55.0))
    plan = plan_failures(shape, ("a", "b", "c"))
    assert [(e.at, e.action, e.region) for e in plan] == [
        (15.0, "fail", "a"),
        (30.0, "fail", "b"),
        (35.0, "recover", "a"),
        (50.0, "recover", "b"),
    ]
    assert plan_failures(shape, ("only",)) == []


async def test_without_a_deployment_the_scenario_is_still_refused(tmp_path: Path) -> None:
    config = RunConfig("regional_failover", "http://127.0.0.1:1", out_dir=tmp_path)
    with pytest.raises(ScenarioUnavailableError, match="regions"):
        await execute(config)


async def test_regional_failover_moves_traffic_and_records_events(
    tmp_path: Path, bench_cache: Path
) -> None:
    config = RunConfig(
        "regional_failover",
        url="http://127.0.0.1:1",  # replaced by the deployment's router
        out_dir=tmp_path,
        queries=200,
        scale=LocalScale(seconds=SECONDS),
        rate=RATE,
        streams=4,
        timeout=5.0,
    )
    with RegionalDeployment(tmp_path / "deploy", regions=2) as deployment:
        result = await execute(config, deployment=deployment)
    s = result["summary"]
    # Only requests in flight at the kill may fail: a small, bounded number.
    assert s["ok"] > 0.8 * RATE * SECONDS * 0.6
    assert s["failed"] + s["dropped"] <= 10
    assert s["recall"] > 0.9
    failures = result["failures"]
    events = [(e["action"], e["region"]) for e in failures["events"]]
    assert events == [("fail", "us-east1"), ("recover", "us-east1")]
    fail, recover = failures["events"]
    assert 0 < fail["started"] < recover["started"] < SECONDS + 60
    phases = {p["after"]: p["served"] for p in failures["phases"]}
    assert phases["start"]["us-east1"] > 0 and phases["start"]["us-west1"] == 0
    during = phases["fail us-east1"]
    assert during["us-west1"] > 0 and during["us-east1"] <= 10
    assert [m["label"] for m in result["analysis"]["events"]] == [
        "fail us-east1",
        "recover us-east1",
    ]
    assert "after fail us-east1" in to_markdown(result)
