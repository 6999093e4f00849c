"""The node's agent: membership entry, figures on an interval, draining on SIGTERM.

It runs inside the node process, started by the node app's lifespan when
``settings.control.nats_url`` is set (``ruvstream serve --control-nats-url``).
Every ``heartbeat_seconds`` it reads the node's Prometheus registry (the
numbers ``/metrics`` shows), publishes them on
``<ns>.control.figures.<node id>`` and refreshes the node's registry entry
with them. On SIGTERM it marks the entry ``draining`` and gives routers
``drain_notice_seconds`` to move traffic away *before* the node drains; on
shutdown it leaves the registry. A ``TaskWorker`` runs the control tasks the
coordinator sends to this node (see ``worker``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import psutil
from prometheus_client import CollectorRegistry

from ruvstream.config import Settings
from ruvstream.core.clock import Clock, SystemClock

from .address import resolve_address
from .figures import Figures, FiguresReader
from .membership import Member, NodeState, Registry
from .names import ControlNames

__all__ = ["AgentNode", "NodeAgent", "start_agent"]

log = logging.getLogger(__name__)


class AgentNode(Protocol):
    """The narrow view of the node the agent and its executors use (``engine.Node`` is one)."""

    node_id: str
    settings: Settings
    metrics_registry: CollectorRegistry

    async def snapshot(self) -> Path: ...

    def collection(self, name: str) -> Any: ...


class NodeAgent:
    def __init__(
        self,
        node: AgentNode,
        settings: Settings,
        registry: Registry,
        *,
        publish: Callable[[str, bytes], Awaitable[None]] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.node = node
        self.settings = settings
        self.registry = registry
        self.names = ControlNames(settings.control.namespace)
        self.clock = clock or SystemClock()
        self.reader = FiguresReader(
            node.metrics_registry, self.clock, float(psutil.virtual_memory().total)
        )
        self._publish = publish
        self.template = Member(
            id=settings.node.node_id,
            region=settings.node.region,
            address="",
            capacity=settings.control.capacity,
            state=NodeState.STARTING,
        )
        self.figures = Figures()
        self.beats = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._closers: list[Callable[[], Awaitable[None]]] = []

    @property
    def node_id(self) -> str:
        return self.template.id

    async def beat(self) -> Member:
        """Read the figures, publish them, refresh the entry (one heartbeat)."""
        self.figures = self.reader.read()
        if self._publish is not None:
            body = {
                "node": self.node_id,
                "region": self.template.region,
                "figures": self.figures.to_json(),
            }
            await self._publish(self.names.figures_subject(self.node_id), json.dumps(body).encode())
        member = await self.registry.heartbeat(self.template, self.figures)
        self.beats += 1
        return member

    async def _beating(self) -> None:
        while True:
            try:
                await self.beat()
            except Exception:
                log.warning("heartbeat of %s failed", self.node_id, exc_info=True)
            await asyncio.sleep(self.settings.control.heartbeat_seconds)

    async def start(self) -> None:
        """Join as ``starting``, then beat; ``serving`` once the node's address is known."""
        self._tasks.append(asyncio.create_task(self._serve_when_listening()))

    async def _serve_when_listening(self) -> None:
        try:
            address = await resolve_address(self.settings)
        except TimeoutError:
            log.error("node %s never joined the registry: its address is unknown", self.node_id)
            raise
        self.template = replace(self.template, address=address)
        await self.registry.join(self.template)
        self.template = replace(self.template, state=NodeState.SERVING)
        await self.beat()
        log.info("node %s joined the registry at %s", self.node_id, address)
        self._tasks.append(asyncio.create_task(self._beating()))

    def add_closer(self, closer: Callable[[], Awaitable[None]]) -> None:
        self._closers.append(closer)

    def add_task(self, task: asyncio.Task[None]) -> None:
        self._tasks.append(task)

    async def announce_draining(self) -> None:
        """Mark the entry draining (it never goes back) and wait for routers to move."""
        self.template = replace(self.template, state=NodeState.DRAINING)
        try:
            async with asyncio.timeout(2.0):
                await self.registry.set_state(self.node_id, NodeState.DRAINING)
        except Exception:
            log.warning("could not mark %s draining in the registry", self.node_id, exc_info=True)
            return
        await asyncio.sleep(self.settings.control.drain_notice_seconds)

    async def close(self) -> None:
        """Stop beating and working, leave the registry, close the connection."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2.0):
                await self.registry.leave(self.node_id)
        for closer in reversed(self._closers):
            with contextlib.suppress(Exception):
                await closer()


def _drain_first(agent: NodeAgent, drain: Callable[[], Awaitable[None]]) -> Callable[[], Any]:
    async def drain_after_notice() -> None:
        await agent.announce_draining()
        await drain()

    return drain_after_notice


async def start_agent(
    node: AgentNode, state: Any, settings: Settings, replication: Any = None
) -> NodeAgent:
    """The node lifespan's entry point: connect, join, beat, work; ``close()`` on shutdown.

    ``state`` is the app's serving state: its ``drain`` (what SIGTERM runs) is
    wrapped so the registry says ``draining`` before the node stops accepting.
    """
    from .store.jetstream import NatsBackend
    from .worker import start_worker

    control = settings.control
    assert control.nats_url, "start_agent needs settings.control.nats_url"
    backend = await NatsBackend.connect(control.nats_url)
    names = ControlNames(control.namespace)
    store = await backend.bucket(names.members, ttl=control.lapse_seconds)
    agent = NodeAgent(node, settings, Registry(store), publish=backend.client.publish)
    agent.add_closer(backend.close)
    state.drain = _drain_first(agent, state.drain)
    await agent.start()
    await start_worker(agent, backend, state, replication)
    return agent
