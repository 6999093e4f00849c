"""The replication bus interface: an ordered, durable log of op records.

Invariants every implementation keeps (the contract suite checks them):

- ``publish`` assigns strictly increasing sequence numbers, one total order
  for every origin, and returns once the op is stored.
- A consumer is durable and named. Opening an existing name resumes right
  after its acknowledged floor, at once (unacknowledged deliveries come
  again); opening a new name starts at ``start_seq``. Either way the start
  is never before ``start_seq``; ``reset`` discards a stored position.
  Deliveries come in sequence order.
- ``publish_batch`` stores its ops in the order given (a bus may pipeline
  them) and returns once every one is stored; on an error some may be
  stored, and a retry with the same ops stores none twice.
- Heartbeats are best-effort and not stored: they say who is alive now.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Sequence

from ruvstream.core.records import OpRecord
from ruvstream.replication._wire import Delivery, Heartbeat

__all__ = ["Bus", "Consumer", "HeartbeatHandler", "Unsubscribe"]

HeartbeatHandler = Callable[[Heartbeat], None]
Unsubscribe = Callable[[], Awaitable[None]]


class Consumer(abc.ABC):
    """A durable cursor over the bus, owned by one node."""

    name: str

    @abc.abstractmethod
    async def fetch(self, max_messages: int, wait: float) -> list[Delivery]:
        """Up to ``max_messages`` next deliveries; waits up to ``wait`` seconds for
        the first, answers ``[]`` if none came."""

    @abc.abstractmethod
    async def ack(self, delivery: Delivery) -> None:
        """Mark one delivery applied; the floor moves past contiguous acks."""

    async def ack_run(self, run: Sequence[Delivery]) -> None:
        """Mark a run of deliveries applied: every one fetched before the last is
        acknowledged already or in ``run``. One by one here; a bus with
        cumulative acks sends one."""
        for delivery in run:
            await self.ack(delivery)

    @abc.abstractmethod
    async def close(self) -> None:
        """Stop fetching; the durable position stays on the bus."""


class Bus(abc.ABC):
    @property
    @abc.abstractmethod
    def stream(self) -> str:
        """The name of the log; positions are only meaningful within it."""

    @abc.abstractmethod
    async def publish(self, op: OpRecord, *, node: str) -> int:
        """Store ``op`` (published by ``node``); returns its sequence number."""

    async def publish_batch(self, ops: Sequence[OpRecord], *, node: str) -> list[int]:
        """Store ``ops`` in order; returns their sequence numbers. One by one here;
        a bus with pipelined publishes does better."""
        return [await self.publish(op, node=node) for op in ops]

    def reachable(self) -> bool:
        """Whether the bus is connected now (an in-process bus always is)."""
        return True

    @abc.abstractmethod
    async def consumer(self, name: str, *, start_seq: int = 1, reset: bool = False) -> Consumer:
        """Open (or create) the durable consumer ``name``; ``reset`` forgets its
        position first (a node whose data dir was wiped must start over)."""

    @abc.abstractmethod
    async def head(self) -> int:
        """The sequence number of the newest stored op (0 when empty)."""

    @abc.abstractmethod
    async def publish_heartbeat(self, beat: Heartbeat) -> None: ...

    @abc.abstractmethod
    async def on_heartbeat(self, handler: HeartbeatHandler) -> Unsubscribe:
        """Call ``handler`` on the event loop for every heartbeat from now on."""

    @abc.abstractmethod
    async def close(self) -> None: ...
