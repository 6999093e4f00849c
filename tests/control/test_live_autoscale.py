"""End to end on loopback: a burst rising 10x through the router makes the leader's scaling
loop grow the region through the local actuator, the calm after it shrinks the region back,
and the decision log (in the scaling bucket) gives the reason of every change."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from ruvstream.bench.loadgen import LoadGenerator, Workload
from ruvstream.bench.transports import HttpTransport
from ruvstream.control.autoscale import AutoscaleSpec
from ruvstream.control.autoscale_cli import limit_regions
from ruvstream.control.member import ControlMember, MemberSettings
from ruvstream.control.membership import NodeState, Registry
from ruvstream.control.names import ControlNames
from ruvstream.control.queue.jetstream import JetStreamWorkQueue
from ruvstream.control.scaling import ScalingConfig, build_orchestrator
from ruvstream.control.scaling_store import ScalingStore, query_decisions
from ruvstream.control.store.jetstream import NatsBackend
from ruvstream.control.swarm import LocalActuator, RegionBounds
from ruvstream.testing import RouterProcess

from .conftest import NATS_URL, unique, wait_for
from .test_live_swarm import DIM, load_collection

pytestmark = [pytest.mark.nats, pytest.mark.slow]

BASE_QPS = 4.0
PHASE_DEADLINE = 120.0
BOUNDS = {"r1": RegionBounds(1, 3)}
# One node "carries" 10 q/s here, so 4 q/s needs one node and the 10x burst three. Time
# is compressed: the predictor's baseline is the last 2 s bucket (a naive forecast: less
# than a season of history) and its lead the local start-up plus 1 s.
CONFIG = {
    "tick_seconds": 0.5,
    "node": {"qps_per_instance": 10, "startup_seconds": 3},
    "predictor": {
        "bucket_seconds": 2,
        "forecast_horizon_seconds": 60,
        "prewarm_margin_seconds": 1,
        "calibration_seconds": 10,
    },
    "reactive": {
        "stable_window_seconds": 4,
        "panic_window_seconds": 1,
        "scale_out_cooldown_seconds": 1,
        "scale_in_cooldown_seconds": 3,
        "scale_in_stabilization_seconds": 3,
        "targets": {"cpu": None, "memory": None, "p99_ms": None, "error_rate": None},
    },
}


@dataclass
class Phase:
    """A constant-rate open-loop plan (``bench.loadgen.Plan``); a burst phase uses the
    burst query pattern's hotspot."""

    rate: float
    burst: bool = False
    seconds: float = 2.0

    def rate_at(self, t: float) -> float:
        return self.rate

    def streams_at(self, t: float) -> int:
        return 0

    def in_burst(self, t: float) -> bool:
        return self.burst


