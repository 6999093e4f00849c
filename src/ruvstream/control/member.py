"""A control-plane member: it campaigns, and while it leads it runs the control loops.

Every member runs the election; the one holding the lease runs the
coordinator's task loop (every ``tick``) and, when given regions and an
actuator, the swarm manager (every ``swarm_every``) and, with an
``AutoscaleSpec``, the scaling loop (``autoscale``) that sets the swarm's
desired counts and the router's degradation level. Each loop reads the
term at each round and pass its fencing token to everything they do, and
stop acting the moment the term is no longer trusted. On a clean shutdown
the member resigns, so a successor takes over at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from ruvstream.core.clock import Clock, SystemClock

from .autoscale import AutoscaleSpec, ScalingLoop
from .coordinator import Coordinator
from .election import Election, Leadership
from .membership import Registry
from .names import ControlNames
from .queue import WorkQueue
from .scaling_store import ScalingStore
from .scheduler import Scheduler
from .store import StoreBackend
from .swarm import Actuator, RegionBounds, SwarmManager, ThresholdConfig, ThresholdPolicy

__all__ = ["ControlMember", "MemberSettings"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MemberSettings:
    namespace: str = "ruvstream"
    member_id: str = field(default_factory=lambda: f"control-{socket.gethostname()}-{os.getpid()}")
    lease: float = 5.0
    tick: float = 0.5
    strategy: str = "round-robin"
    lapse: float = 10.0
    """TTL of the membership bucket: the nodes' ``--control-lapse``."""
    regions: Mapping[str, RegionBounds] = field(default_factory=dict)
    scaling: ThresholdConfig | None = None
    swarm_every: float = 1.0
    retire_grace: float = 2.0


class ControlMember:
    def __init__(
        self,
        settings: MemberSettings,
        backend: StoreBackend,
        queue: WorkQueue,
        *,
        actuator: Actuator | None = None,
        autoscale: AutoscaleSpec | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.backend = backend
        self.queue = queue
        self.actuator = actuator
        self.clock = clock or SystemClock()
        self.names = ControlNames(settings.namespace)
        self.election: Election | None = None
        self.coordinator: Coordinator | None = None
        self.swarm: SwarmManager | None = None
        self.autoscale = autoscale
        self.scaling: ScalingLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def open(self) -> None:
        s, names = self.settings, self.names
        election = await self.backend.bucket(names.election, ttl=2 * s.lease)
        self.election = Election(election, s.member_id, lease=s.lease, clock=self.clock)
        registry = Registry(await self.backend.bucket(names.members, ttl=s.lapse), self.clock)
        tasks = await self.backend.bucket(names.tasks)
        scheduler = Scheduler(strategy=s.strategy, clock=self.clock)
        self.coordinator = Coordinator(tasks, self.queue, registry, scheduler, clock=self.clock)
        if self.actuator is not None and s.regions:
            policy = None
            if s.scaling is not None:
                policy = ThresholdPolicy(s.scaling, s.regions, self.clock)
            self.swarm = SwarmManager(
                registry,
                self.actuator,
                await self.backend.bucket(names.swarm),
                s.regions,
                policy=policy,
                retire_grace=s.retire_grace,
                clock=self.clock,
            )
        spec = self.autoscale
        if spec is not None and self.swarm is not None:
            self.scaling = ScalingLoop(
                spec.build,
                spec.node,
                registry,
                self.swarm,
                ScalingStore(await self.backend.bucket(names.scaling)),
                port=spec.port,
                dry_run=spec.dry_run,
                report=spec.report,
                defer=self.coordinator.defer_background,
                clock=self.clock,
            )

    @property
    def leadership(self) -> Leadership | None:
        return None if self.election is None else self.election.leadership

    async def _lead(self, every: float, act: Callable[[int], Awaitable[object]]) -> None:
        while True:
            term = self.leadership
            if term is not None:
                try:
                    await act(term.token)
                except Exception:
                    log.warning("control loop round failed", exc_info=True)
            await asyncio.sleep(every)

    def start(self) -> None:
        assert self.election is not None and self.coordinator is not None, "open() first"
        self._tasks.append(asyncio.create_task(self.election.run()))
        self._tasks.append(
            asyncio.create_task(self._lead(self.settings.tick, self.coordinator.tick))
        )
        if self.swarm is not None:
            self._tasks.append(
                asyncio.create_task(self._lead(self.settings.swarm_every, self.swarm.step))
            )
        if self.scaling is not None and self.autoscale is not None:
            self._tasks.append(
                asyncio.create_task(self._lead(self.autoscale.every, self.scaling.step))
            )

    async def run_forever(self) -> None:
        self.start()
        await asyncio.gather(*self._tasks)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.election is not None:
            await self.election.resign()
        if self.actuator is not None:
            await self.actuator.close()
        await self.queue.close()
        await self.backend.close()
