"""The leader's scaling loop: node figures in, the orchestrator's plan carried out.

Every round under the leader's token (``ControlMember`` runs it each
``tick_seconds``):

1. ``region_samples``: the registry's members (each node's figures, as its
   agent reports them) become one ``RegionSample`` per managed region;
2. the orchestrator observes them and decides: desired = max(predicted,
   reactive), within the regions' limits and the budget, and a degradation
   level;
3. unless dry-running, the desired counts go to the swarm manager
   (``SwarmCapacity`` over ``SwarmManager.set_desired``) and the degradation
   plan to the router's port; the orchestrator's state and the decisions go
   to the scaling bucket (``ScalingStore``), so a new leader carries on, and
   ``ruvstream control decisions`` reads them; a plan that defers background
   work holds the coordinator's snapshots and compactions (``defer``).

The orchestrator sends a plan when the level changes; the loop sends the plan
in force again every ``resend_every`` seconds as well, so a router that
restarted (and forgot it) or one that missed a send is put right within that
time (the router takes an equal (token, sequence) again as a no-op).

A new term (another fencing token) rebuilds the orchestrator and restores
the saved state, so a member that lost and regained leadership never acts on
what it decided in its old term; with nothing saved it starts conservative.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ruvstream.core.clock import Clock, SystemClock

from .fence import StaleTokenError
from .membership import Member, NodeState, Registry
from .scaling import (
    DegradationPort,
    NodeCapacity,
    Orchestrator,
    RegionSample,
    StaleFencingTokenError,
    TickPlan,
)
from .scaling_store import ScalingStore
from .swarm import SwarmManager

__all__ = ["AutoscaleSpec", "ScalingLoop", "SwarmCapacity", "region_samples"]

log = logging.getLogger(__name__)

_LIVE = (NodeState.STARTING, NodeState.SERVING)


def region_samples(
    members: Iterable[Member],
    regions: Iterable[str],
    t: float,
    node: NodeCapacity,
    instances: Mapping[str, int] | None = None,
) -> list[RegionSample]:
    """One sample per region from its nodes' reported figures.

    Ready nodes are the serving ones; billed ``instances`` are the actuator's
    count (else starting + serving). Concurrency is the region's searches in
    flight by Little's law at the node's full-load service time, as the
    predictor sizes it; CPU and memory are means over ready nodes (0..1),
    p99 the worst ready node's, QPS and streams region totals.
    """
    by_region: dict[str, list[Member]] = {r: [] for r in regions}
    for m in members:
        if m.role == "node" and m.region in by_region and m.state in _LIVE:
            by_region[m.region].append(m)
    out = []
    for region, live in sorted(by_region.items()):
        ready = [m.figures for m in live if m.state is NodeState.SERVING]
        qps = sum(f.qps for f in ready)
        billed = (instances or {}).get(region, len(live))
        out.append(
            RegionSample(
                region=region,
                t=t,
                ready_instances=len(ready),
                instances=max(billed, len(ready)),
                concurrency=node.concurrency_for(qps),
                cpu=_mean(f.cpu_percent / 100.0 for f in ready),
                memory=_mean(f.memory_percent / 100.0 for f in ready),
                p99_ms=max((f.latency_ms.get("p99", 0.0) for f in ready), default=0.0),
                error_rate=_mean(f.error_rate for f in ready),
                offered_qps=qps,
                streams=sum(f.total_streams for f in ready),
            )
        )
    return out


def _mean(values: Iterable[float]) -> float:
    found = list(values)
    return statistics.fmean(found) if found else 0.0


@dataclass(frozen=True, slots=True)
class AutoscaleSpec:
    """What a member needs to run the scaling loop when it leads (``ControlMember``).

    ``build`` makes a fresh orchestrator (``build_orchestrator`` over the
    config and calendar); ``report`` sees every round's plan (``--dry-run``
    prints it).
    """

    build: Callable[[], Orchestrator]
    node: NodeCapacity
    every: float = 2.0
    port: DegradationPort | None = None
    dry_run: bool = False
    report: Callable[[TickPlan], None] | None = None


class SwarmCapacity:
    """The orchestrator's ``CapacityActuator``: the swarm manager's desired counts."""

    def __init__(self, swarm: SwarmManager) -> None:
        self.swarm = swarm

    async def set_desired(self, region: str, instances: int, fencing_token: int) -> None:
        try:
            await self.swarm.set_desired(region, instances, fencing_token)
        except StaleTokenError:
            raise StaleFencingTokenError(fencing_token, self.swarm.fence.newest) from None


class ScalingLoop:
    """One leader's orchestrator, rebuilt and restored at each new term."""

    def __init__(
        self,
        build: Callable[[], Orchestrator],
        node: NodeCapacity,
        registry: Registry,
        swarm: SwarmManager,
        store: ScalingStore,
        *,
        port: DegradationPort | None = None,
        dry_run: bool = False,
        report: Callable[[TickPlan], None] | None = None,
        defer: Callable[[bool], None] | None = None,
        resend_every: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        self.build = build
        self.node = node
        self.registry = registry
        self.swarm = swarm
        self.capacity = SwarmCapacity(swarm)
        self.store = store
        self.port = port
        self.dry_run = dry_run
        self.report = report
        self.defer = defer
        self.resend_every = resend_every
        self._sent_at: float | None = None
        self.clock = clock or SystemClock()
        self.orchestrator: Orchestrator | None = None
        self.restored = False
        self._term: int | None = None

    async def step(self, token: int) -> TickPlan:
        orchestrator = await self._for_term(token)
        members = await self.registry.members()
        regions = sorted(self.swarm.bounds)
        billed = {r: len(await self.swarm.actuator.instances(r)) for r in regions}
        samples = region_samples(members, regions, self.clock.now(), self.node, billed)
        orchestrator.observe(samples)
        plan = orchestrator.decide(token, dry_run=self.dry_run)
        if not self.dry_run:
            await orchestrator.act(plan, self.capacity, self.port)
            await self._resend(plan)
            await self.store.save_state(orchestrator.export_state())
            if self.defer is not None:
                self.defer(plan.degradation.actions.defer_background)
        await self.store.append_decisions(plan.decisions)
        if self.report is not None:
            self.report(plan)
        return plan

    async def _resend(self, plan: TickPlan) -> None:
        if self.port is None:
            return
        now = self.clock.monotonic()
        if plan.send_degradation:
            self._sent_at = now  # act just sent it
        elif self._sent_at is None or now - self._sent_at >= self.resend_every:
            await self.port.apply(plan.degradation)
            self._sent_at = now

    async def _for_term(self, token: int) -> Orchestrator:
        if self.orchestrator is None or token != self._term:
            self.orchestrator = self.build()
            state = await self.store.load_state()
            self.orchestrator.import_state(state)
            self.restored = bool(state)
            self._term = token
            log.info(
                "scaling: leading with token %d (%s)",
                token,
                "state restored" if state else "no saved state: conservative start",
            )
        return self.orchestrator
