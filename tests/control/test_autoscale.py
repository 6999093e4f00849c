"""The leader's scaling loop on a clock the test moves: figures in, desired counts and
degradation out, state and decisions in the scaling bucket, a new term restored."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ruvstream.control.autoscale import ScalingLoop, SwarmCapacity, region_samples
from ruvstream.control.autoscale_cli import autoscale_spec, limit_regions
from ruvstream.control.figures import Figures
from ruvstream.control.membership import NodeState
from ruvstream.control.scaling import (
    DegradationLevel,
    MemoryDegradationPort,
    NodeCapacity,
    Orchestrator,
    ScalingConfig,
    StaleFencingTokenError,
    build_orchestrator,
)
from ruvstream.control.scaling_store import ScalingStore, query_decisions
from ruvstream.control.store import MemoryStore
from ruvstream.control.swarm import MemoryActuator, RegionBounds, SwarmManager
from ruvstream.core.clock import ManualClock

from .helpers import member, registry

FAST = {
    "tick_seconds": 1,
    "node": {"qps_per_instance": 10},
    "reactive": {
        "stable_window_seconds": 10,
        "panic_window_seconds": 2,
        "scale_out_cooldown_seconds": 1,
        "scale_in_cooldown_seconds": 5,
        "scale_in_stabilization_seconds": 5,
        "targets": {"cpu": None, "memory": None, "p99_ms": None, "error_rate": None},
    },
}
BOUNDS = {"r1": RegionBounds(1, 4)}


def test_region_samples_read_serving_nodes_and_bill_the_starting_ones() -> None:
    node = NodeCapacity(qps_per_instance=10)
    members = [
        member("a", cpu=50.0),
        member("b", cpu=30.0),
        member("c", state=NodeState.STARTING),
        member("d", state=NodeState.DRAINING),
        member("x", region="r2"),
    ]
    [sample] = region_samples(members, ["r1"], 5.0, node)
    assert (sample.region, sample.ready_instances, sample.instances) == ("r1", 2, 3)
    assert sample.cpu == pytest.approx(0.4)
    [empty] = region_samples([], ["r1"], 5.0, node, {"r1": 2})
    assert (empty.ready_instances, empty.instances, empty.offered_qps) == (0, 2, 0.0)


class Rig:
    def __init__(
        self,
        *,
        dry_run: bool = False,
        bucket: MemoryStore | None = None,
        budget: dict[str, float] | None = None,
        build: Callable[[], Orchestrator] | None = None,
    ) -> None:
        self.clock = ManualClock()
        self.registry = registry(self.clock)
        self.actuator = MemoryActuator()
        self.swarm = SwarmManager(
            self.registry, self.actuator, MemoryStore("swarm"), BOUNDS, clock=self.clock
        )
        self.bucket = bucket or MemoryStore("scaling")
        self.port = MemoryDegradationPort()
        cfg = limit_regions(ScalingConfig.from_json({**FAST, "budget": budget or {}}), BOUNDS)
        self.deferred: list[bool] = []
        self.loop = ScalingLoop(
            build or (lambda: build_orchestrator(cfg, None)),
            cfg.node,
            self.registry,
            self.swarm,
            ScalingStore(self.bucket),
            port=self.port,
            dry_run=dry_run,
            defer=self.deferred.append,
            clock=self.clock,
        )

    async def report(self, qps_per_node: float) -> None:
        for instance in await self.actuator.instances("r1"):
            await self.registry.heartbeat(member(instance.id), Figures(qps=qps_per_node))

    async def round(self, qps_per_node: float, token: int = 1) -> None:
        await self.swarm.step(token)
        await self.report(qps_per_node)
        self.clock.advance(1.0)
        await self.loop.step(token)


async def test_a_burst_scales_out_and_the_decisions_are_stored() -> None:
    rig = Rig()
    await rig.round(1.0)
    assert (await rig.swarm.desired("r1")).count == 1  # type: ignore[union-attr]
    for _ in range(3):
        await rig.round(30.0)  # 3x what one node carries at 70 %
    desired = await rig.swarm.desired("r1")
    assert desired is not None and desired.count == 4 and desired.token == 1
    stored = await ScalingStore(rig.bucket).decisions()
    changed = query_decisions(stored, changed_only=True)
    assert changed and changed[0]["reason"] in ("reactive", "panic")
    assert changed[0]["desired"] > changed[0]["previous"]
    assert rig.port.current is not None and rig.port.current.fencing_token == 1
    assert await rig.bucket.get("scaling/reactive") is not None
    # Light load: background work runs; wanting 15 nodes of a region capped at 4 is quota
    # pressure, which degrades service and defers it.
    assert rig.deferred[0] is False and rig.deferred[-1] is True


async def test_a_new_term_restores_the_saved_state_and_a_new_leader_too() -> None:
    rig = Rig()
    for _ in range(3):
        await rig.round(30.0)
    assert rig.loop.restored is False
    await rig.round(30.0, token=5)  # a new term: rebuilt from the bucket
    assert rig.loop.restored is True
    successor = Rig(bucket=rig.bucket)  # another member, same bucket
    await successor.loop.step(9)
    assert successor.loop.restored is True


async def test_dry_run_sets_nothing_but_logs_the_plan() -> None:
    rig = Rig(dry_run=True)
    for _ in range(3):
        await rig.round(30.0)
    assert await rig.swarm.desired("r1") is not None  # the swarm's own min only
    assert (await rig.swarm.desired("r1")).count == 1  # type: ignore[union-attr]
    assert rig.port.current is None and await rig.bucket.get("scaling/reactive") is None
    stored = await ScalingStore(rig.bucket).decisions()
    assert stored and all(d["dry_run"] for d in stored)
    assert max(d["desired"] for d in stored) == 4


async def test_the_swarm_capacity_turns_a_stale_token_into_the_orchestrators_error() -> None:
    rig = Rig()
    capacity = SwarmCapacity(rig.swarm)
    await capacity.set_desired("r1", 2, 8)
    with pytest.raises(StaleFencingTokenError) as stale:
        await capacity.set_desired("r1", 3, 7)
    assert stale.value.highest == 8


async def test_a_plan_that_defers_background_work_holds_the_coordinator() -> None:
    rig = Rig(budget={"hourly_dollars": 0.01})  # one node already costs more than that
    for _ in range(3):
        await rig.round(30.0)
    assert rig.port.current is not None and rig.port.current.level >= DegradationLevel.MINOR
    assert rig.deferred and all(rig.deferred)
    assert (await rig.swarm.desired("r1")).count < 4  # type: ignore[union-attr]


async def test_the_plan_in_force_is_sent_again_so_a_restarted_router_learns_it() -> None:
    rig = Rig()
    rig.loop.resend_every = 5.0
    await rig.round(1.0)
    assert len(rig.port.received) == 1  # the first round sends the level
    for _ in range(3):
        await rig.round(1.0)
    assert len(rig.port.received) == 1  # unchanged level, within resend_every
    for _ in range(3):
        await rig.round(1.0)
    assert len(rig.port.received) == 2  # 6 s on: sent again, the same plan
    assert rig.port.received[0].sequence == rig.port.received[1].sequence


async def test_a_calendar_event_is_prewarmed_for_before_its_load_arrives(tmp_path: Path) -> None:
    start = ManualClock().now() + 120  # the rig's clock starts where a new ManualClock does
    calendar = {
        "patterns": {"launch": {"multiplier": 10, "duration_seconds": 600,
                                "peak_offset_seconds": 0, "regions": ["r1"],
                                "arrival_seconds": 0}},
        "events": [{"id": "go", "name": "Launch", "type": "launch", "start": start}],
    }  # fmt: skip
    (tmp_path / "events.json").write_text(json.dumps(calendar))
    config = {**FAST, "node": {"qps_per_instance": 10, "startup_seconds": 20}}
    (tmp_path / "scaling.json").write_text(json.dumps(config))
    options = {
        "scaling_config": tmp_path / "scaling.json", "calendar": tmp_path / "events.json",
        "metrics_port": None, "router_url": None, "router_api_key": None, "dry_run": False,
    }  # fmt: skip
    spec, port = autoscale_spec(options, BOUNDS)
    assert port is None and spec.every == 1
    rig = Rig(build=spec.build)
    for _ in range(150):  # 1 q/s on one node: the reactive scaler alone wants one
        await rig.round(1.0)
        if rig.clock.now() >= start:
            break
    stored = await ScalingStore(rig.bucket).decisions()
    early = [d for d in stored if d["reason"] == "predicted" and d["t"] < start]
    assert early and early[0]["event_id"] == "go" and early[0]["reactive"] == 1
    lead = 20 + 60  # the start-up plus the pre-warm margin
    assert early[0]["desired"] > 1 and start - lead - 1 <= early[0]["t"] <= start - lead + 1
