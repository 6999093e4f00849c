"""What a node offers its collaborators (``engine.ports.ReplicationPort`` and /health),
on a real node: WAL, executor, snapshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ruvstream.config import NodeSettings, Settings, StorageSettings
from ruvstream.core.records import OpRecord, RecordData, vector_to_bytes
from ruvstream.core.spec import CollectionSpec
from ruvstream.engine import Node
from ruvstream.engine.ports import ReplicationPort
from tests.unit.conftest import create, upsert


def _settings(data_dir: Path) -> Settings:
    return Settings(
        node=NodeSettings(region="here", node_id="here-1"),
        storage=StorageSettings(data_dir=data_dir, fsync="off"),
    )


def _port(node: Node) -> ReplicationPort:
    return node  # the type checker holds Node to the port


async def test_replication_state_is_carried_by_snapshots_and_back_after_a_restart(
    tmp_path: Path,
) -> None:
    node = await Node.open(_settings(tmp_path))
    port = _port(node)
    assert port.replication_state("replication") == {}
    assert not port.holds_data()
    state = {"stream": "s", "applied_seq": 7}
    port.set_replication_state("replication", state)
    state["applied_seq"] = 99  # the node kept its own copy
    assert port.replication_state("replication") == {"stream": "s", "applied_seq": 7}
    await node.close()  # the final snapshot carries it

    reopened = await Node.open(_settings(tmp_path))
    try:
        assert reopened.replication_state("replication") == {"stream": "s", "applied_seq": 7}
        assert reopened.replication_state("other") == {}
    finally:
        await reopened.close(snapshot=False)


async def test_a_node_holds_data_once_anything_was_logged(tmp_path: Path) -> None:
    node = await Node.open(_settings(tmp_path))
    try:
        assert not node.holds_data()
        assert await node.apply_remote(create(1, origin="elsewhere"))
        assert node.holds_data() and node.wal_seq == 1
    finally:
        await node.close(snapshot=False)
    reopened = await Node.open(_settings(tmp_path))
    try:
        assert reopened.holds_data(), "after a restart, from the WAL"
    finally:
        await reopened.close(snapshot=False)


async def test_write_listeners_hear_local_writes_and_not_remote_ones(tmp_path: Path) -> None:
    node = await Node.open(_settings(tmp_path))
    heard: list[OpRecord] = []
    node.add_write_listener(heard.append)
    try:
        await node.create_collection("c", CollectionSpec(dim=4, metric="l2"))
        vector = vector_to_bytes(np.ones(4, dtype=np.float32))
        await node.upsert("c", [RecordData("a", vector)])
        remote = upsert(node.hlc.last + 1, RecordData("b", vector), origin="elsewhere")
        assert await node.apply_remote(remote)
        assert [op.op.value for op in heard] == ["create_collection", "upsert"]
        assert all(op.origin == "here" for op in heard)
        assert node.collection("c").count == 2
    finally:
        await node.close(snapshot=False)


async def test_health_reports_merge_and_any_degraded_report_degrades(tmp_path: Path) -> None:
    node = await Node.open(_settings(tmp_path))
    try:
        assert node.health_reports() == {}
        calm: dict[str, Any] = {"replication": {}, "degraded": False}
        node.add_health_reporter(lambda: calm)
        assert node.health_reports() == calm
        node.add_health_reporter(lambda: {"outbox": 3, "degraded": True})
        node.add_health_reporter(lambda: {"degraded": False})
        assert node.health_reports() == {"replication": {}, "outbox": 3, "degraded": True}
    finally:
        await node.close(snapshot=False)
