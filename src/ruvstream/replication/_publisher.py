"""Publishing a node's own writes: inline when the bus answers, else an outbox.

A write listener runs before the client's reply, so in the common case an
acknowledged write is already on the bus. When a publish fails (bus down,
timeout) the op goes to an in-memory outbox that a background task drains
with the core retry schedule (backoff with full jitter); once the outbox is
non-empty every later op queues behind it, so one node's ops reach the bus
in the order it made them (a collection's create always precedes its first
upsert). Retries reuse the message id, so a publish that did land but timed
out is stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from ruvstream.core.records import OpRecord
from ruvstream.core.retry import Backoff, RetrySchedule
from ruvstream.replication._bus import Bus
from ruvstream.replication._metrics import ReplicationMetrics

__all__ = ["Publisher"]

log = logging.getLogger(__name__)

OUTBOX_BACKOFF = Backoff(base=0.05, cap=2.0)


class Publisher:
    def __init__(
        self,
        bus: Bus,
        node_id: str,
        metrics: ReplicationMetrics,
        *,
        timeout: float = 2.0,
        backoff: Backoff = OUTBOX_BACKOFF,
    ) -> None:
        self._bus = bus
        self._node_id = node_id
        self._metrics = metrics
        self._timeout = timeout
        self._retries = RetrySchedule(backoff)
        self._outbox: deque[OpRecord] = deque()
        self._wake = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()
        self._task: asyncio.Task[None] | None = None
        self.published_seq = 0
        """Bus sequence of this node's newest stored op (advertised in heartbeats)."""

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._drain_loop())

    @property
    def backlog(self) -> int:
        return len(self._outbox)

    async def __call__(self, op: OpRecord) -> None:
        """The node's write listener: never raises, the write is already durable."""
        if not self._outbox:
            try:
                await self._publish(op)
                return
            except Exception as exc:
                log.warning("publish of op %d failed (%s); queued for retry", op.seq, exc)
                self._metrics.publish_errors.inc()
        self._outbox.append(op)
        self._metrics.outbox.set(len(self._outbox))
        self._empty.clear()
        self._wake.set()

    async def _publish(self, op: OpRecord) -> None:
        seq = await asyncio.wait_for(self._bus.publish(op, node=self._node_id), self._timeout)
        self.published_seq = max(self.published_seq, seq)
        self._metrics.published.inc()

    async def _drain_loop(self) -> None:
        while True:
            await self._wake.wait()
            while self._outbox:
                try:
                    await self._publish(self._outbox[0])
                except Exception as exc:
                    self._metrics.publish_errors.inc()
                    delay = self._retries.failed()
                    log.debug("outbox publish failed (%s); retrying in %.2fs", exc, delay)
                    await asyncio.sleep(delay)
                    continue
                self._retries.succeeded()
                self._outbox.popleft()
                self._metrics.outbox.set(len(self._outbox))
            self._wake.clear()
            self._empty.set()

    async def close(self, grace: float = 2.0) -> None:
        """Give the outbox ``grace`` seconds to drain, then stop."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._empty.wait(), grace)
        if self._outbox:
            log.warning("%d local ops were not published before shutdown", len(self._outbox))
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
