"""The router follows the control plane's node registry, beside its static ``--node`` list.

``RegistryFollower`` turns membership events into routing-table changes
while the router runs:

* a node that joins (or reaches ``serving``) becomes routable at once, with
  its registry id as its name and its advertised address as its URL;
* a node that enters ``draining`` gets no new requests, and its relayed
  WebSocket sessions are closed with 1012 so their clients reconnect (the
  SDK re-sends what was in flight and re-subscribes) and land elsewhere;
* a node that leaves (or whose heartbeat lapsed) is removed.

Static nodes are never removed by the registry, and an entry with a static
node's name is ignored. A state change stamped by a leader (``token`` > 0)
passes the router's ``Fence``: one older than a change already applied is
ignored, so a deposed leader cannot drain nodes behind its successor's back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from ruvstream.control.fence import Fence
from ruvstream.control.follow import MembershipEvent, follow
from ruvstream.control.membership import Member, NodeState, Registry
from ruvstream.core.breaker import CircuitBreaker

from .node import Node
from .router import Router

__all__ = ["RegistryFollower", "start_registry_follower"]

log = logging.getLogger(__name__)


class RegistryFollower:
    def __init__(self, router: Router, registry: Registry, fence: Fence | None = None) -> None:
        self.router = router
        self.registry = registry
        self.fence = fence or Fence()
        self.static = {n.name for n in router.table.nodes}
        self.followed: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._closers: list[asyncio.Task[int]] = []
        self.on_stop: list[Callable[[], Awaitable[None]]] = []

    async def apply(self, event: MembershipEvent) -> None:
        member = event.member
        if member.id in self.static or member.role != "node":
            return
        if member.token and not self.fence.admit(member.token):
            log.warning("ignoring %s of %s: stale token %d", member.state, member.id, member.token)
            return
        if event.kind == "leave" or member.state is NodeState.GONE:
            self._remove(member.id)
        elif member.state is NodeState.DRAINING:
            await self._drain(member)
        elif member.state is NodeState.SERVING:
            self._serve(member)

    def _serve(self, member: Member) -> None:
        table = self.router.table
        node = table.get(member.id)
        if node is not None and node.url == member.address.rstrip("/"):
            table.draining.discard(member.id)
            return
        if node is not None:  # it moved: route to its new address
            self._remove(member.id)
        settings = self.router.settings
        table.add(
            Node(
                name=member.id,
                region=member.region,
                url=member.address.rstrip("/"),
                breaker=CircuitBreaker(settings.breaker, self.router.clock),
                capacity=member.capacity or settings.node_capacity,
            )
        )
        self.followed.add(member.id)
        log.info("node %s (%s) joined at %s", member.id, member.region, member.address)

    async def _drain(self, member: Member) -> None:
        table = self.router.table
        if table.get(member.id) is None or member.id in table.draining:
            return
        table.draining.add(member.id)
        moved = await self.router.move_sessions(member.id)
        log.info("node %s is draining: no new requests, %d sessions moved", member.id, moved)

    def _remove(self, node_id: str) -> None:
        if node_id not in self.followed:
            return
        self.followed.discard(node_id)
        node = self.router.table.remove(node_id)
        if node is not None:  # its idle fast-path connections go with it
            self.router.upstream.forget(node.url)
        # Sockets still relayed to it die with it; close them so clients move now.
        self._closers.append(asyncio.ensure_future(self.router.move_sessions(node_id)))
        log.info("node %s left", node_id)

    def start(self, sweep_every: float = 1.0) -> None:
        following = follow(self.registry, self.apply, sweep_every=sweep_every)
        self._task = asyncio.ensure_future(following)

    async def stop(self) -> None:
        for task in [self._task, *self._closers]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        for closer in self.on_stop:
            with contextlib.suppress(Exception):
                await closer()


async def start_registry_follower(router: Router) -> RegistryFollower:
    """Connect to the registry named in the router's settings and follow it (until ``stop``)."""
    from ruvstream.control.names import ControlNames
    from ruvstream.control.store.jetstream import NatsBackend

    settings = router.settings
    assert settings.registry_nats_url, "no registry configured"
    backend = await NatsBackend.connect(settings.registry_nats_url)
    names = ControlNames(settings.registry_namespace)
    store = await backend.bucket(names.members, ttl=settings.registry_lapse)
    follower = RegistryFollower(router, Registry(store, router.clock))
    follower.on_stop.append(backend.close)
    for member in await follower.registry.members():  # routable before the first request
        await follower.apply(MembershipEvent("join", member))
    follower.start()
    return follower
