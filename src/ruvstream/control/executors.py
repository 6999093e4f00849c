"""What a node's agent does for each task kind: in-process calls on the node.

* ``snapshot`` writes a snapshot;
* ``compaction`` folds the WAL into a fresh snapshot (the node drops the WAL
  segments it covers), for one named collection (an unknown one fails: the
  task's own error) or all;
* ``bootstrap`` prepares a fresh snapshot on this peer and answers where a new
  node fetches it (``replication.bootstrap_from_peer``);
* ``resync`` waits until the node's replication lag is within its bound;
* ``drain`` marks the node draining in the registry and drains it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .worker import Executor

__all__ = ["node_executors"]


def node_executors(
    node: Any, state: Any, agent: Any, replication: Any = None
) -> dict[str, Executor]:
    """The executors of a node process (in-process calls on the node)."""

    async def snapshot(payload: dict[str, Any]) -> dict[str, Any]:
        return {"snapshot": (await node.snapshot()).name}

    async def compaction(payload: dict[str, Any]) -> dict[str, Any]:
        name = payload.get("collection")
        if name is not None:
            node.collection(str(name))  # raises CollectionNotFoundError
        return {"snapshot": (await node.snapshot()).name, "collection": name}

    async def bootstrap(payload: dict[str, Any]) -> dict[str, Any]:
        await node.snapshot()
        return {"snapshot_url": agent.template.address + "/v1/replication/snapshot"}

    async def resync(payload: dict[str, Any]) -> dict[str, Any]:
        if replication is None:
            raise RuntimeError("this node has no replication bus")
        bound = float(payload.get("lag_bound", node.settings.replication.lag_bound_seconds))
        while True:
            lags = replication.lag.lags() if hasattr(replication, "lag") else {}
            worst = max(lags.values(), default=0.0)
            if worst <= bound:
                return {"lag_seconds": worst}
            await asyncio.sleep(0.2)

    async def drain(payload: dict[str, Any]) -> dict[str, Any]:
        await state.drain()
        return {"drained": True}

    return {
        "snapshot": snapshot,
        "compaction": compaction,
        "bootstrap": bootstrap,
        "resync": resync,
        "drain": drain,
    }
