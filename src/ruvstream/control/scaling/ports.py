"""The ports the scaling policies act and remember through, with in-memory versions.

The orchestrator never talks to a socket itself. The control plane gives it:

- a ``CapacityActuator`` (the swarm manager): ``set_desired(region, instances,
  fencing_token)``. The token is the caller's leadership fencing token; an
  actuator must refuse (``StaleFencingTokenError``) a token older than the
  highest it has accepted, so a deposed leader cannot undo its successor.
- a ``DegradationPort`` (the router's admin API): ``apply(plan)``; the same
  fencing rule holds, on the plan's ``fencing_token``.
- a ``StateStore`` (a KV bucket): ``get(key) -> bytes | None`` and
  ``put(key, bytes)``, where the orchestrator keeps what a restart needs.

``MemoryStateStore`` and ``MemoryDegradationPort`` are the in-memory
implementations (tests, the replay); ``SimulatedFleet`` in ``simulation`` is
the in-memory actuator and ``HttpDegradationPort`` the real port.
"""

from __future__ import annotations

from typing import Protocol

from .degradation import DegradationPlan
from .errors import StaleFencingTokenError

__all__ = [
    "CapacityActuator",
    "DegradationPort",
    "MemoryDegradationPort",
    "MemoryStateStore",
    "StateStore",
]


class CapacityActuator(Protocol):
    async def set_desired(self, region: str, instances: int, fencing_token: int) -> None:
        """Make ``instances`` the region's target; StaleFencingTokenError for an old token."""


class DegradationPort(Protocol):
    async def apply(self, plan: DegradationPlan) -> None:
        """Put ``plan`` in force; StaleFencingTokenError for an old token, PortError else."""


class StateStore(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, value: bytes) -> None: ...


class MemoryStateStore:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def put(self, key: str, value: bytes) -> None:
        self.data[key] = bytes(value)


class MemoryDegradationPort:
    """Keeps the plan in force as the router would: highest (token, sequence) wins."""

    def __init__(self) -> None:
        self.current: DegradationPlan | None = None
        self.received: list[DegradationPlan] = []
        self.highest_token = 0

    def accept(self, plan: DegradationPlan) -> bool:
        """Apply if newer; False if an equal-token plan with a later sequence is in force."""
        if plan.fencing_token < self.highest_token:
            raise StaleFencingTokenError(plan.fencing_token, self.highest_token)
        self.highest_token = plan.fencing_token
        self.received.append(plan)
        cur = self.current
        if cur is not None and (cur.fencing_token, cur.sequence) > (
            plan.fencing_token,
            plan.sequence,
        ):
            return False
        self.current = plan
        return True

    async def apply(self, plan: DegradationPlan) -> None:
        self.accept(plan)
