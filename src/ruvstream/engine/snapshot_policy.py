"""When a node snapshots, and what a snapshot takes with it.

A snapshot is written every ``snapshot_every_ops`` applied ops, every
``snapshot_interval_seconds`` if anything changed, and on shutdown. Before
writing, tombstones older than the retention horizon are forgotten (replicas
further behind than that restore from a snapshot anyway); after, the WAL
segments the snapshot covers are dropped, except those holding an entry some
part of the node still needs (``wal_retention``): among them every entry after
the oldest retained snapshot, so a damaged newest one can fall back to it.
``carried`` holds named state that other parts of the node (replication)
need back after a restore.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any, TypeVar

from ruvstream.config import StorageSettings
from ruvstream.core.clock import Clock
from ruvstream.core.hlc import LOGICAL_BITS, HybridLogicalClock
from ruvstream.core.records import OpRecord
from ruvstream.engine.apply import Catalog, Outcome
from ruvstream.engine.idempotency import IdempotencyTable
from ruvstream.engine.recovery import write_snapshot
from ruvstream.engine.wal_retention import WalRetention
from ruvstream.storage.snapshot import SnapshotStore
from ruvstream.storage.wal import WriteAheadLog

__all__ = ["SnapshotPolicy"]

T = TypeVar("T")
log = logging.getLogger(__name__)


class SnapshotPolicy:
    def __init__(
        self,
        *,
        settings: StorageSettings,
        clock: Clock,
        hlc: HybridLogicalClock,
        catalog: Catalog,
        store: SnapshotStore,
        wal: WriteAheadLog,
        executor: Executor,
        idempotency: IdempotencyTable,
        applied_through: Callable[[], int],
        retention: WalRetention,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._hlc = hlc
        self._catalog = catalog
        self._store = store
        self._wal = wal
        self._executor = executor
        self._idempotency = idempotency
        self._applied_through = applied_through
        self._retention = retention
        # A fallback to an older snapshot (or to none) replays the WAL after it.
        retention.hold("snapshots", self._first_needed_by_snapshots)
        self.carried: dict[str, Any] = {}
        """Named state written into every snapshot and restored with it."""
        self.ops_since_snapshot = 0
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def _first_needed_by_snapshots(self) -> int:
        """After the oldest retained snapshot; from seq 1 while there is only one,
        whose fallback is the whole WAL."""
        retained = self._store.retained_seqs()
        return retained[0] + 1 if len(retained) >= 2 else 1

    def after_apply(self, op: OpRecord, outcome: Outcome) -> None:
        """Count an applied op; past ``snapshot_every_ops`` a snapshot starts aside."""
        self.ops_since_snapshot += 1
        if self.ops_since_snapshot >= self._settings.snapshot_every_ops:
            self.ops_since_snapshot = 0
            asyncio.get_running_loop().create_task(self.snapshot())

    def tombstone_horizon(self) -> int:
        """The HLC below which tombstones are forgotten."""
        horizon_s = self._clock.now() - self._settings.tombstone_retention_seconds
        return int(horizon_s * 1000) << LOGICAL_BITS

    def _prune_tombstones(self, horizon: int) -> None:
        for collection in list(self._catalog.collections.values()):
            collection.prune_tombstones(horizon)

    async def snapshot(self) -> Path:
        """Write a snapshot now and drop the WAL segments it covers."""
        async with self._lock:
            return await self._write()

    async def snapshot_read(self, read: Callable[[Path], T]) -> T:
        """Write a snapshot and run ``read`` on it (in a thread) before a later one can prune
        it: two bootstraps at once must not see the first one's directory go mid-read."""
        async with self._lock:
            path = await self._write()
            return await asyncio.get_running_loop().run_in_executor(None, read, path)

    async def _write(self) -> Path:
        covered = self._applied_through()
        horizon = self.tombstone_horizon()
        loop = asyncio.get_running_loop()
        # Pruning takes each collection's write lock: on the index thread, never the loop.
        await loop.run_in_executor(self._executor, self._prune_tombstones, horizon)
        path = await loop.run_in_executor(
            self._executor,
            lambda: write_snapshot(
                self._store,
                self._catalog,
                covered,
                hlc=self._hlc.last,
                extras=dict(self.carried),
                idempotency=self._idempotency.export(),
            ),
        )
        self._wal.checkpoint(self._retention.floor(covered))
        self.ops_since_snapshot = 0
        return path

    def start(self) -> None:
        """Snapshot every interval from now on (while anything changed)."""
        self._task = asyncio.get_running_loop().create_task(self._every_interval())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _every_interval(self) -> None:
        interval = self._settings.snapshot_interval_seconds
        while True:
            await asyncio.sleep(interval)
            if self.ops_since_snapshot:
                try:
                    await self.snapshot()
                except Exception:
                    log.exception("periodic snapshot failed; the WAL still holds every write")
