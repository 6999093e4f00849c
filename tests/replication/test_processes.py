"""Real ``ruvstream serve`` processes replicating over the local NATS JetStream:
a node killed under write load catches up, a paused (partitioned) region heals
and its lag rises then falls, a new node bootstraps from a peer's snapshot.

These nodes use the default stream name (``serve`` has no flag for another),
so each test starts from a deleted stream and deletes it at the end.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from ruvstream.replication import JetStreamBus, bootstrap_from_peer
from ruvstream.testing import NodeProcess, running_node

from .conftest import NATS_URL, unique_stream
from .helpers import (
    count,
    count_is,
    create_collection,
    eventually,
    get_record,
    health,
    upsert,
    vec,
)

pytestmark = [pytest.mark.nats, pytest.mark.slow]

# Owned by this module: other checkouts may run these tests on the same NATS server.
STREAM = unique_stream("processes")
BUS_ARGS = ("--bus", "nats", "--nats-url", NATS_URL, "--stream", STREAM, "--fsync", "batch")


async def _delete_stream() -> None:
    bus = await JetStreamBus.connect(NATS_URL, STREAM)
    await bus.delete_stream()
    await bus.close()


@pytest.fixture
async def clean_stream() -> AsyncIterator[None]:
    await _delete_stream()
    yield
    await _delete_stream()


@pytest.fixture
def nodes(tmp_path: Path, clean_stream: None) -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def start(stack: ExitStack, tmp_path: Path, region: str, node_id: str) -> NodeProcess:
    return stack.enter_context(
        running_node(tmp_path / node_id, region=region, node_id=node_id, args=BUS_ARGS)
    )


async def same_records(
    client: httpx.AsyncClient, nodes: list[NodeProcess], name: str, ids: list[str]
) -> bool:
    for record_id in ids:
        seen = [await get_record(client, n.url, name, record_id) for n in nodes]
        if seen[0] is None or any(s != seen[0] for s in seen):
            return False
    return True


async def test_node_killed_under_write_load_catches_up_with_nothing_lost(
    nodes: ExitStack, tmp_path: Path
) -> None:
    a = start(nodes, tmp_path, "us-east1", "a-1")
    b = start(nodes, tmp_path, "europe-west1", "b-1")
    async with httpx.AsyncClient(timeout=10.0) as client:
        await create_collection(client, a.url, "load")
        await eventually(lambda: count_is(client, b.url, "load", 0))
        total = 0
        for batch in range(40):
            records = [
                {"id": f"w{batch}-{j}", "vector": vec(batch), "metadata": {"b": batch}}
                for j in range(5)
            ]
            await upsert(client, a.url, "load", records)
            total += len(records)
            if batch == 15:
                b.kill()  # SIGKILL mid-load: no drain, no snapshot
            if batch == 30:
                await asyncio.to_thread(b.start)
        await eventually(lambda: count_is(client, b.url, "load", total), within=40)
        ids = [f"w{batch}-{j}" for batch in range(0, 40, 3) for j in range(5)]
        assert await same_records(client, [a, b], "load", ids)
        stats = await health(client, b)
        assert stats["replication_applied_seq"] >= 1 + 40  # the create and every batch


async def test_partitioned_region_heals_converges_and_its_lag_rises_then_falls(
    nodes: ExitStack, tmp_path: Path
) -> None:
    a = start(nodes, tmp_path, "us-east1", "a-1")
    b = start(nodes, tmp_path, "europe-west1", "b-1")
    c = start(nodes, tmp_path, "asia-east1", "c-1")
    async with httpx.AsyncClient(timeout=10.0) as client:
        await create_collection(client, a.url, "part")
        await eventually(lambda: count_is(client, c.url, "part", 0))
        c.pause()  # cut off: no heartbeats out, nothing consumed
        try:
            for i in range(30):
                target = a if i % 2 else b
                await upsert(client, target.url, "part", [{"id": f"p{i}", "vector": vec(i)}])

            async def c_is_lagging() -> bool:
                report = await health(client, a)
                lag = report.get("replication", {}).get("asia-east1", {}).get("lag_seconds", 0)
                return bool(lag > 5.0 and report["status"] == "degraded")

            await eventually(c_is_lagging, within=30)
        finally:
            c.resume()
        await eventually(lambda: count_is(client, c.url, "part", 30), within=30)

        async def lag_fell() -> bool:
            for node in (a, b, c):
                report = await health(client, node)
                if report["status"] != "ok":
                    return False
                if any(s["lag_seconds"] > 1.0 for s in report["replication"].values()):
                    return False
            return True

        await eventually(lag_fell, within=30)
        assert await same_records(client, [a, b, c], "part", [f"p{i}" for i in range(30)])


async def test_new_node_bootstraps_from_a_peer_snapshot_plus_the_stream(
    nodes: ExitStack, tmp_path: Path
) -> None:
    a1 = start(nodes, tmp_path, "us-east1", "a-1")
    b = start(nodes, tmp_path, "europe-west1", "b-1")
    async with httpx.AsyncClient(timeout=10.0) as client:
        await create_collection(client, b.url, "boot")
        await upsert(client, b.url, "boot", [{"id": f"s{i}", "vector": vec(i)} for i in range(50)])
        await eventually(lambda: count_is(client, a1.url, "boot", 50))
        await eventually(lambda: _applied_through_head(client, a1))
        # Retention trimmed the stream: history before now exists only in snapshots.
        bus = await JetStreamBus.connect(NATS_URL, STREAM)
        head = await bus.head()
        await bus.jetstream.purge_stream(STREAM, seq=head + 1)
        await bus.close()

        data_dir = tmp_path / "a-2"
        await asyncio.to_thread(bootstrap_from_peer, a1.url, data_dir)
        a2 = start(nodes, tmp_path, "us-east1", "a-2")
        assert await count(client, a2.url, "boot") == 50
        await upsert(client, b.url, "boot", [{"id": f"t{i}", "vector": vec(i)} for i in range(10)])
        await eventually(lambda: count_is(client, a2.url, "boot", 60))
        await upsert(client, a2.url, "boot", [{"id": "from-a2", "vector": vec(1)}])
        await eventually(lambda: count_is(client, b.url, "boot", 61))
        # b holding the write says nothing about a1, which hears of it on its own time.
        await eventually(lambda: same_records(client, [a1, a2, b], "boot", ["s7", "t3", "from-a2"]))


async def _applied_through_head(client: httpx.AsyncClient, node: NodeProcess) -> bool:
    bus = await JetStreamBus.connect(NATS_URL, STREAM)
    try:
        head = await bus.head()
    finally:
        await bus.close()
    return bool((await health(client, node))["replication_applied_seq"] >= head)
