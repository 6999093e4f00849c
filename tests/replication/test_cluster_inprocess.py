"""Three regions in one process, on real sockets, over real NATS JetStream
(and the embedded bus): writes anywhere are read everywhere, conflicts
converge, standing queries see remote records, lag shows in /health."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from ruvstream.config import ReplicationSettings
from ruvstream.devstack import LocalCluster
from ruvstream.replication import EmbeddedBus, JetStreamBus

from .conftest import NATS_URL, unique_stream
from .helpers import (
    count_is,
    create_collection,
    eventually,
    get_record,
    upsert,
    vec,
)

REGIONS = ("us-east1", "europe-west1", "asia-east1")


@pytest.fixture(params=[pytest.param("nats", marks=pytest.mark.nats), "embedded"])
async def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[LocalCluster]:
    stream = unique_stream("cluster")
    settings = ReplicationSettings(
        bus=request.param, nats_url=NATS_URL, stream=stream, lag_bound_seconds=2.0
    )
    local = LocalCluster(tmp_path, REGIONS, 1, settings)
    try:
        await local.start()
        yield local
    finally:
        await local.stop()
        if request.param == "nats":
            bus = await JetStreamBus.connect(NATS_URL, stream)
            await bus.delete_stream()
            await bus.close()
        else:
            EmbeddedBus.discard(stream)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as http:
        yield http


async def test_writes_in_one_region_are_readable_in_the_others(
    cluster: LocalCluster, client: httpx.AsyncClient
) -> None:
    a, b, c = cluster.nodes
    await create_collection(client, a.url, "docs")
    records = [{"id": f"r{i}", "vector": vec(i), "metadata": {"i": i}} for i in range(20)]
    await upsert(client, a.url, "docs", records)
    for member in (b, c):
        await eventually(lambda m=member: count_is(client, m.url, "docs", 20))
        got = await get_record(client, member.url, "docs", "r7")
        assert got is not None and got["metadata"] == {"i": 7} and got["vector"] == vec(7)
    # and back: a write made in C reaches A
    await upsert(client, c.url, "docs", [{"id": "from-c", "vector": vec(99), "metadata": {}}])
    await eventually(lambda: get_record(client, a.url, "docs", "from-c"))


async def test_concurrent_conflicting_writes_converge_everywhere(
    cluster: LocalCluster, client: httpx.AsyncClient
) -> None:
    a, b, c = cluster.nodes
    await create_collection(client, a.url, "hot")
    await eventually(lambda: count_is(client, b.url, "hot", 0))

    async def writer(url: str, tag: str) -> None:
        for round_ in range(15):
            body = [
                {"id": f"k{j}", "vector": vec(round_), "metadata": {"by": tag}} for j in range(5)
            ]
            await upsert(client, url, "hot", body)

    await asyncio.gather(writer(a.url, "a"), writer(b.url, "b"), writer(c.url, "c"))

    async def converged() -> bool:
        for j in range(5):
            seen = [await get_record(client, m.url, "hot", f"k{j}") for m in cluster.nodes]
            if any(s is None for s in seen) or any(s != seen[0] for s in seen):
                return False
        versions = {m.node.collection("hot").version_of("k0") for m in cluster.nodes}
        return len(versions) == 1

    await eventually(converged)
    # the value everyone holds is the one written with the greatest (hlc, origin)
    winner = a.node.collection("hot").version_of("k0")
    assert winner is not None
    by_region = {"us-east1": "a", "europe-west1": "b", "asia-east1": "c"}
    got = await get_record(client, c.url, "hot", "k0")
    assert got is not None and got["metadata"] == {"by": by_region[winner[1]]}


async def test_deletes_and_drops_replicate(
    cluster: LocalCluster, client: httpx.AsyncClient
) -> None:
    a, b, c = cluster.nodes
    await create_collection(client, b.url, "tmp")
    await upsert(
        client, b.url, "tmp", [{"id": "x", "vector": vec(1)}, {"id": "y", "vector": vec(2)}]
    )
    await eventually(lambda: count_is(client, c.url, "tmp", 2))
    answer = await client.delete(f"{a.url}/v1/collections/tmp/records/x")
    assert answer.status_code == 200 and answer.json()["deleted"] == 1
    await eventually(lambda: count_is(client, c.url, "tmp", 1))
    assert (await client.delete(f"{c.url}/v1/collections/tmp")).status_code == 200
    await eventually(lambda: count_is(client, a.url, "tmp", -1))
    await eventually(lambda: count_is(client, b.url, "tmp", -1))


async def test_standing_query_in_one_region_receives_a_record_written_in_another(
    cluster: LocalCluster, client: httpx.AsyncClient
) -> None:
    a, _, c = cluster.nodes
    await create_collection(client, a.url, "live")
    await eventually(lambda: count_is(client, c.url, "live", 0))
    created = await client.post(
        f"{c.url}/v1/collections/live/subscriptions", json={"vector": vec(5), "k": 3}
    )
    assert created.status_code == 201, created.text
    sub_id = created.json()["id"]
    matches: list[dict[str, object]] = []

    async def listen() -> None:
        async with client.stream("GET", f"{c.url}/v1/subscriptions/{sub_id}/events") as events:
            async for line in events.aiter_lines():
                if line.startswith("data:"):
                    matches.append(json.loads(line[5:]))
                    if matches[-1].get("id") == "near":
                        return

    listening = asyncio.create_task(listen())
    await asyncio.sleep(0.2)
    await upsert(client, a.url, "live", [{"id": "near", "vector": vec(5), "metadata": {"k": 1}}])
    await asyncio.wait_for(listening, 20)
    assert matches[-1]["metadata"] == {"k": 1}


async def test_health_reports_lag_per_source_region(
    cluster: LocalCluster, client: httpx.AsyncClient
) -> None:
    a = cluster.nodes[0]

    async def all_sources_reported() -> dict[str, object] | None:
        health = (await client.get(f"{a.url}/health")).json()
        sources = health.get("replication", {})
        return health if set(sources) == {"europe-west1", "asia-east1"} else None

    health = await eventually(all_sources_reported)
    assert health["status"] == "ok" and health["degraded"] is False
    for source in health["replication"].values():
        assert source["lag_seconds"] < 2.0 and "last_seq" in source
    metrics = (await client.get(f"{a.url}/metrics")).text
    assert 'ruvstream_replication_lag_seconds{source_region="asia-east1"}' in metrics


async def test_a_stopped_node_catches_up_on_restart(
    cluster: LocalCluster, client: httpx.AsyncClient
) -> None:
    a, b, _ = cluster.nodes
    await create_collection(client, a.url, "gap")
    await eventually(lambda: count_is(client, b.url, "gap", 0))
    await cluster.stop_node(b)
    for i in range(10):
        await upsert(client, a.url, "gap", [{"id": f"g{i}", "vector": vec(i)}])
    await cluster.start_node(b)
    await eventually(lambda: count_is(client, b.url, "gap", 10))
