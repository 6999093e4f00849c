"""The swarm under real load: it grows a region through the local actuator, the router (following
the registry) sends the new node traffic without a restart, and after the load the swarm shrinks
back to its minimum with no failed request during retirement, as the load generator counts."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx
import numpy as np
import pytest

from ruvstream.bench.loadgen import LoadGenerator, SteadyPlan, Workload
from ruvstream.bench.transports import HttpTransport
from ruvstream.client import AsyncSession
from ruvstream.control.member import ControlMember, MemberSettings
from ruvstream.control.membership import NodeState, Registry
from ruvstream.control.names import ControlNames
from ruvstream.control.queue.jetstream import JetStreamWorkQueue
from ruvstream.control.store.jetstream import NatsBackend
from ruvstream.control.swarm import LocalActuator, RegionBounds, ThresholdConfig
from ruvstream.testing import RouterProcess

from .conftest import NATS_URL, unique, wait_for

pytestmark = [pytest.mark.nats, pytest.mark.slow]

DIM = 8


async def load_collection(url: str, base: np.ndarray) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        (
            await client.put("/v1/collections/docs", json={"dim": DIM, "metric": "l2"})
        ).raise_for_status()
        records = [{"id": str(i), "vector": v.tolist()} for i, v in enumerate(base)]
        (
            await client.post("/v1/collections/docs/records", json={"records": records})
        ).raise_for_status()


async def served_by(router: RouterProcess) -> dict[str, int]:
    async with httpx.AsyncClient() as client:
        body = (await client.get(router.url + "/health")).json()
    return {n["name"]: int(n["served"]) for n in body["nodes"]}


async def test_the_swarm_grows_under_load_and_retires_without_a_failed_request(
    tmp_path: Path, plane: tuple[ControlNames, NatsBackend]
) -> None:
    names, backend = plane
    stream = unique("swarm-ops")
    node_args = [
        "--bus", "nats", "--nats-url", NATS_URL, "--stream", stream,
        "--control-heartbeat", "0.3", "--control-lapse", "3", "--drain-seconds", "3",
    ]  # fmt: skip
    actuator = LocalActuator(
        tmp_path / "swarm",
        node_args=node_args,
        control_nats_url=NATS_URL,
        namespace=names.namespace,
    )
    settings = MemberSettings(
        namespace=names.namespace,
        member_id="swarm-leader",
        lease=2.0,
        tick=0.2,
        lapse=3.0,
        regions={"r1": RegionBounds(1, 2)},
        scaling=ThresholdConfig(
            metric="qps", scale_up=15.0, scale_down=5.0, up_cooldown=2.0, down_cooldown=4.0
        ),
        swarm_every=0.5,
        retire_grace=1.5,
    )
    queue = await JetStreamWorkQueue.open(
        backend.client, names.queue_stream, names.dead_stream, names.subject_root
    )
    member_backend = await NatsBackend.connect(NATS_URL)
    member = ControlMember(settings, member_backend, queue, actuator=actuator)
    registry = Registry(await backend.bucket(names.members, ttl=3.0))
    router = RouterProcess(
        tmp_path / "router",
        nodes=[],
        default_region="r1",
        probe_interval=0.3,
        args=["--registry-nats-url", NATS_URL, "--registry-namespace", names.namespace],
    )
    rng = np.random.default_rng(7)
    base = rng.standard_normal((300, DIM)).astype(np.float32)
    queries = rng.standard_normal((64, DIM)).astype(np.float32)
    await member.open()
    member.start()
    transport: HttpTransport | None = None
    sessions: list[AsyncSession] = []
    try:

        async def serving(count: int) -> bool:
            found = [m for m in await registry.members() if m.state is NodeState.SERVING]
            return len(found) == count

        await wait_for(lambda: serving(1), within=60.0)
        (first,) = await registry.members()
        await load_collection(first.address, base)
        await asyncio.to_thread(router.start)
        transport = HttpTransport(router.url, max_connections=32)
        generator = LoadGenerator(transport, Workload("docs", queries, base, k=5), timeout=20.0)

        # Load: the region grows to two nodes and the router sends the new one traffic.
        async def grown_and_routed() -> bool:
            served = await served_by(router)
            return len(served) == 2 and all(count > 0 for count in served.values())

        for _ in range(40):  # 2 s rounds of load, each followed by a look
            if await grown_and_routed():
                break
            await generator.run(SteadyPlan(2.0, 40.0))
        else:
            pytest.fail(f"the region did not grow and get traffic: {await served_by(router)}")
        assert (await actuator.instances("r1"))[0].id == first.id
        new = next(name for name in await served_by(router) if name != first.id)
        assert new.startswith("r1-")

        # WebSocket sessions through the router, spread over both nodes.
        ws_url = router.url.replace("http", "ws", 1) + "/v1/ws"
        for _ in range(4):
            session = AsyncSession(ws_url, request_timeout=20.0)
            await session.connect()
            sessions.append(session)
            assert (await session.search("docs", queries[0], k=3)).hits

        # Light load: the swarm retires one node gracefully and stops at the minimum.
        failed_before = generator.result.book.failed

        async def shrunk() -> bool:
            return len(await actuator.instances("r1")) == 1 and await serving(1)

        for _ in range(40):
            if await shrunk():
                break
            await generator.run(SteadyPlan(2.0, 4.0))
        else:
            pytest.fail(f"the region did not shrink: {await actuator.instances('r1')}")
        for _ in range(3):  # it stays at the minimum
            await generator.run(SteadyPlan(2.0, 2.0))
        assert len(await actuator.instances("r1")) == 1
        book = generator.result.book
        assert book.failed == failed_before == 0, book.errors
        assert book.ok > 100
        # The retired node's sessions moved: their clients reconnected and go on answering.
        for session in sessions:
            assert (await session.search("docs", queries[1], k=3)).hits
        assert sum(session.reconnects for session in sessions) >= 1
        swarm = member.swarm
        assert swarm is not None
        assert [e[0] for e in swarm.events] == ["up", "up", "retire", "down"]
        left = await registry.members()
        assert len(left) == 1 and left[0].state is NodeState.SERVING
    finally:
        for session in sessions:
            await session.close()
        if transport is not None:
            await transport.aclose()
        await asyncio.to_thread(router.stop)
        await member.close()
        with contextlib.suppress(Exception):
            await backend.client.jetstream().delete_stream(stream)
