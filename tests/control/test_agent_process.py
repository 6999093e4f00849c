"""The agent inside a real node process: it joins the registry, reports figures over NATS,
and on SIGTERM marks itself draining before it drains and leaves."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from ruvstream.control.membership import NodeState, Registry
from ruvstream.control.names import ControlNames
from ruvstream.control.store.jetstream import NatsBackend
from ruvstream.testing import NodeProcess

from .conftest import NATS_URL, wait_for

pytestmark = [pytest.mark.nats, pytest.mark.slow]


def control_args(names: ControlNames) -> list[str]:
    return [
        "--control-nats-url", NATS_URL,
        "--control-namespace", names.namespace,
        "--control-heartbeat", "0.3",
        "--control-lapse", "3",
        "--drain-seconds", "4",
    ]  # fmt: skip


async def test_a_node_joins_reports_and_drains_before_it_leaves(
    tmp_path: Path, plane: tuple[ControlNames, NatsBackend]
) -> None:
    names, backend = plane
    registry = Registry(await backend.bucket(names.members, ttl=3.0))
    reports: list[dict[str, object]] = []

    async def on_figures(msg) -> None:  # type: ignore[no-untyped-def]
        reports.append(json.loads(msg.data))

    await backend.client.subscribe(names.figures_subject("*"), cb=on_figures)
    node = NodeProcess(tmp_path / "n", region="r1", node_id="agent-n1", args=control_args(names))
    await asyncio.to_thread(node.start)
    try:

        async def serving() -> bool:
            found = await registry.get("agent-n1")
            return found is not None and found.state is NodeState.SERVING

        await wait_for(serving)
        entry = await registry.get("agent-n1")
        assert entry is not None and entry.region == "r1" and entry.address == node.url
        async with httpx.AsyncClient(base_url=node.url) as client:
            await client.put("/v1/collections/c", json={"dim": 2, "metric": "l2"})
            await client.post("/v1/collections/c/records", json={"records": [
                {"id": "a", "vector": [0.0, 1.0]}]})  # fmt: skip
            for _ in range(20):
                await client.post("/v1/collections/c/search", json={"vector": [0, 1], "k": 1})

        async def figures_arrived() -> bool:
            found = await registry.get("agent-n1")
            return found is not None and found.figures.index_vectors.get("c") == 1.0

        await wait_for(figures_arrived)
        assert any(r["node"] == "agent-n1" and r["region"] == "r1" for r in reports)
        seen: list[NodeState] = []

        async def watch() -> None:
            async with registry.store.watch() as changes:
                async for change in changes:
                    if change.value is None:
                        seen.append(NodeState.GONE)
                        return
                    seen.append(NodeState(json.loads(change.value)["state"]))

        watcher = asyncio.create_task(watch())
        code = await asyncio.to_thread(node.terminate)
        await asyncio.wait_for(watcher, 30)
        assert code == 0
        assert NodeState.DRAINING in seen and seen[-1] is NodeState.GONE
        assert await registry.get("agent-n1") is None
    finally:
        await asyncio.to_thread(node.stop)
