"""The task executors against a real node opened in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from ruvstream.api.state import ServingState
from ruvstream.config import Settings, StorageSettings
from ruvstream.control.executors import node_executors
from ruvstream.core.spec import CollectionSpec
from ruvstream.engine.node import Node
from ruvstream.errors import CollectionNotFoundError


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    opened = await Node.open(Settings(storage=StorageSettings(data_dir=tmp_path / "n")))
    try:
        yield opened
    finally:
        await opened.close()


async def test_every_kind_runs_against_the_node(node: Node) -> None:
    state = ServingState(node.settings, node=node)
    agent = SimpleNamespace(template=SimpleNamespace(address="http://127.0.0.1:9"))
    run = node_executors(node, state, agent)
    assert set(run) == {"snapshot", "compaction", "bootstrap", "resync", "drain"}
    first = await run["snapshot"]({})
    assert str(first["snapshot"]).startswith("snap-")
    await node.create_collection("docs", CollectionSpec(dim=2))
    compacted = await run["compaction"]({"collection": "docs"})
    assert compacted["collection"] == "docs"
    with pytest.raises(CollectionNotFoundError):
        await run["compaction"]({"collection": "missing"})
    boot = await run["bootstrap"]({})
    assert boot == {"snapshot_url": "http://127.0.0.1:9/v1/replication/snapshot"}
    with pytest.raises(RuntimeError, match="no replication"):
        await run["resync"]({})
    assert await run["drain"]({}) == {"drained": True} and state.draining
