"""The node: one region's replica of every collection, behind one async facade.

The facade composes three parts and owns their shared state (the catalog,
the WAL, clocks, subscriptions, idempotency, metrics):

- ``WritePipeline`` (write_pipeline.py): stamp, WAL append, wait durable,
  apply, then subscribers, idempotency and write listeners;
- ``ReadScheduler`` (read_scheduler.py): the index thread pool and one
  micro-batcher per collection;
- ``SnapshotPolicy`` (snapshot_policy.py): when to snapshot, the tombstone
  horizon, the WAL checkpoint.

Replication talks to it through ``ports.ReplicationPort`` only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from ruvstream.config import Settings
from ruvstream.core.clock import Clock, SystemClock
from ruvstream.core.hlc import HybridLogicalClock, physical_ms
from ruvstream.core.records import OpKind, OpRecord, RecordData
from ruvstream.core.spec import CollectionSpec
from ruvstream.engine.apply import Catalog, Outcome
from ruvstream.engine.collection import (
    Collection,
    FoundSlots,
    Hit,
    SearchRequest,
    StoredRecord,
)
from ruvstream.engine.idempotency import IdempotencyTable
from ruvstream.engine.ports import HealthReporter
from ruvstream.engine.read_scheduler import ReadScheduler
from ruvstream.engine.recovery import recover
from ruvstream.engine.snapshot_policy import SnapshotPolicy
from ruvstream.engine.subscriptions import Subscription, SubscriptionHub
from ruvstream.engine.wal_retention import FirstNeeded, WalRetention
from ruvstream.engine.write_pipeline import WriteListener, WritePipeline
from ruvstream.errors import CollectionExistsError, CollectionNotFoundError
from ruvstream.storage.dirlock import DataDirLock
from ruvstream.storage.snapshot import SnapshotStore
from ruvstream.storage.wal import WriteAheadLog
from ruvstream.storage.wal_tail import WalTail
from ruvstream.telemetry import NodeMetrics

T = TypeVar("T")

__all__ = ["Node", "WriteListener"]

log = logging.getLogger(__name__)


class Node:
    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.region = settings.node.region
        self.node_id = settings.node.node_id
        self.clock = clock or SystemClock()
        self.hlc = HybridLogicalClock(self.clock)
        self.catalog = Catalog()
        """Filled by ``open`` and never replaced: the node's parts hold it."""
        self.subscriptions = SubscriptionHub(
            settings.limits.max_subscription_queue,
            settings.limits.max_subscription_queue_bytes,
            refill=self._refill,
        )
        self.metrics = NodeMetrics()
        self.metrics_registry = self.metrics.registry
        self.idempotency = IdempotencyTable(self.clock, settings.limits.idempotency_ttl_seconds)
        self.started_at = self.clock.now()
        self._health_reporters: list[HealthReporter] = []
        self._reads = ReadScheduler(self.catalog, settings.batch, self.metrics)
        data = settings.storage.data_dir
        self._dir_lock = DataDirLock(data)
        self.wal = WriteAheadLog(
            data / "wal",
            fsync=settings.storage.fsync,
            interval=settings.storage.fsync_interval_seconds,
            recovery=settings.storage.wal_recovery,
        )
        self._snapshot_store = SnapshotStore(data / "snapshots")
        self._retention = WalRetention()
        self._writes = WritePipeline(
            region=self.region,
            hlc=self.hlc,
            catalog=self.catalog,
            wal=self.wal,
            executor=self._reads.apply_executor,
            subscriptions=self.subscriptions,
            idempotency=self.idempotency,
            metrics=self.metrics,
        )
        self._snapshots = SnapshotPolicy(
            settings=settings.storage,
            clock=self.clock,
            hlc=self.hlc,
            catalog=self.catalog,
            store=self._snapshot_store,
            wal=self.wal,
            executor=self._reads.executor,
            idempotency=self.idempotency,
            applied_through=self._writes.applied_through,
            retention=self._retention,
        )
        self._writes.add_observer(self._reads.after_apply)
        self._writes.add_observer(self._snapshots.after_apply)
        self._catalog_lock = asyncio.Lock()
        self.metrics.attach(self._scrape_state)

    # -- lifecycle -------------------------------------------------------------
    @classmethod
    async def open(cls, settings: Settings, *, clock: Clock | None = None) -> Node:
        """Restore the last snapshot plus the WAL tail, then accept writes."""
        node = cls(settings, clock=clock)
        started = time.perf_counter()
        recovered = await asyncio.get_running_loop().run_in_executor(
            node._reads.executor, recover, node._snapshot_store, node.wal, node.catalog
        )
        node._snapshots.carried.update(recovered.extras)
        node.idempotency.load(recovered.idempotency)
        for collection, key, hlc, answer in recovered.keyed_ops:
            node.idempotency.remember(collection, key, answer, at=physical_ms(hlc) / 1000.0)
        if recovered.max_hlc:
            node.hlc.observe(recovered.max_hlc)
        # A snapshot copied from a peer carries the peer's sequence numbers: continue
        # after them, or replay would skip this node's own next entries.
        node.wal.open_for_append(min_seq=recovered.snapshot_seq)
        node.wal.start_interval_sync()
        node._snapshots.ops_since_snapshot = recovered.replayed
        log.info(
            "node %s (%s) ready: %d collections, %d WAL entries replayed in %.2fs",
            node.node_id,
            node.region,
            len(node.catalog.collections),
            recovered.replayed,
            time.perf_counter() - started,
        )
        node._snapshots.start()
        return node

    async def close(self, *, snapshot: bool = True) -> None:
        """Flush the WAL, write a final snapshot, release threads."""
        await self._snapshots.stop()
        self.subscriptions.close_all()
        await self._reads.close()
        if snapshot:
            await self.snapshot()
        await self.wal.close()
        self.subscriptions.shutdown()
        self._reads.shutdown()
        self._dir_lock.release()

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

    async def get_record(self, name: str, record_id: str) -> StoredRecord | None:
        """One record, read on the index thread: a write holding the lock waits
        there, never on the event loop."""
        collection = self.collection(name)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reads.executor, collection.get, record_id)

    async def search(self, name: str, request: SearchRequest) -> list[Hit]:
        started = time.perf_counter()
        found = await self.submit_search(name, request)
        self.metrics.observe_search(name, time.perf_counter() - started)
        return found.hits()

    def submit_search(self, name: str, request: SearchRequest) -> asyncio.Future[FoundSlots]:
        """Queue a search without a task of its own; ``hits()`` of the result
        runs on the event loop. Callers that time it report ``observe_search``."""
        self.collection(name)
        return self._reads.submit(name, request)

    async def top_k(self, name: str, request: SearchRequest) -> list[Hit]:
        """A search that skips the batcher (used to seed subscriptions)."""
        return await self._reads.top_k(self.collection(name), request)

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
            filter_key=query.filter_key,
            seed=seed,
        )

    def _refill(self, sub: Subscription) -> list[tuple[str, float]]:
        """A top-k subscription's current result set, searched on the hub's thread
        (the subscription matcher calls it when a member was deleted or fell)."""
        collection = self.catalog.collections.get(sub.collection)
        if collection is None or sub.k is None:
            return []
        request = SearchRequest(
            sub.query, sub.k, predicate=sub.predicate, filter_key=sub.filter_key
        )
        return [(hit.id, hit.score) for hit in collection.search_slots([request])[0].hits()]

    # -- writes ------------------------------------------------------------------
    async def create_collection(
        self, name: str, spec: CollectionSpec, key: str = ""
    ) -> dict[str, Any]:
        async with self._catalog_lock:
            if name in self.catalog.collections:
                raise CollectionExistsError(f"collection {name!r} already exists", collection=name)
            await self._writes.write(OpKind.CREATE_COLLECTION, name, spec=spec, key=key)
            return self.info(name)

    async def drop_collection(self, name: str, key: str = "") -> None:
        async with self._catalog_lock:
            self.collection(name)
            await self._writes.write(OpKind.DROP_COLLECTION, name, key=key)

    async def upsert(self, name: str, records: Sequence[RecordData], key: str = "") -> Outcome:
        self.collection(name)
        return await self._writes.write(OpKind.UPSERT, name, records=tuple(records), key=key)

    async def delete(self, name: str, ids: Sequence[str], key: str = "") -> Outcome:
        self.collection(name)
        return await self._writes.write(OpKind.DELETE, name, ids=tuple(ids), key=key)

    async def apply_remote(self, op: OpRecord) -> bool:
        """Apply an op from another node or region; durable once this returns."""
        return await self._writes.apply_remote(op)

    async def apply_remote_batch(self, ops: Sequence[OpRecord]) -> list[bool]:
        """Apply ops from elsewhere, in order, with one WAL group commit; durable on return."""
        return await self._writes.apply_remote_batch(ops)

    def add_write_listener(self, listener: WriteListener) -> None:
        self._writes.add_write_listener(listener)

    async def snapshot(self) -> Path:
        """Write a snapshot now and drop the WAL segments it covers."""
        return await self._snapshots.snapshot()

    async def snapshot_read(self, read: Callable[[Path], T]) -> T:
        """Write a snapshot and run ``read`` on it (in a thread) while no other can prune it."""
        return await self._snapshots.snapshot_read(read)

    # -- what collaborators see (ports.ReplicationPort, /health) -------------------
    def add_health_reporter(self, reporter: HealthReporter) -> None:
        self._health_reporters.append(reporter)

    def health_reports(self) -> dict[str, Any]:
        """Every health reporter's fields in one dict; ``degraded`` if any says so."""
        merged: dict[str, Any] = {}
        degraded = False
        for report in self._health_reporters:
            fields = report()
            degraded = degraded or bool(fields.get("degraded"))
            merged.update(fields)
        if degraded:
            merged["degraded"] = True
        return merged

    def replication_state(self, name: str) -> dict[str, Any]:
        return dict(self._snapshots.carried.get(name, {}))

    def set_replication_state(self, name: str, state: dict[str, Any]) -> None:
        self._snapshots.carried[name] = dict(state)

    def hold_wal(self, name: str, first_needed: FirstNeeded) -> None:
        """Keep every WAL entry from ``first_needed()`` on through later checkpoints."""
        self._retention.hold(name, first_needed)

    def wal_tail(self, after_seq: int) -> WalTail:
        return WalTail(self.wal.directory, after_seq)

    def durable_through(self) -> int:
        return self._writes.applied_through()

    def state_path(self, name: str) -> Path:
        return self.settings.storage.data_dir / name

    def holds_data(self) -> bool:
        return self.wal.last_seq > 0 or bool(self.catalog.collections)

    @property
    def wal_seq(self) -> int:
        """The sequence number of the last WAL entry (``/health`` reports it)."""
        return self.wal.last_seq

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
