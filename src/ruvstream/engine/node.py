"""The node: one region's replica of every collection, behind one async facade.

The write path, for every client write::

    validate -> stamp (HLC, region) -> WAL append (+ fsync policy) -> apply
             -> reply; tell subscribers; tell write listeners (replication)

Ops from other regions take the same path from "WAL append" on
(``apply_remote``), so a replicated op survives a crash exactly like a local
one. Searches go through one micro-batcher per collection.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import faiss

from ruvstream.config import Settings
from ruvstream.core.clock import Clock, SystemClock
from ruvstream.core.hlc import LOGICAL_BITS, HybridLogicalClock, physical_ms
from ruvstream.core.records import OpKind, OpRecord, RecordData, encode_op
from ruvstream.core.spec import CollectionSpec
from ruvstream.engine.apply import Catalog, Outcome, apply_op
from ruvstream.engine.collection import Collection, FoundSlots, Hit, SearchRequest
from ruvstream.engine.idempotency import IdempotencyTable, answer_for
from ruvstream.engine.recovery import recover, write_snapshot
from ruvstream.engine.subscriptions import Subscription, SubscriptionHub
from ruvstream.errors import CollectionExistsError, CollectionNotFoundError
from ruvstream.index.batcher import MicroBatcher
from ruvstream.storage.dirlock import DataDirLock
from ruvstream.storage.snapshot import SnapshotStore
from ruvstream.storage.wal import WriteAheadLog
from ruvstream.telemetry import NodeMetrics

__all__ = ["Node", "WriteListener"]

log = logging.getLogger(__name__)
WriteListener = Callable[[OpRecord], Awaitable[None] | None]


class Node:
    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.region = settings.node.region
        self.node_id = settings.node.node_id
        self.clock = clock or SystemClock()
        self.hlc = HybridLogicalClock(self.clock)
        self.catalog = Catalog()
        self.subscriptions = SubscriptionHub(settings.limits.max_subscription_queue)
        self.metrics = NodeMetrics()
        self.metrics_registry = self.metrics.registry
        self.health_reporters: list[Callable[[], dict[str, Any]]] = []
        self.snapshot_extras: dict[str, Any] = {}
        self.idempotency = IdempotencyTable(self.clock, settings.limits.idempotency_ttl_seconds)
        self.started_at = self.clock.now()
        self._listeners: list[WriteListener] = []
        self._batchers: dict[str, MicroBatcher[SearchRequest, FoundSlots]] = {}
        # OpenMP's thread count is per calling thread: each index thread sets its own,
        # so that index threads x OpenMP threads = cores (more would oversubscribe).
        threads = max(1, settings.batch.search_threads)
        self._executor = ThreadPoolExecutor(
            threads,
            thread_name_prefix="ruvstream-index",
            initializer=faiss.omp_set_num_threads,
            initargs=(max(1, (os.cpu_count() or 1) // threads),),
        )
        data = settings.storage.data_dir
        self._dir_lock = DataDirLock(data)
        self.wal = WriteAheadLog(
            data / "wal",
            fsync=settings.storage.fsync,
            interval=settings.storage.fsync_interval_seconds,
        )
        self._snapshots = SnapshotStore(data / "snapshots")
        self._inflight: set[int] = set()
        self._ops_since_snapshot = 0
        self._snapshot_lock = asyncio.Lock()
        self._catalog_lock = asyncio.Lock()
        self._snapshot_task: asyncio.Task[None] | None = None
        self.metrics.attach(self._scrape_state)

    # -- lifecycle -------------------------------------------------------------
    @classmethod
    async def open(cls, settings: Settings, *, clock: Clock | None = None) -> Node:
        """Restore the last snapshot plus the WAL tail, then accept writes."""
        node = cls(settings, clock=clock)
        started = time.perf_counter()
        recovered = await asyncio.get_running_loop().run_in_executor(
            node._executor, recover, node._snapshots, node.wal
        )
        node.catalog = recovered.catalog
        node.snapshot_extras = recovered.extras
        node.idempotency.load(recovered.idempotency)
        for collection, key, hlc, answer in recovered.keyed_ops:
            node.idempotency.remember(collection, key, answer, at=physical_ms(hlc) / 1000.0)
        if recovered.max_hlc:
            node.hlc.observe(recovered.max_hlc)
        # A snapshot copied from a peer carries the peer's sequence numbers: continue
        # after them, or replay would skip this node's own next entries.
        node.wal.open_for_append(min_seq=recovered.snapshot_seq)
        node.wal.start_interval_sync()
        node._ops_since_snapshot = recovered.replayed
        log.info(
            "node %s (%s) ready: %d collections, %d WAL entries replayed in %.2fs",
            node.node_id,
            node.region,
            len(node.catalog.collections),
            recovered.replayed,
            time.perf_counter() - started,
        )
        node._snapshot_task = asyncio.get_running_loop().create_task(node._snapshot_loop())
        return node

    async def close(self, *, snapshot: bool = True) -> None:
        """Flush the WAL, write a final snapshot, release threads."""
        if self._snapshot_task is not None:
            self._snapshot_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._snapshot_task
        self.subscriptions.close_all()
        for batcher in self._batchers.values():
            await batcher.close()
        if snapshot:
            await self.snapshot()
        await self.wal.close()
        self._executor.shutdown(wait=True)
        self._dir_lock.release()

    def add_write_listener(self, listener: WriteListener) -> None:
        self._listeners.append(listener)

    # -- reads -------------------------------------------------------------------
    def collection(self, name: str) -> Collection:
        try:
            return self.catalog.collections[name]
        except KeyError:
            raise CollectionNotFoundError(
                f"collection {name!r} does not exist", collection=name
            ) from None

    def info(self, name: str) -> dict[str, Any]:
        collection = self.collection(name)
        return {
            "name": name,
            **collection.spec.as_dict(),
            "count": collection.count,
            "version": collection.change_count,
            "memory_bytes": collection.memory_bytes(),
        }

    async def search(self, name: str, request: SearchRequest) -> list[Hit]:
        started = time.perf_counter()
        found = await self.submit_search(name, request)
        self.metrics.observe_search(name, time.perf_counter() - started)
        return found.hits()

    def submit_search(self, name: str, request: SearchRequest) -> asyncio.Future[FoundSlots]:
        """Queue a search without a task of its own; ``hits()`` of the result
        runs on the event loop. Callers that time it report ``observe_search``."""
        self.collection(name)
        batcher = self._batchers.get(name)
        if batcher is None:
            batcher = self._batchers[name] = self._new_batcher(name)
        return batcher.submit_nowait(request)

    def _new_batcher(self, name: str) -> MicroBatcher[SearchRequest, FoundSlots]:
        def run(requests: Sequence[SearchRequest]) -> Sequence[FoundSlots | BaseException]:
            collection = self.catalog.collections.get(name)
            if collection is None:
                gone = CollectionNotFoundError(f"collection {name!r} was dropped", collection=name)
                return [gone for _ in requests]
            return collection.search_slots(requests)

        return MicroBatcher(
            run,
            window=self.settings.batch.window_ms / 1000.0,
            max_batch=self.settings.batch.max_batch,
            executor=self._executor,
            on_batch=self.metrics.batch_size.observe,
            concurrency=self.settings.batch.search_threads,
        )

    async def top_k(self, name: str, request: SearchRequest) -> list[Hit]:
        """A search that skips the batcher (used to seed subscriptions)."""
        collection = self.collection(name)
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(self._executor, collection.search_slots, [request])
        return found[0].hits()

    async def subscribe(
        self, name: str, query: SearchRequest, min_score: float | None
    ) -> Subscription:
        """A standing query: ``min_score`` if given, else the top ``query.k``,
        seeded with the current top-k so only records that enter it are pushed."""
        collection = self.collection(name)
        seed = await self.top_k(name, query) if min_score is None else []
        return self.subscriptions.create(
            name,
            collection.spec.metric,
            query.vector,
            k=None if min_score is not None else query.k,
            min_score=min_score,
            predicate=query.predicate,
            seed=seed,
        )

    # -- writes ------------------------------------------------------------------
    async def create_collection(
        self, name: str, spec: CollectionSpec, key: str = ""
    ) -> dict[str, Any]:
        async with self._catalog_lock:
            if name in self.catalog.collections:
                raise CollectionExistsError(f"collection {name!r} already exists", collection=name)
            await self._write(OpKind.CREATE_COLLECTION, name, spec=spec, key=key)
            return self.info(name)

    async def drop_collection(self, name: str, key: str = "") -> None:
        async with self._catalog_lock:
            self.collection(name)
            await self._write(OpKind.DROP_COLLECTION, name, key=key)

    async def upsert(self, name: str, records: Sequence[RecordData], key: str = "") -> Outcome:
        self.collection(name)
        return await self._write(OpKind.UPSERT, name, records=tuple(records), key=key)

    async def delete(self, name: str, ids: Sequence[str], key: str = "") -> Outcome:
        self.collection(name)
        return await self._write(OpKind.DELETE, name, ids=tuple(ids), key=key)

    async def _write(
        self,
        kind: OpKind,
        name: str,
        *,
        records: tuple[RecordData, ...] = (),
        ids: tuple[str, ...] = (),
        spec: CollectionSpec | None = None,
        key: str = "",
    ) -> Outcome:
        op = OpRecord(
            hlc=self.hlc.tick(),
            origin=self.region,
            collection=name,
            op=kind,
            records=records,
            ids=ids,
            spec=spec.to_data() if spec else None,
            seq=self.wal.last_seq + 1,
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
        self.hlc.observe(op.hlc)
        outcome = await self._log_and_apply(op, source="remote")
        return outcome.changed

    async def _log_and_apply(self, op: OpRecord, *, source: str) -> Outcome:
        seq = self.wal.append_nowait(encode_op(op))
        self._inflight.add(seq)
        try:
            await self.wal.wait_durable()
            loop = asyncio.get_running_loop()
            outcome = await loop.run_in_executor(self._executor, apply_op, self.catalog, op)
        finally:
            self._inflight.discard(seq)
        self.metrics.writes.labels(op.op.value, source).inc()
        self._after_apply(op, outcome)
        return outcome

    def _after_apply(self, op: OpRecord, outcome: Outcome) -> None:
        if outcome.dropped is not None:
            self.subscriptions.close_collection(op.collection)
            batcher = self._batchers.pop(op.collection, None)
            if batcher is not None:
                asyncio.get_running_loop().create_task(batcher.close())
        if outcome.upserted:
            self.subscriptions.on_upserts(op.collection, outcome.upserted)
        if outcome.deleted:
            self.subscriptions.on_deletes(op.collection, outcome.deleted)
        if op.key:
            answer = answer_for(op, deleted=len(outcome.deleted))
            self.idempotency.remember(op.collection, op.key, answer)
        self._ops_since_snapshot += 1
        if self._ops_since_snapshot >= self.settings.storage.snapshot_every_ops:
            self._ops_since_snapshot = 0
            asyncio.get_running_loop().create_task(self.snapshot())

    # -- snapshots ---------------------------------------------------------------
    async def snapshot(self) -> Path:
        """Write a snapshot now and drop the WAL segments it covers."""
        async with self._snapshot_lock:
            covered = (min(self._inflight) - 1) if self._inflight else self.wal.last_seq
            horizon_s = self.clock.now() - self.settings.storage.tombstone_retention_seconds
            horizon = int(horizon_s * 1000) << LOGICAL_BITS
            for collection in list(self.catalog.collections.values()):
                collection.prune_tombstones(horizon)
            loop = asyncio.get_running_loop()
            path = await loop.run_in_executor(
                self._executor,
                lambda: write_snapshot(
                    self._snapshots,
                    self.catalog,
                    covered,
                    hlc=self.hlc.last,
                    extras=dict(self.snapshot_extras),
                    idempotency=self.idempotency.export(),
                ),
            )
            self.wal.checkpoint(covered)
            self._ops_since_snapshot = 0
            return path

    async def _snapshot_loop(self) -> None:
        interval = self.settings.storage.snapshot_interval_seconds
        while True:
            await asyncio.sleep(interval)
            if self._ops_since_snapshot:
                try:
                    await self.snapshot()
                except Exception:
                    log.exception("periodic snapshot failed; the WAL still holds every write")

    # -- reporting ---------------------------------------------------------------
    def _scrape_state(self) -> dict[str, Any]:
        return {
            "collections": {
                name: (c.count, c.memory_bytes())
                for name, c in list(self.catalog.collections.items())
            },
            "wal_bytes": self.wal.bytes_written,
            "wal_fsyncs": self.wal.fsyncs,
            "subscriptions": len(self.subscriptions),
        }
