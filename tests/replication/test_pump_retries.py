"""The replication pump outlives a bus that fails: a failed fetch, then failed re-opens.

Two real nodes and real replicators on the embedded bus; the replica reaches
the bus through a wrapper that fails on command, as a NATS connection does
while the server restarts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from ruvstream.config import NodeSettings, ReplicationSettings, Settings, StorageSettings
from ruvstream.core.records import OpRecord, RecordData, vector_to_bytes
from ruvstream.core.spec import CollectionSpec
from ruvstream.engine.node import Node
from ruvstream.replication import Bus, Consumer, Delivery, EmbeddedBus, Replicator
from ruvstream.replication._bus import HeartbeatHandler, Unsubscribe
from ruvstream.replication._wire import Heartbeat

from .conftest import unique_stream
from .helpers import eventually


class _BusDown(ConnectionError):
    pass


class _FailingConsumer(Consumer):
    def __init__(self, inner: Consumer, bus: _FailingBus) -> None:
        self.inner, self.bus, self.name = inner, bus, inner.name

    async def fetch(self, max_messages: int, wait: float) -> list[Delivery]:
        if self.bus.failed_fetches_left:
            self.bus.failed_fetches_left -= 1
            raise _BusDown("fetch failed")
        return await self.inner.fetch(max_messages, wait)

    async def ack(self, delivery: Delivery) -> None:
        await self.inner.ack(delivery)

    async def close(self) -> None:
        await self.inner.close()


class _FailingBus(Bus):
    """Delegates to a real bus; fails the next fetches and consumer opens on command."""

    def __init__(self, inner: Bus) -> None:
        self.inner = inner
        self.failed_fetches_left = 0
        self.failed_opens_left = 0
        self.failed_opens = 0

    @property
    def stream(self) -> str:
        return self.inner.stream

    async def publish(self, op: OpRecord, *, node: str) -> int:
        return await self.inner.publish(op, node=node)

    async def consumer(self, name: str, *, start_seq: int = 1, reset: bool = False) -> Consumer:
        if self.failed_opens_left:
            self.failed_opens_left -= 1
            self.failed_opens += 1
            raise _BusDown("consumer open failed")
        inner = await self.inner.consumer(name, start_seq=start_seq, reset=reset)
        return _FailingConsumer(inner, self)

    async def head(self) -> int:
        return await self.inner.head()

    async def publish_heartbeat(self, beat: Heartbeat) -> None:
        await self.inner.publish_heartbeat(beat)

    async def on_heartbeat(self, handler: HeartbeatHandler) -> Unsubscribe:
        return await self.inner.on_heartbeat(handler)

    async def close(self) -> None:
        await self.inner.close()


async def _replicated_node(base: Path, region: str, bus: Bus) -> Replicator:
    settings = ReplicationSettings(bus="embedded", stream=bus.stream)
    node = await Node.open(
        Settings(
            node=NodeSettings(region=region, node_id=f"{region}-1"),
            storage=StorageSettings(data_dir=base / region),
            replication=settings,
        )
    )
    replicator = Replicator(node, bus, owns_bus=False, heartbeat_interval=0.1)
    await replicator.start()
    return replicator


@pytest.fixture
async def stream() -> AsyncIterator[str]:
    name = unique_stream("pump")
    yield name
    EmbeddedBus.discard(name)


async def test_the_pump_retries_a_failed_fetch_and_failed_reopens_until_the_bus_is_back(
    tmp_path: Path, stream: str
) -> None:
    flaky = _FailingBus(EmbeddedBus.shared(stream))
    origin = await _replicated_node(tmp_path, "us-east1", EmbeddedBus.shared(stream))
    replica = await _replicated_node(tmp_path, "europe-west1", flaky)
    try:
        flaky.failed_fetches_left, flaky.failed_opens_left = 1, 2
        await origin.node.create_collection("c", CollectionSpec(dim=2, metric="l2"))
        vector = vector_to_bytes(np.array([1.0, 2.0], dtype=np.float32))
        await origin.node.upsert("c", [RecordData("x", vector, {})])

        async def applied() -> bool:
            names = replica.node.catalog.collections
            return "c" in names and replica.node.collection("c").count == 1

        await eventually(applied)
        assert flaky.failed_opens == 2  # both failed re-opens were retried, not fatal
    finally:
        for member in (replica, origin):
            await member.close()
            await member.node.close(snapshot=False)
