"""One node's replication: publish local writes, apply everyone else's, report lag.

Invariants:

- The node is seen through ``engine.ports.ReplicationPort`` only.
- Ops are applied through ``node.apply_remote`` (the WAL-replay apply
  function; durable once it returns) and acknowledged on the bus only after,
  so the consumer's floor never passes an op that is not in the local WAL.
- The applied position advances contiguously; a failure re-opens the
  consumer, which resumes at the floor. Duplicates are harmless: last-writer-
  wins on (hlc, origin) turns a re-applied op into a no-op.
- Within one fetched batch, a run of record ops is applied as one batch (one
  WAL group commit, one trip to the executor; their order does not matter
  under LWW) but a collection create/drop is applied alone, in bus order, so
  no upsert can overtake the create of its collection. The run is acked on
  the bus only after the batch is durable.
- The node's replication state ``"replication"`` (carried by snapshots)
  holds the stream name and the applied position, so a node restored from
  any snapshot (its own or a peer's) resumes the stream from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from ruvstream.core.clock import Clock, SystemClock
from ruvstream.core.hlc import physical_ms
from ruvstream.core.records import OpKind, OpRecord
from ruvstream.core.retry import Backoff, RetrySchedule
from ruvstream.engine.ports import ReplicationPort
from ruvstream.replication._bus import Bus, Consumer, Unsubscribe
from ruvstream.replication._metrics import ReplicationMetrics
from ruvstream.replication._publisher import Publisher
from ruvstream.replication._wire import Delivery, Heartbeat
from ruvstream.replication.lag import LagTracker

__all__ = ["EXTRAS_KEY", "Replicator"]

log = logging.getLogger(__name__)

EXTRAS_KEY = "replication"
PUMP_BACKOFF = Backoff(base=0.05, cap=2.0)
_LIFECYCLE = (OpKind.CREATE_COLLECTION, OpKind.DROP_COLLECTION)

NodeT = TypeVar("NodeT", bound=ReplicationPort)
"""Whatever node the caller hands over; the replicator uses its port only."""


class Replicator(Generic[NodeT]):
    def __init__(
        self,
        node: NodeT,
        bus: Bus,
        *,
        lag_bound: float = 5.0,
        heartbeat_interval: float = 0.5,
        batch: int = 256,
        owns_bus: bool = True,
        clock: Clock | None = None,
    ) -> None:
        self.node = node
        self.bus = bus
        self.lag_bound = lag_bound
        self.heartbeat_interval = heartbeat_interval
        self.batch = batch
        self._owns_bus = owns_bus
        self._clock = clock or SystemClock()
        self.lag = LagTracker(self._clock, stale_after=3 * heartbeat_interval)
        self.metrics = ReplicationMetrics(node.metrics_registry, self.lag.lags)
        self.publisher = Publisher(bus, node, self.metrics, clock=self._clock)
        self.metrics.bus_reachable.set_function(lambda: 1 if self.bus_reachable() else 0)
        self.last_seq_by_region: dict[str, int] = {}
        self.start_seq = 1
        self.observers: list[Callable[[OpRecord, bool], None]] = []
        """Called with every remote op once applied (and whether it changed state)."""
        self._consumer: Consumer | None = None
        self._unsubscribe: Unsubscribe | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle ---------------------------------------------------------------
    async def start(self) -> None:
        saved = self.node.replication_state(EXTRAS_KEY)
        if saved.get("stream") == self.bus.stream:
            self.start_seq = int(saved.get("applied_seq", 0)) + 1
        # A node with no data at all (new, or its data dir was wiped) must not
        # inherit the position a previous incarnation left on the bus.
        empty = not saved and not self.node.holds_data()
        self._consumer = await self.bus.consumer(
            self.node.node_id, start_seq=self.start_seq, reset=empty
        )
        self._unsubscribe = await self.bus.on_heartbeat(self._on_heartbeat)
        await self.publisher.start()
        self.node.add_health_reporter(self.health)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._pump()), loop.create_task(self._heartbeats())]

    async def close(self) -> None:
        """Publish what is queued (briefly), stop consuming, keep the durable position."""
        await self.publisher.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._unsubscribe is not None:
            with contextlib.suppress(Exception):
                await self._unsubscribe()
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await self._consumer.close()
        if self._owns_bus:
            await self.bus.close()

    # -- applying ----------------------------------------------------------------
    async def _pump(self) -> None:
        retries = RetrySchedule(PUMP_BACKOFF)
        broken = False
        while True:
            try:
                if broken:  # re-opened inside the try: a bus still down is one more retry
                    await self._reopen()
                    broken = False
                assert self._consumer is not None
                deliveries = await self._consumer.fetch(self.batch, wait=1.0)
                await self._apply_batch(self._consumer, deliveries)
                retries.succeeded()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delay = retries.failed()
                log.warning("replication pump: %s; resuming from the floor in %.2fs", exc, delay)
                await asyncio.sleep(delay)
                broken = True

    async def _reopen(self) -> None:
        with contextlib.suppress(Exception):
            if self._consumer is not None:
                await self._consumer.close()
        self._consumer = await self.bus.consumer(self.node.node_id, start_seq=self.lag.position + 1)

    async def _apply_batch(self, consumer: Consumer, deliveries: Sequence[Delivery]) -> None:
        run: list[Delivery] = []
        for delivery in deliveries:
            if delivery.op.op in _LIFECYCLE:
                await self._apply_run(consumer, run)
                run = []
                await self._apply_run(consumer, [delivery])
            else:
                run.append(delivery)
        await self._apply_run(consumer, run)

    async def _apply_run(self, consumer: Consumer, run: Sequence[Delivery]) -> None:
        if not run:
            return
        remote = [d for d in run if d.node != self.node.node_id]
        changed = await self.node.apply_remote_batch([d.op for d in remote]) if remote else []
        if remote:
            self.metrics.apply_batch.observe(len(remote))
        self._count_applied(remote, changed)
        for delivery, did_change in zip(remote, changed, strict=True):
            self.last_seq_by_region[delivery.op.origin] = delivery.seq
            for observer in self.observers:
                observer(delivery.op, did_change)
        await consumer.ack_run(run)
        self._advance(run[-1].seq)

    def _count_applied(self, remote: Sequence[Delivery], changed: Sequence[bool]) -> None:
        """The applied counts and delays of a run, one label lookup per origin and
        outcome (a lookup costs more than the count itself)."""
        now = self._clock.now()
        applied: dict[tuple[str, str], int] = {}
        delays: dict[str, list[float]] = {}
        for delivery, did_change in zip(remote, changed, strict=True):
            origin = delivery.op.origin
            key = (origin, "changed" if did_change else "unchanged")
            applied[key] = applied.get(key, 0) + 1
            delay = max(0.0, now - physical_ms(delivery.op.hlc) / 1000.0)
            delays.setdefault(origin, []).append(delay)
        for (origin, result), count in applied.items():
            self.metrics.applied.labels(origin, result).inc(count)
        for origin, seconds in delays.items():
            histogram = self.metrics.apply_delay.labels(origin)
            for delay in seconds:
                histogram.observe(delay)

    def _advance(self, position: int) -> None:
        self.lag.on_applied(position)
        self.metrics.position.set(position)
        self.node.set_replication_state(
            EXTRAS_KEY, {"stream": self.bus.stream, "applied_seq": self.lag.position}
        )

    # -- heartbeats and lag ------------------------------------------------------
    def _on_heartbeat(self, beat: Heartbeat) -> None:
        if beat.node != self.node.node_id:
            self.lag.on_heartbeat(beat.region, beat.node, beat.published_seq)

    async def _heartbeats(self) -> None:
        while True:
            beat = Heartbeat(
                self.node.region,
                self.node.node_id,
                self.publisher.published_seq,
                self._clock.now(),
            )
            try:
                await self.bus.publish_heartbeat(beat)
            except Exception as exc:
                log.debug("heartbeat not sent: %s", exc)
            await asyncio.sleep(self.heartbeat_interval)

    def bus_reachable(self) -> bool:
        return self.bus.reachable() and not self.publisher.failing

    def health(self) -> dict[str, Any]:
        """``replication: {source_region: {lag_seconds, last_seq}}``, the publish
        backlog, and ``degraded`` (a source lags past the bound, or the bus is away)."""
        lags = self.lag.lags()
        reachable = self.bus_reachable()
        regions = {
            region: {
                "lag_seconds": round(lag, 3),
                "last_seq": self.last_seq_by_region.get(region, 0),
            }
            for region, lag in sorted(lags.items())
        }
        return {
            "replication": regions,
            "replication_applied_seq": self.lag.position,
            "replication_outbox": self.publisher.backlog,
            "replication_backlog": {
                "ops": self.publisher.backlog,
                "oldest_age_seconds": round(self.publisher.oldest_age(), 3),
                "publish_cursor": self.publisher.cursor,
            },
            "replication_bus": "connected" if reachable else "unreachable",
            "degraded": not reachable or any(lag > self.lag_bound for lag in lags.values()),
        }
