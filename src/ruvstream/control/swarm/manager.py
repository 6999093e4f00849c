"""The swarm manager: keeps each region's running nodes at its desired count.

The desired count per region lives in the swarm bucket (``desired.<region>``
-> ``{"count", "token"}``), so a new leader carries on where the last one
stopped, and ``set_desired`` (the threshold policy here, the burst-scaling
policies later) refuses a token older than the newest seen. Each ``step``:

1. with a policy: feed it the region's serving nodes' load, store its answer;
2. fewer instances than desired: ``actuator.scale_to`` starts new ones,
   bootstrapping from a serving peer;
3. more than desired: retire one node at a time, gracefully. Retirement
   marks the victim ``draining`` in the registry (the router stops sending it
   new requests and moves its WebSocket sessions), waits ``retire_grace`` for
   requests in flight, then lets the actuator stop it (SIGTERM: the node
   drains, writes its final snapshot and leaves the registry).

Invariant: a region is never taken below its ``min`` (nor above ``max``),
and never has more than one node retiring at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from ruvstream.core.clock import Clock, SystemClock

from ..fence import Fence
from ..membership import Member, NodeState, Registry
from ..store import CompareAndSetError, CoordinationStore
from .actuator import Actuator, Instance
from .policy import RegionBounds, ThresholdPolicy, load_of

__all__ = ["Desired", "SwarmManager"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Desired:
    count: int
    token: int


class SwarmManager:
    def __init__(
        self,
        registry: Registry,
        actuator: Actuator,
        store: CoordinationStore,
        bounds: Mapping[str, RegionBounds],
        *,
        policy: ThresholdPolicy | None = None,
        retire_grace: float = 2.0,
        clock: Clock | None = None,
    ) -> None:
        self.registry = registry
        self.actuator = actuator
        self.store = store
        self.bounds = dict(bounds)
        self.policy = policy
        self.retire_grace = retire_grace
        self.clock = clock or SystemClock()
        self.fence = Fence()
        self.retiring: dict[str, tuple[str, float]] = {}
        """region -> (node id, monotonic time it was marked draining)."""
        self.events: list[tuple[str, str, int]] = []
        """(what, region, count): "up", "down" and "retire" steps, for status and tests."""

    async def desired(self, region: str) -> Desired | None:
        entry = await self.store.get(f"desired.{region}")
        if entry is None:
            return None
        body = json.loads(entry.value)
        return Desired(int(body["count"]), int(body["token"]))

    async def set_desired(self, region: str, count: int, token: int) -> int:
        """Ask for ``count`` nodes in ``region`` (clamped to its bounds); returns what is stored.

        Raises ``StaleTokenError`` for a token older than one already used here, or
        than the one stored with the region's count by any process (the write is a
        compare-and-set, so a deposed leader elsewhere cannot overwrite its successor).
        """
        action = f"set desired nodes of {region}"
        self.fence.check(token, action)
        bounds = self.bounds.get(region)
        if bounds is None:
            raise ValueError(f"the swarm does not manage region {region!r}")
        clamped = bounds.clamp(count)
        body = json.dumps({"count": clamped, "token": token}).encode()
        key = f"desired.{region}"
        for _ in range(8):
            entry = await self.store.get(key)
            if entry is not None:
                self.fence.admit(int(json.loads(entry.value)["token"]))
                self.fence.check(token, action)
            try:
                if entry is None:
                    await self.store.create(key, body)
                else:
                    await self.store.update(key, body, entry.revision)
            except CompareAndSetError:
                continue
            return clamped
        raise CompareAndSetError(key, "the desired count kept changing")

    async def step(self, token: int) -> None:
        """One reconciliation round of every region, under the leader's ``token``."""
        self.fence.check(token, "swarm step")
        members = await self.registry.members()
        for region, bounds in sorted(self.bounds.items()):
            in_region = [m for m in members if m.region == region and m.role == "node"]
            await self._reconcile(region, bounds, in_region, token)

    async def _reconcile(
        self, region: str, bounds: RegionBounds, members: list[Member], token: int
    ) -> None:
        instances = await self.actuator.instances(region)
        stored = await self.desired(region)
        desired = bounds.clamp(stored.count if stored else max(bounds.min, len(instances)))
        serving = [m for m in members if m.state is NodeState.SERVING]
        if self.policy is not None and region not in self.retiring:
            loads = [load_of(m.figures, self.policy.config.metric) for m in serving]
            wanted = self.policy.decide(region, desired, loads)
            if wanted != desired:
                log.info("swarm: %s %d -> %d nodes (load %s)", region, desired, wanted, loads)
        else:
            wanted = desired
        if stored is None or wanted != stored.count:
            desired = await self.set_desired(region, wanted, token)
        if len(instances) < desired and region not in self.retiring:
            peer = serving[0].address if serving else None
            await self.actuator.scale_to(region, desired, token, peer=peer)
            self.events.append(("up", region, desired))
        elif len(instances) > desired:
            await self._retire_one(region, instances, serving, token)

    async def _retire_one(
        self, region: str, instances: list[Instance], serving: list[Member], token: int
    ) -> None:
        now = self.clock.monotonic()
        current = self.retiring.get(region)
        ids = {i.id for i in instances}
        if current is not None and current[0] not in ids:
            del self.retiring[region]  # gone already
            return
        if current is None:
            victim = _victim([m for m in serving if m.id in ids], [i.id for i in instances])
            await self.registry.set_state(victim, NodeState.DRAINING, token)
            self.retiring[region] = (victim, now)
            self.events.append(("retire", region, len(instances) - 1))
            log.info("swarm: retiring %s in %s (draining)", victim, region)
            return
        victim, since = current
        if now - since < self.retire_grace:
            return
        await self.actuator.scale_to(region, len(instances) - 1, token, retire=[victim])
        del self.retiring[region]
        self.events.append(("down", region, len(instances) - 1))
        log.info("swarm: stopped %s in %s", victim, region)


def _victim(serving: list[Member], started: list[str]) -> str:
    """The serving node with the fewest streams and connections (newest on a tie)."""
    if not serving:
        return started[-1]
    order = {node_id: i for i, node_id in enumerate(started)}
    return min(
        serving,
        key=lambda m: (m.figures.total_streams + m.figures.total_connections, -order.get(m.id, 0)),
    ).id
