"""A local multi-region deployment in one process: nodes x regions on loopback.

Each node is the real node app (``ruvstream.api.app.create_app``) under its
own uvicorn server (``ruvstream.serving``) on a 127.0.0.1 socket, with its
own data dir and durable bus consumer; they share one event loop and either
the embedded bus or a NATS JetStream stream. Signals belong to the program
that runs the cluster, not to its servers. Used by ``ruvstream cluster up``,
the replication integration tests and benchmarks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

from ruvstream import serving
from ruvstream.api.app import create_app
from ruvstream.config import (
    BatchSettings,
    NodeSettings,
    ReplicationSettings,
    ServerSettings,
    Settings,
    StorageSettings,
)
from ruvstream.devstack.state import STATE_FILE, write_state
from ruvstream.engine.node import Node

__all__ = ["ClusterNode", "LocalCluster"]


@dataclass
class ClusterNode:
    region: str
    node_id: str
    data_dir: Path
    settings: Settings
    app: Starlette | None = None
    server: serving.RunningServer | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def node(self) -> Node:
        assert self.app is not None
        node: Node = self.app.state.node
        return node

    @property
    def running(self) -> bool:
        return self.server is not None and not self.server.task.done()


@dataclass
class LocalCluster:
    base_dir: Path
    regions: Sequence[str]
    nodes_per_region: int = 1
    replication: ReplicationSettings = field(default_factory=ReplicationSettings)
    nodes: list[ClusterNode] = field(default_factory=list)

    def _settings(self, region: str, node_id: str) -> Settings:
        return Settings(
            server=ServerSettings(host="127.0.0.1", port=0, drain_seconds=1.0),
            node=NodeSettings(region=region, node_id=node_id),
            storage=StorageSettings(data_dir=self.base_dir / region / node_id),
            batch=BatchSettings(search_threads=1),
            replication=self.replication,
        )

    async def start(self) -> None:
        for region in self.regions:
            for index in range(1, self.nodes_per_region + 1):
                await self.add_node(region, f"{region}-{index}")

    async def add_node(self, region: str, node_id: str) -> ClusterNode:
        settings = self._settings(region, node_id)
        member = ClusterNode(region, node_id, settings.storage.data_dir, settings)
        self.nodes.append(member)
        await self.start_node(member)
        return member

    async def start_node(self, member: ClusterNode) -> None:
        """(Re)start one node on its data dir and, after a restart, its old port."""
        sock = serving.bind("127.0.0.1", member.port)
        member.app = create_app(member.settings)
        config = uvicorn.Config(member.app, log_level="warning", access_log=False, lifespan="on")
        member.server = await serving.start(serving.Server(config, handle_signals=False), sock)
        member.port = member.server.port

    async def stop_node(self, member: ClusterNode) -> None:
        """Stop one node cleanly: drain, close replication, final snapshot."""
        if member.server is None:
            return
        await member.server.stop()
        member.server = None

    async def stop(self) -> None:
        for member in reversed(self.nodes):
            await self.stop_node(member)

    def member(self, node_id: str) -> ClusterNode:
        return next(m for m in self.nodes if m.node_id == node_id)

    def in_region(self, region: str) -> list[ClusterNode]:
        return [m for m in self.nodes if m.region == region]

    def describe(self) -> dict[str, Any]:
        return {
            "bus": self.replication.bus,
            "stream": self.replication.stream,
            "nodes": [
                {"region": m.region, "node": m.node_id, "url": m.url, "data_dir": str(m.data_dir)}
                for m in self.nodes
            ],
        }

    def write_state(self, path: Path | None = None) -> Path:
        """Write ``describe()`` to ``path`` (default ``<base_dir>/cluster.json``)."""
        return write_state(path or self.base_dir / STATE_FILE, self.describe())
