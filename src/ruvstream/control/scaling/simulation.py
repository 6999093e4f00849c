"""The simulation core the replay (and later the global simulator) runs the policies on.

- ``SimulatedFleet`` is a ``CapacityActuator``: per region a quota and
  instances that become ready ``startup_seconds`` after they are asked for;
  a scale-in removes starting instances first (newest first), then ready
  ones, at once. It refuses stale fencing tokens like a real actuator.
- ``serve`` splits one tick's offered requests by tier, applies the
  degradation plan's shed shares, then serves up to the ready capacity,
  shedding the overflow in the plan's shed order (free, then standard),
  premium last. Requests are counted in whole numbers, so served + shed ==
  offered exactly, in total and in every tier.
- ``region_sample`` turns a tick's load into the figures a node would
  report (concurrency from offered load, CPU and memory of ready nodes, a
  queueing p99, and as error rate the share of admitted requests shed for
  want of capacity), so the reactive scaler sees what it would see from
  ``/metrics``. The plan's deliberate shedding is no error of the fleet:
  in production the router refuses those requests (counted under
  ``reason="degraded"``) before any node sees them, and a node's error
  rate is its own errors over the requests it received. Counting them
  made the error vote double regions that lacked nothing, up to their
  quota, so quota pressure never fell and the level latched at critical.

Time comes from the caller's clock (a ``ManualClock`` the replay moves).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ruvstream.core.clock import Clock

from .degradation import LADDER, DegradationActions, DegradationLevel
from .errors import StaleFencingTokenError
from .reactive import RegionSample
from .sizing import NodeCapacity

__all__ = ["SimulatedFleet", "TickLoad", "TierMix", "region_sample", "serve"]

_OVERLOAD_ORDER = ("free", "standard", "premium")


@dataclass(frozen=True, slots=True)
class TierMix:
    """Shares of offered requests per tier (they sum to 1)."""

    free: float = 0.3
    standard: float = 0.5
    premium: float = 0.2

    def __post_init__(self) -> None:
        if min(self.free, self.standard, self.premium) < 0 or not math.isclose(
            self.free + self.standard + self.premium, 1.0
        ):
            raise ValueError("tier shares must be >= 0 and sum to 1")

    def split(self, total: int) -> dict[str, int]:
        """Whole requests per tier summing to ``total`` (largest remainder)."""
        shares = {"free": self.free, "standard": self.standard, "premium": self.premium}
        exact = {t: total * s for t, s in shares.items()}
        out = {t: math.floor(v) for t, v in exact.items()}
        rest = total - sum(out.values())
        for t in sorted(exact, key=lambda t: exact[t] - out[t], reverse=True)[:rest]:
            out[t] += 1
        return out


@dataclass(frozen=True, slots=True)
class TickLoad:
    """One region's tick. Invariant: ``served + shed == offered`` (whole requests);
    ``offered_by_tier`` and ``shed_by_tier`` split ``offered`` and ``shed`` by tier
    (the plan's refusals and the overflow together), each summing to its total."""

    region: str
    t: float
    seconds: float
    offered: int
    served: int
    shed: int
    shed_by_plan: int
    capacity: int
    streams: float
    stream_capacity: float
    offered_by_tier: Mapping[str, int] = field(default_factory=dict)
    shed_by_tier: Mapping[str, int] = field(default_factory=dict)

    @property
    def shed_share(self) -> float:
        return self.shed / self.offered if self.offered else 0.0

    @property
    def capacity_error_rate(self) -> float:
        """Requests shed for want of capacity over those the plan let through: what
        the region's nodes would report as their error rate."""
        admitted = self.offered - self.shed_by_plan
        return (self.shed - self.shed_by_plan) / admitted if admitted else 0.0

    @property
    def overloaded(self) -> bool:
        """More was offered (after the plan's shedding) than ready capacity could serve."""
        return self.shed > self.shed_by_plan or self.streams > self.stream_capacity


def serve(
    region: str,
    t: float,
    seconds: float,
    offered_qps: float,
    streams: float,
    ready: int,
    node: NodeCapacity,
    mix: TierMix,
    actions: DegradationActions | None = None,
) -> TickLoad:
    offered = max(0, round(offered_qps * seconds))
    actions = actions or LADDER[DegradationLevel.NONE]
    by_tier = mix.split(offered)
    admitted = dict(by_tier)
    shed_by_plan = 0
    for tier, n in admitted.items():
        refused = math.floor(n * actions.tier(tier).shed_share + 1e-9)
        admitted[tier] = n - refused
        shed_by_plan += refused
    capacity = math.floor(ready * node.qps_per_instance * seconds)
    overflow = max(0, sum(admitted.values()) - capacity)
    for tier in _overload_order(actions):
        cut = min(overflow, admitted[tier])
        admitted[tier] -= cut
        overflow -= cut
    served = sum(admitted.values())
    return TickLoad(
        region,
        t,
        seconds,
        offered,
        served,
        offered - served,
        shed_by_plan,
        capacity,
        streams,
        ready * node.streams_per_instance,
        MappingProxyType(by_tier),
        MappingProxyType({tier: by_tier[tier] - admitted[tier] for tier in by_tier}),
    )


def _overload_order(actions: DegradationActions) -> tuple[str, ...]:
    """Tiers in the order overflow is cut: the plan's shed order, then the rest
    (premium last), so capacity shortfall hits the tiers the plan gives up first."""
    named = tuple(t for t in actions.shed_order if t in _OVERLOAD_ORDER)
    return named + tuple(t for t in _OVERLOAD_ORDER if t not in named)


def region_sample(
    load: TickLoad, ready: int, billed: int, node: NodeCapacity, base_p99_ms: float = 8.0
) -> RegionSample:
    """What the region's nodes would report for ``load``. ``base_p99_ms``: the node
    benchmark's p99 at moderate load (README: 8.1-8.5 ms)."""
    qps = load.offered / load.seconds if load.seconds else 0.0
    admitted = (load.offered - load.shed_by_plan) / load.seconds if load.seconds else 0.0
    full = ready * node.qps_per_instance
    rho = admitted / full if full > 0 else (1.0 if admitted > 0 else 0.0)
    cpu = min(1.0, rho)
    memory = min(1.0, load.streams / load.stream_capacity) if load.stream_capacity else 1.0
    p99 = base_p99_ms / max(0.05, 1.0 - min(rho, 0.95))
    return RegionSample(
        region=load.region,
        t=load.t,
        ready_instances=ready,
        instances=billed,
        concurrency=node.concurrency_for(qps),
        cpu=cpu,
        memory=memory,
        p99_ms=p99,
        error_rate=load.capacity_error_rate,
        offered_qps=qps,
        streams=load.streams,
    )


@dataclass
class _Pool:
    quota: int
    ready: int = 0
    starting: deque[float] = field(default_factory=deque)  # ready_at, oldest first


class SimulatedFleet:
    """In-memory ``CapacityActuator`` with start-up delay and per-region quota."""

    def __init__(
        self,
        clock: Clock,
        startup_seconds: float,
        quotas: Mapping[str, int],
        initial: Mapping[str, int] | None = None,
    ) -> None:
        self.clock = clock
        self.startup_seconds = startup_seconds
        self._pools = {r: _Pool(quota=q) for r, q in quotas.items()}
        for region, n in (initial or {}).items():
            self._pools[region].ready = min(n, self._pools[region].quota)
        self.highest_token = 0
        self.calls: list[tuple[float, str, int, int]] = []

    async def set_desired(self, region: str, instances: int, fencing_token: int) -> None:
        self.set_desired_now(region, instances, fencing_token)

    def set_desired_now(self, region: str, instances: int, fencing_token: int) -> None:
        if fencing_token < self.highest_token:
            raise StaleFencingTokenError(fencing_token, self.highest_token)
        self.highest_token = fencing_token
        pool = self._pools[region]
        self.calls.append((self.clock.now(), region, instances, fencing_token))
        target = max(0, min(instances, pool.quota))
        current = pool.ready + len(pool.starting)
        if target > current:
            ready_at = self.clock.now() + self.startup_seconds
            pool.starting.extend([ready_at] * (target - current))
        for _ in range(current - target):
            if pool.starting:
                pool.starting.pop()
            else:
                pool.ready -= 1

    def advance(self) -> None:
        """Instances whose start-up has finished by now become ready."""
        now = self.clock.now()
        for pool in self._pools.values():
            while pool.starting and pool.starting[0] <= now:
                pool.starting.popleft()
                pool.ready += 1

    def ready(self, region: str) -> int:
        return self._pools[region].ready

    def starting(self, region: str) -> int:
        return len(self._pools[region].starting)

    def billed(self, region: str) -> int:
        """Instances that cost money now: ready ones and those starting."""
        return self.ready(region) + self.starting(region)
