"""The read side of a node: the index thread pool and one micro-batcher per collection.

Concurrent searches on a collection coalesce in its batcher into one batched
index call on an index thread; ``FoundSlots.hits()`` then runs on the event
loop, so the index thread goes straight back to the index. The same pool
runs the other blocking engine calls (recovery, snapshots, record reads).

Writes apply on a thread of their own (``apply_executor``): a batcher's
drain worker keeps its index thread for as long as searches keep coming, so
an apply queued behind it would wait for the search load to stop. On its
own thread the apply waits only for the collection's write lock, which is
writer-preferring: at most the search batch that holds the read lock.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import faiss

from ruvstream.config import BatchSettings
from ruvstream.core.records import OpRecord
from ruvstream.engine.apply import Catalog, Outcome
from ruvstream.engine.collection import Collection
from ruvstream.engine.hits import FoundSlots, Hit, SearchRequest
from ruvstream.errors import CollectionNotFoundError
from ruvstream.index.batcher import MicroBatcher
from ruvstream.telemetry import NodeMetrics

__all__ = ["ReadScheduler", "usable_cores"]


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity, not the machine's count,
    so that a node pinned to one core (taskset, cgroup cpusets) does not oversubscribe."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _index_pool(search_threads: int, name: str = "ruvstream-index") -> ThreadPoolExecutor:
    # OpenMP's thread count is per calling thread: each index thread sets its own,
    # so that index threads x OpenMP threads = usable cores (more would oversubscribe).
    threads = max(1, search_threads)
    return ThreadPoolExecutor(
        threads,
        thread_name_prefix=name,
        initializer=faiss.omp_set_num_threads,
        initargs=(max(1, usable_cores() // threads),),
    )


class ReadScheduler:
    def __init__(self, catalog: Catalog, settings: BatchSettings, metrics: NodeMetrics) -> None:
        self._catalog = catalog
        self._settings = settings
        self._metrics = metrics
        self.executor = _index_pool(settings.search_threads)
        self.apply_executor = _index_pool(1, "ruvstream-apply")
        """Runs every apply (see the module docstring), in the order writes reach it."""
        self._batchers: dict[str, MicroBatcher[SearchRequest, FoundSlots]] = {}

    def submit(self, name: str, request: SearchRequest) -> asyncio.Future[FoundSlots]:
        """Queue a search in the collection's batcher (the caller checked it exists)."""
        batcher = self._batchers.get(name)
        if batcher is None:
            batcher = self._batchers[name] = self._new_batcher(name)
        return batcher.submit_nowait(request)

    def _new_batcher(self, name: str) -> MicroBatcher[SearchRequest, FoundSlots]:
        def run(requests: Sequence[SearchRequest]) -> Sequence[FoundSlots | BaseException]:
            collection = self._catalog.collections.get(name)
            if collection is None:
                gone = CollectionNotFoundError(f"collection {name!r} was dropped", collection=name)
                return [gone for _ in requests]
            return collection.search_slots(requests)

        return MicroBatcher(
            run,
            window=self._settings.window_ms / 1000.0,
            max_batch=self._settings.max_batch,
            executor=self.executor,
            on_batch=self._metrics.batch_size.observe,
            concurrency=self._settings.search_threads,
        )

    async def top_k(self, collection: Collection, request: SearchRequest) -> list[Hit]:
        """A search that skips the batcher (used to seed subscriptions)."""
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(self.executor, collection.search_slots, [request])
        return found[0].hits()

    def after_apply(self, op: OpRecord, outcome: Outcome) -> None:
        """A dropped collection's batcher goes with it (queued searches are cancelled)."""
        if outcome.dropped is not None:
            batcher = self._batchers.pop(op.collection, None)
            if batcher is not None:
                asyncio.get_running_loop().create_task(batcher.close())

    async def close(self) -> None:
        """Stop batching; the pool stays up for the final snapshot (see ``shutdown``)."""
        for batcher in self._batchers.values():
            await batcher.close()

    def shutdown(self) -> None:
        self.apply_executor.shutdown(wait=True)
        self.executor.shutdown(wait=True)
