"""The actuator interface: how the swarm turns a desired node count into running nodes.

``scale_to(region, count, token, retire=..., peer=...)`` makes the region
run ``count`` instances: it stops the instances named in ``retire`` first
(then others, newest first, if more must go) and starts new ones (a new one
bootstraps from ``peer``, a serving node's URL, where the actuator can).
Every call carries the leader's fencing token; each actuator passes it
through its own ``Fence`` and refuses an older one with ``StaleTokenError``
before it changes anything. Instance ids are the nodes' ids in the
registry. Implementations: ``MemoryActuator`` (bookkeeping only),
``LocalActuator`` (``ruvstream serve`` processes), ``KubernetesActuator``
(a Deployment's or Knative Service's scale); one contract suite,
``tests/control/test_actuator_contract.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..fence import Fence

__all__ = ["Actuator", "FencedActuator", "Instance", "MemoryActuator", "check_count"]


@dataclass(frozen=True, slots=True)
class Instance:
    id: str
    region: str
    address: str | None = None


def check_count(count: int) -> int:
    if count < 0:
        raise ValueError(f"a region cannot run {count} instances")
    return count


class Actuator(Protocol):
    fence: Fence

    async def instances(self, region: str) -> list[Instance]: ...

    async def scale_to(
        self,
        region: str,
        count: int,
        token: int,
        *,
        retire: Sequence[str] = (),
        peer: str | None = None,
    ) -> None: ...

    async def close(self) -> None: ...


class FencedActuator(ABC):
    """The checks every actuator makes before it touches anything, in one place."""

    def __init__(self) -> None:
        self.fence = Fence()

    @abstractmethod
    async def instances(self, region: str) -> list[Instance]: ...

    async def scale_to(
        self,
        region: str,
        count: int,
        token: int,
        *,
        retire: Sequence[str] = (),
        peer: str | None = None,
    ) -> None:
        check_count(count)
        self.fence.check(token, f"scale {region} to {count}")
        await self._resize(region, count, tuple(retire), peer)

    @abstractmethod
    async def _resize(
        self, region: str, count: int, retire: tuple[str, ...], peer: str | None
    ) -> None:
        """Make ``region`` run ``count`` instances; the token was already checked."""

    async def close(self) -> None:
        return None


class MemoryActuator(FencedActuator):
    """Instances as records only: for policies and managers under test."""

    def __init__(self) -> None:
        super().__init__()
        self._instances: dict[str, list[Instance]] = {}
        self._serial = 0

    async def instances(self, region: str) -> list[Instance]:
        return list(self._instances.get(region, []))

    async def _resize(
        self, region: str, count: int, retire: tuple[str, ...], peer: str | None
    ) -> None:
        running = self._instances.setdefault(region, [])
        running[:] = plan_removals(running, count, retire)
        while len(running) < count:
            self._serial += 1
            node_id = f"{region}-{self._serial}"
            running.append(Instance(node_id, region, f"memory://{node_id}"))


def plan_removals(running: Sequence[Instance], count: int, retire: Sequence[str]) -> list[Instance]:
    """What stays when a region goes down to ``count``: named ones leave first, then newest."""
    keep = (
        [i for i in running if i.id not in set(retire)] if len(running) > count else list(running)
    )
    return keep[:count] if len(keep) > count else keep
