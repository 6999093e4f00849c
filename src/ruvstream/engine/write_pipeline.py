"""The write side of a node: every write, local or from elsewhere, takes one path::

    stamp (HLC, region) -> WAL append (+ fsync policy) -> apply in the executor
        -> tell subscribers, remember the idempotency answer, tell observers
        -> reply; tell write listeners (replication) of local writes

Ops from other regions join at "WAL append" (``apply_remote``), so a
replicated op survives a crash exactly like a local one. ``apply_remote_batch``
takes many at once: every frame written, one group fsync, one trip to the
executor that applies them in the order given. Local writes that become
durable together share their trip too (``ApplyQueue``).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor

from ruvstream.core.hlc import HybridLogicalClock
from ruvstream.core.records import OpKind, OpRecord, RecordData, encode_op
from ruvstream.core.spec import CollectionSpec
from ruvstream.engine.apply import Catalog, Outcome
from ruvstream.engine.apply_queue import ApplyQueue
from ruvstream.engine.idempotency import IdempotencyTable, answer_for
from ruvstream.engine.subscriptions import SubscriptionHub
from ruvstream.storage.wal import WriteAheadLog
from ruvstream.telemetry import NodeMetrics

__all__ = ["ApplyObserver", "WriteListener", "WritePipeline"]

WriteListener = Callable[[OpRecord], Awaitable[None] | None]
"""Told of every local write once it is applied (replication publishes it)."""
ApplyObserver = Callable[[OpRecord, Outcome], None]
"""Told of every applied op, local or remote, on the event loop."""


class WritePipeline:
    def __init__(
        self,
        *,
        region: str,
        hlc: HybridLogicalClock,
        catalog: Catalog,
        wal: WriteAheadLog,
        executor: Executor,
        subscriptions: SubscriptionHub,
        idempotency: IdempotencyTable,
        metrics: NodeMetrics,
    ) -> None:
        self._region = region
        self._hlc = hlc
        self._wal = wal
        self._applier = ApplyQueue(catalog, executor)
        self._subscriptions = subscriptions
        self._idempotency = idempotency
        self._metrics = metrics
        self._listeners: list[WriteListener] = []
        self._observers: list[ApplyObserver] = []
        self._inflight: set[int] = set()

    def add_write_listener(self, listener: WriteListener) -> None:
        self._listeners.append(listener)

    def add_observer(self, observer: ApplyObserver) -> None:
        self._observers.append(observer)

    def applied_through(self) -> int:
        """The highest WAL sequence at or below which every op has been applied."""
        return (min(self._inflight) - 1) if self._inflight else self._wal.last_seq

    async def write(
        self,
        kind: OpKind,
        name: str,
        *,
        records: tuple[RecordData, ...] = (),
        ids: tuple[str, ...] = (),
        spec: CollectionSpec | None = None,
        key: str = "",
    ) -> Outcome:
        """A local write: stamped here, then logged, applied and published."""
        op = OpRecord(
            hlc=self._hlc.tick(),
            origin=self._region,
            collection=name,
            op=kind,
            records=records,
            ids=ids,
            spec=spec.to_data() if spec else None,
            seq=self._wal.last_seq + 1,
            key=key,
        )
        outcome = await self._log_and_apply(op, source="local")
        for listener in self._listeners:
            result = listener(op)
            if inspect.isawaitable(result):
                await result
        return outcome

    async def apply_remote(self, op: OpRecord) -> bool:
        """Apply an op from another node or region; durable once this returns."""
        self._hlc.observe(op.hlc)
        outcome = await self._log_and_apply(op, source="remote")
        return outcome.changed

    async def apply_remote_batch(self, ops: Sequence[OpRecord]) -> list[bool]:
        """Apply ops from elsewhere in this order; all durable once this returns."""
        for op in ops:
            self._hlc.observe(op.hlc)
        seqs = self._wal.append_many_nowait([encode_op(op) for op in ops])
        self._inflight.update(seqs)
        try:
            await self._wal.wait_durable()
            outcomes = await self._applier.apply(ops)
        finally:
            self._inflight.difference_update(seqs)
        kinds: dict[str, int] = {}
        for op in ops:
            kinds[op.op.value] = kinds.get(op.op.value, 0) + 1
        for kind, count in kinds.items():  # one label lookup per kind, not per op
            self._metrics.writes.labels(kind, "remote").inc(count)
        for op, outcome in zip(ops, outcomes, strict=True):
            await self._after_apply(op, outcome)
        return [outcome.changed for outcome in outcomes]

    async def _log_and_apply(self, op: OpRecord, *, source: str) -> Outcome:
        seq = self._wal.append_nowait(encode_op(op))
        self._inflight.add(seq)
        try:
            await self._wal.wait_durable()
            (outcome,) = await self._applier.apply((op,))
        finally:
            self._inflight.discard(seq)
        self._metrics.writes.labels(op.op.value, source).inc()
        await self._after_apply(op, outcome)
        return outcome

    async def _after_apply(self, op: OpRecord, outcome: Outcome) -> None:
        if outcome.dropped is not None:
            self._subscriptions.close_collection(op.collection)
        # Matched on the hub's own thread; awaited so a write's matches are queued
        # before its answer.
        if outcome.upserted:
            await self._subscriptions.upserted(op.collection, outcome.upserted)
        if outcome.deleted:
            await self._subscriptions.deleted(op.collection, outcome.deleted)
        if op.key:
            answer = answer_for(op, deleted=len(outcome.deleted))
            self._idempotency.remember(op.collection, op.key, answer)
        for observer in self._observers:
            observer(op, outcome)