async def test_a_10x_burst_scales_out_and_back_in_with_reasons(
    tmp_path: Path, plane: tuple[ControlNames, NatsBackend]
) -> None:
    names, backend = plane
    stream = unique("autoscale-ops")
    node_args = [
        "--bus", "nats", "--nats-url", NATS_URL, "--stream", stream,
        "--control-heartbeat", "0.3", "--control-lapse", "3", "--drain-seconds", "2",
    ]  # fmt: skip
    actuator = LocalActuator(
        tmp_path / "swarm", node_args=node_args, control_nats_url=NATS_URL,
        namespace=names.namespace,
    )  # fmt: skip
    config = limit_regions(ScalingConfig.from_json(CONFIG), BOUNDS)
    spec = AutoscaleSpec(build=lambda: build_orchestrator(config, None), node=config.node,
                         every=config.tick_seconds)  # fmt: skip
    settings = MemberSettings(
        namespace=names.namespace, member_id="autoscaler", lease=2.0, tick=0.2, lapse=3.0,
        regions=BOUNDS, swarm_every=0.5, retire_grace=1.0,
    )  # fmt: skip
    queue = await JetStreamWorkQueue.open(
        backend.client, names.queue_stream, names.dead_stream, names.subject_root
    )
    member = ControlMember(
        settings, await NatsBackend.connect(NATS_URL), queue, actuator=actuator, autoscale=spec
    )
    registry = Registry(await backend.bucket(names.members, ttl=3.0))
    router = RouterProcess(
        tmp_path / "router", nodes=[], default_region="r1", probe_interval=0.3,
        args=["--registry-nats-url", NATS_URL, "--registry-namespace", names.namespace],
    )  # fmt: skip
    rng = np.random.default_rng(3)
    base = rng.standard_normal((200, DIM)).astype(np.float32)
    queries = rng.standard_normal((64, DIM)).astype(np.float32)
    await member.open()
    member.start()
    transport: HttpTransport | None = None
    try:

        async def serving() -> int:
            return sum(m.state is NodeState.SERVING for m in await registry.members())

        async def first_serving() -> bool:
            return await serving() == 1

        await wait_for(first_serving, within=60.0)
        (first,) = await registry.members()
        await load_collection(first.address, base)
        await asyncio.to_thread(router.start)
        transport = HttpTransport(router.url, max_connections=32)
        workload = Workload("docs", queries, base, k=5, pattern="burst")
        generator = LoadGenerator(transport, workload, timeout=20.0)
        await generator.run(Phase(BASE_QPS))

        async def region_runs(count: int) -> bool:
            return len(await actuator.instances("r1")) == count and await serving() == count

        # The burst: 10x the base rate until the region runs its maximum, all serving. The
        # deadlines are generous: a busy machine starts nodes slowly, and only a failing run
        # waits them out.
        deadline = time.monotonic() + PHASE_DEADLINE
        while not await region_runs(3):
            if time.monotonic() > deadline:
                why = await _diagnosis(backend, names, member)
                pytest.fail(f"the region did not grow: {why}")
            await generator.run(Phase(10 * BASE_QPS, burst=True))

        # The calm: back to the base rate until the region is down to one node.
        deadline = time.monotonic() + PHASE_DEADLINE
        while not await region_runs(1):
            if time.monotonic() > deadline:
                why = await _diagnosis(backend, names, member)
                pytest.fail(f"the region did not shrink: {why}")
            await generator.run(Phase(BASE_QPS))

        bucket = await backend.find(names.scaling)
        assert bucket is not None
        changes = query_decisions(await ScalingStore(bucket).decisions(), changed_only=True)
        assert changes[0]["desired"] == 1 and changes[0]["reason"] == "min-instances"
        ups = [d for d in changes[1:] if d["desired"] > d["previous"]]
        downs = [d for d in changes if d["desired"] < d["previous"]]
        assert ups and downs, changes
        reasons = {d["reason"] for d in ups}
        # quota: the scaler wanted more than the region's maximum of 3; whether the burst
        # reads that high at its first tick or only at a later one is the machine's timing.
        assert reasons and reasons <= {"reactive", "panic", "predicted", "quota"}, changes
        assert max(d["desired"] for d in ups) == 3
        assert downs[-1]["desired"] == 1 and downs[-1]["reason"] == "reactive"
        assert all(d["offered_qps"] > 2 * BASE_QPS for d in ups)
        assert generator.result.book.ok > 100
        swarm = member.swarm
        assert swarm is not None and "retire" in [e[0] for e in swarm.events]
    finally:
        if transport is not None:
            await transport.aclose()
        await asyncio.to_thread(router.stop)
        await member.close()
        with contextlib.suppress(Exception):
            await backend.client.jetstream().delete_stream(stream)


async def _diagnosis(backend: NatsBackend, names: ControlNames, member: ControlMember) -> str:
    """The last decisions, the swarm's steps and each started node's log tail."""
    bucket = await backend.find(names.scaling)
    found = [] if bucket is None else await ScalingStore(bucket).decisions()
    decisions = [
        f"{d['previous']}->{d['desired']} {d['reason']}/{d['reactive_reason']} "
        f"qps={d['offered_qps']:.1f} ready={d['ready_instances']}"
        for d in found[-8:]
    ]
    swarm = member.swarm
    events = [] if swarm is None else swarm.events[-8:]
    logs = []
    actuator = member.actuator
    if isinstance(actuator, LocalActuator):
        for log in sorted(actuator.work_dir.glob("*/node.log")):
            logs.append(f"--- {log.parent.name}: {log.read_text()[-600:]}")
    return "\n".join([f"decisions {decisions}", f"swarm {events}", *logs])
