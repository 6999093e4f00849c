"""Writes acknowledged while the bus is down reach the other region, even across
a kill -9 of their node: real ``serve`` processes and a nats-server of the
test's own, killed and restarted on its port with its store.

On the in-memory outbox this lost every such write (0 of 100 arrived, and
/health said ``ok`` throughout). A write is now answered before it is
published (in batches, from the WAL), so the second test kills the origin
under concurrent load: every write answered 200 still reaches the other
region."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from ruvstream.testing import NodeProcess, running_node

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
from .nats_server import NatsServer, nats_server

pytestmark = [pytest.mark.nats, pytest.mark.slow]

WRITES = 100


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[NatsServer]:
    with nats_server(tmp_path / "nats") as server:
        yield server


def _start(stack: ExitStack, tmp_path: Path, bus: NatsServer, region: str) -> NodeProcess:
    args = ("--bus", "nats", "--nats-url", bus.url, "--stream", "outage", "--fsync", "batch")
    node_id = f"{region}-1"
    return stack.enter_context(
        running_node(tmp_path / node_id, region=region, node_id=node_id, args=args)
    )


async def test_writes_acknowledged_while_the_bus_is_down_survive_kill_9_and_arrive(
    tmp_path: Path, bus: NatsServer
) -> None:
    with ExitStack() as stack:
        a = _start(stack, tmp_path, bus, "us-east1")
        b = _start(stack, tmp_path, bus, "europe-west1")
        async with httpx.AsyncClient(timeout=10.0) as client:
            await create_collection(client, a.url, "out")
            await eventually(lambda: count_is(client, b.url, "out", 0), within=30)

            bus.kill()
            for i in range(WRITES):
                await upsert(
                    client, a.url, "out", [{"id": f"o{i}", "vector": vec(i), "metadata": {"i": i}}]
                )

            async def degraded_with_backlog() -> dict[str, Any] | None:
                report = await health(client, a)
                backlog = report.get("replication_backlog", {})
                if report["status"] == "degraded" and backlog.get("ops") == WRITES:
                    return report
                return None

            report = await eventually(degraded_with_backlog, within=30)
            assert report["replication_bus"] == "unreachable"
            assert report["replication_backlog"]["oldest_age_seconds"] >= 0
            metrics = (await client.get(f"{a.url}/metrics")).text
            assert f"ruvstream_replication_outbox_ops {float(WRITES)}" in metrics
            assert "ruvstream_replication_backlog_oldest_seconds" in metrics

            a.kill()  # SIGKILL: whatever the node held in memory is gone
            await asyncio.to_thread(bus.start)
            await asyncio.to_thread(a.start)

            await eventually(lambda: count_is(client, b.url, "out", WRITES), within=60)
            for i in range(0, WRITES, 7):
                here = await get_record(client, a.url, "out", f"o{i}")
                there = await get_record(client, b.url, "out", f"o{i}")
                assert here is not None and here == there

            async def healthy() -> bool:
                report = await health(client, a)
                return bool(report["status"] == "ok" and report["replication_backlog"]["ops"] == 0)

            await eventually(healthy, within=30)


async def test_no_acknowledged_write_is_lost_when_the_origin_is_killed_mid_batch(
    tmp_path: Path, bus: NatsServer
) -> None:
    with ExitStack() as stack:
        a = _start(stack, tmp_path, bus, "us-east1")
        b = _start(stack, tmp_path, bus, "europe-west1")
        acknowledged: list[str] = []
        async with httpx.AsyncClient(timeout=10.0) as client:
            await create_collection(client, a.url, "load")
            await eventually(lambda: count_is(client, b.url, "load", 0), within=30)

            async def writer(tag: str) -> None:
                for i in range(1000):
                    record_id = f"{tag}-{i}"
                    try:
                        await upsert(client, a.url, "load", [{"id": record_id, "vector": vec(i)}])
                    except (httpx.HTTPError, AssertionError):
                        return  # the node is gone: this write was never acknowledged
                    acknowledged.append(record_id)

            writers = [asyncio.create_task(writer(f"w{n}")) for n in range(8)]
            await eventually(lambda: _at_least(acknowledged, 300), within=60)
            a.kill()  # SIGKILL while batches are being published
            await asyncio.gather(*writers)
            await asyncio.to_thread(a.start)

            await eventually(
                lambda: _count_at_least(client, b.url, "load", len(acknowledged)), within=60
            )
            for record_id in acknowledged:
                assert await get_record(client, b.url, "load", record_id) is not None, record_id
            # a write durable at the kill but not yet answered arrives too, so both hold the same
            await eventually(lambda: _same_count(client, a, b, "load"), within=60)


async def _at_least(items: list[str], n: int) -> bool:
    return len(items) >= n


async def _count_at_least(client: httpx.AsyncClient, url: str, name: str, n: int) -> bool:
    return await count(client, url, name) >= n


async def _same_count(client: httpx.AsyncClient, a: NodeProcess, b: NodeProcess, name: str) -> bool:
    return await count(client, a.url, name) == await count(client, b.url, name)
