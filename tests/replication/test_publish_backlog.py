"""The WAL is the outbox: in one process, real nodes and replicators on an
embedded bus that refuses publishes on command.

Ops acknowledged while the bus refuses are counted in /health's backlog, kept
through a checkpoint (the publisher holds the WAL from its cursor on), and
published after a restart from the saved cursor; ops applied from elsewhere
are never published again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from ruvstream.config import NodeSettings, ReplicationSettings, Settings, StorageSettings
from ruvstream.core.records import OpRecord, RecordData, vector_to_bytes
from ruvstream.core.spec import CollectionSpec
from ruvstream.engine.node import Node
from ruvstream.replication import EmbeddedBus, Replicator
from ruvstream.replication._publisher import CURSOR_FILE

from .conftest import unique_stream
from .helpers import eventually


class _RefusingBus(EmbeddedBus):
    """An embedded bus whose publishes fail while ``down``, as a lost NATS does."""

    down = False

    async def publish(self, op: OpRecord, *, node: str) -> int:
        if self.down:
            raise ConnectionError("bus down")
        return await super().publish(op, node=node)

    def reachable(self) -> bool:
        return not self.down

    def published_by(self, node: str) -> list[str]:
        return [n for n, _ in self._log if n == node]


@pytest.fixture
async def bus() -> AsyncIterator[_RefusingBus]:
    yield _RefusingBus(unique_stream("backlog"))


async def _member(base: Path, region: str, bus: EmbeddedBus) -> Replicator[Node]:
    node = await Node.open(
        Settings(
            node=NodeSettings(region=region, node_id=f"{region}-1"),
            storage=StorageSettings(data_dir=base / region, fsync="batch"),
            replication=ReplicationSettings(bus="embedded", stream=bus.stream),
        )
    )
    replicator = Replicator(node, bus, owns_bus=False, heartbeat_interval=0.1)
    await replicator.start()
    return replicator


def _records(ids: Sequence[str]) -> list[RecordData]:
    vector = vector_to_bytes(np.array([1.0, 2.0], dtype=np.float32))
    return [RecordData(i, vector, {"id": i}) for i in ids]


async def test_a_backlog_outlives_a_checkpoint_and_a_restart(
    tmp_path: Path, bus: _RefusingBus
) -> None:
    origin = await _member(tmp_path, "us-east1", bus)
    replica = await _member(tmp_path, "europe-west1", bus)
    try:
        await origin.node.create_collection("c", CollectionSpec(dim=2, metric="l2"))
        await eventually(lambda: _count(replica, 0))
        bus.down = True
        for i in range(20):
            await origin.node.upsert("c", _records([f"r{i}"]))
        report = origin.health()
        assert report["degraded"] is True and report["replication_bus"] == "unreachable"
        assert report["replication_backlog"]["ops"] == 20
        await origin.node.snapshot()  # a checkpoint: must keep the unpublished entries
        await origin.close()
        await origin.node.close()
        assert (tmp_path / "us-east1" / CURSOR_FILE).exists()

        bus.down = False
        origin = await _member(tmp_path, "us-east1", bus)
        assert origin.health()["replication_backlog"]["ops"] in range(21)
        await eventually(lambda: _count(replica, 20))
        await eventually(lambda: _backlog_is(origin, 0))
        assert origin.health()["degraded"] is False
    finally:
        for member in (replica, origin):
            await member.close()
            await member.node.close(snapshot=False)


async def test_remote_ops_are_not_published_again_after_a_restart(
    tmp_path: Path, bus: _RefusingBus
) -> None:
    origin = await _member(tmp_path, "us-east1", bus)
    replica = await _member(tmp_path, "europe-west1", bus)
    try:
        await origin.node.create_collection("c", CollectionSpec(dim=2, metric="l2"))
        await origin.node.upsert("c", _records(["a", "b"]))
        await eventually(lambda: _count(replica, 2))
        await replica.node.upsert("c", _records(["z"]))
        await eventually(lambda: _count(origin, 3))
        await replica.close()
        await replica.node.close(snapshot=False)
        (tmp_path / "europe-west1" / CURSOR_FILE).unlink()  # republish all the WAL holds
        replica = await _member(tmp_path, "europe-west1", bus)
        await eventually(lambda: _backlog_is(replica, 0))
        # its own one op, twice (before and after the restart); never origin's three
        assert len(bus.published_by("europe-west1-1")) == 2
        assert len(bus.published_by("us-east1-1")) == 2
    finally:
        for member in (replica, origin):
            await member.close()
            await member.node.close(snapshot=False)


async def _count(member: Replicator[Node], expected: int) -> bool:
    collections = member.node.catalog.collections
    return "c" in collections and collections["c"].count == expected


async def _backlog_is(member: Replicator[Node], expected: int) -> bool:
    return bool(member.health()["replication_backlog"]["ops"] == expected)
