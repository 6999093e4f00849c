"""The control plane as processes: three ``ruvstream control`` members over the real NATS,
node processes running agents, tasks that fail over and tasks that die."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest
from nats.aio.msg import Msg

from ruvstream.control.coordinator import agent_queue, submit
from ruvstream.control.membership import NodeState, Registry
from ruvstream.control.names import ControlNames
from ruvstream.control.queue.jetstream import JetStreamWorkQueue
from ruvstream.control.status import cluster_status
from ruvstream.control.store.jetstream import NatsBackend
from ruvstream.control.tasks import Task, new_task
from ruvstream.testing import NodeProcess

from .conftest import NATS_URL, wait_for
from .processes import ControlProcess

pytestmark = [pytest.mark.nats, pytest.mark.slow]

LEASE = 5.0  # long enough that a starved leader still renews in time on a busy machine


def node_args(names: ControlNames) -> list[str]:
    return [
        "--control-nats-url", NATS_URL,
        "--control-namespace", names.namespace,
        "--control-heartbeat", "0.3",
        "--control-lapse", "3",
        "--drain-seconds", "2",
    ]  # fmt: skip


def members(tmp_path: Path, names: ControlNames) -> list[ControlProcess]:
    args = ["--lease", str(LEASE), "--tick", "0.2", "--lapse", "3"]
    return [
        ControlProcess(tmp_path / "control", f"m{i}", names.namespace, NATS_URL, list(args))
        for i in range(3)
    ]


async def status(backend: NatsBackend, names: ControlNames) -> dict[str, object]:
    return await cluster_status(backend, names)


async def refused_orders(node: NodeProcess) -> float:
    async with httpx.AsyncClient() as client:
        text = (await client.get(node.url + "/metrics")).text
    for line in text.splitlines():
        if line.startswith("ruvstream_control_refused_orders_total "):
            return float(line.split()[1])
    return 0.0


async def test_one_leader_a_fast_handover_on_kill_old_tokens_refused_and_a_node_agent(
    tmp_path: Path, plane: tuple[ControlNames, NatsBackend]
) -> None:
    names, backend = plane
    group = members(tmp_path, names)
    node = NodeProcess(tmp_path / "n1", region="r1", node_id="live-n1", args=node_args(names))
    queue = await JetStreamWorkQueue.open(
        backend.client, names.queue_stream, names.dead_stream, names.subject_root
    )
    registry = Registry(await backend.bucket(names.members, ttl=3.0))
    reports: list[dict[str, object]] = []

    async def on_figures(msg: Msg) -> None:
        reports.append(json.loads(msg.data))

    await backend.client.subscribe(names.figures_subject("*"), cb=on_figures)
    try:
        for m in group:
            m.start()
        await asyncio.to_thread(node.start)

        async def a_leader() -> bool:
            return (await status(backend, names))["leader"] is not None

        await wait_for(a_leader)
        first = (await status(backend, names))["leader"]
        assert isinstance(first, dict)
        old_token = int(first["token"])
        # Exactly one member ever took the lead, and it is the one the store names, over a
        # whole lease (three renewals) in which a second leader could have appeared.
        election = await backend.find(names.election)
        assert election is not None
        start = await election.get("leader")
        assert start is not None

        async def renewed_three_times() -> bool:
            now = await election.get("leader")
            return now is not None and now.revision >= start.revision + 3

        await wait_for(renewed_three_times)
        assert [m.terms() for m in group].count(1) == 1 and sum(m.terms() for m in group) == 1
        leader = next(m for m in group if m.member_id == first["id"])
        assert leader.terms() == 1

        killed_at = time.monotonic()
        leader.kill()

        async def a_successor() -> bool:
            now = (await status(backend, names))["leader"]
            return isinstance(now, dict) and now["id"] != leader.member_id

        await wait_for(a_successor)
        took = time.monotonic() - killed_at
        second = (await status(backend, names))["leader"]
        assert isinstance(second, dict) and int(second["token"]) > old_token
        assert took < 3 * LEASE, f"handover took {took:.1f}s with a {LEASE}s lease"

        # The new leader's orders reach the node's agent; an order under the old token is refused.
        done_id = await submit(queue, new_task("snapshot", timeout=20.0))

        async def task_done() -> bool:
            tasks = (await status(backend, names))["tasks"]
            return isinstance(tasks, dict) and tasks["counts"]["done"] == 1

        await wait_for(task_done)
        stale = {"id": done_id, "attempt": 1, "token": old_token}
        await queue.put(agent_queue("live-n1"), json.dumps(stale).encode())

        async def refused() -> bool:
            return await refused_orders(node) >= 1

        await wait_for(refused)

        # The node's agent: in the registry at its address, figures over NATS, and on SIGTERM
        # draining first, then gone once the node has drained and snapshotted.
        entry = await registry.get("live-n1")
        assert entry is not None and entry.address == node.url and entry.region == "r1"
        assert entry.state is NodeState.SERVING and entry.figures.memory_bytes > 0
        assert any(r["node"] == "live-n1" for r in reports)
        seen: list[str] = []
        watching = asyncio.Event()

        async def watch() -> None:
            async with registry.store.watch() as changes:
                async for change in changes:
                    watching.set()
                    if change.value is None:
                        seen.append("gone")
                        return
                    seen.append(json.loads(change.value)["state"])

        watcher = asyncio.create_task(watch())
        await asyncio.wait_for(watching.wait(), 30)  # it holds the current entry: serving
        assert await asyncio.to_thread(node.terminate) == 0
        await asyncio.wait_for(watcher, 30)
        # serving (heartbeats), then draining (marked before the node drained), then gone
        serving, draining = seen.count("serving"), seen.count("draining")
        assert (
            serving
            and draining
            and seen == ["serving"] * serving + ["draining"] * draining + ["gone"]
        ), seen
    finally:
        for m in group:
            m.stop()
        await asyncio.to_thread(node.stop)
        await queue.close()


async def test_a_task_held_by_a_killed_agent_finishes_on_another_and_a_poison_task_dies(
    tmp_path: Path, plane: tuple[ControlNames, NatsBackend]
) -> None:
    names, backend = plane
    member = members(tmp_path, names)[0]
    first = NodeProcess(tmp_path / "a", region="r1", node_id="holder", args=node_args(names))
    second = NodeProcess(tmp_path / "b", region="r1", node_id="heir", args=node_args(names))
    queue = await JetStreamWorkQueue.open(
        backend.client, names.queue_stream, names.dead_stream, names.subject_root
    )
    tasks = await backend.bucket(names.tasks)

    async def record(task_id: str) -> Task | None:
        entry = await tasks.get(task_id)
        return None if entry is None else Task.decode(entry.value, entry.revision)

    try:
        member.start()
        await asyncio.to_thread(first.start)

        async def first_serving() -> bool:
            nodes = (await status(backend, names))["nodes"]
            return isinstance(nodes, list) and [n["state"] for n in nodes] == ["serving"]

        await wait_for(first_serving)
        first.pause()  # it will take the task and never finish it
        held_id = await submit(queue, new_task("snapshot", timeout=60.0, max_attempts=3))

        async def held_by_first() -> bool:
            found = await record(held_id)
            return found is not None and found.agent == "holder"

        await wait_for(held_by_first)
        await asyncio.to_thread(second.start)
        first.kill()

        async def finished_on_second() -> bool:
            found = await record(held_id)
            return found is not None and found.state.value == "done"

        await wait_for(finished_on_second, within=40.0)
        done = await record(held_id)
        assert done is not None and done.agent == "heir" and done.attempt >= 2
        assert any("lost" in error for error in done.errors)

        poison = await submit(
            queue, new_task("compaction", {"collection": "no-such"}, max_attempts=3, timeout=10.0)
        )

        async def buried() -> bool:
            return any(Task.decode(d).id == poison for d in await queue.buried())

        await wait_for(buried, within=40.0)
        dead = await record(poison)
        assert dead is not None and dead.state.value == "dead" and dead.attempt == 3
        assert len(dead.errors) == 3 and all("CollectionNotFoundError" in e for e in dead.errors)
        counts = (await status(backend, names))["tasks"]["counts"]  # type: ignore[index]
        assert counts["dead"] == 1 and counts["done"] == 1
    finally:
        member.stop()
        first.resume()
        await asyncio.to_thread(first.stop)
        await asyncio.to_thread(second.stop)
        await queue.close()
