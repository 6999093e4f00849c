"""The slot store: record ids <-> index slots, metadata, filter masks, compaction.

The index speaks in dense slots; the store maps them to record ids, keeps
each record's metadata and the cached filter masks, answers searches in
slots, and rebuilds the index aside once a quarter of it is dead. Which
writes win is not its business: the collection asks ``RecordVersions`` first.

Thread safety: the owner (the collection) holds ``lock`` around every call,
shared for searches and reads, exclusive for writes. Compaction builds on a
thread of its own and takes the write lock only for the swap. ``slot_ids``
is replaced by the swap, never renumbered in place, so an answer found
before a swap still names the right ids.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ruvstream.core.filters import Filter
from ruvstream.core.records import RecordData, vector_from_bytes
from ruvstream.core.rwlock import ReadWriteLock
from ruvstream.engine.filter_masks import FilterMasks
from ruvstream.engine.hits import FoundSlots, SearchRequest
from ruvstream.index.base import Allowed, Matrix, SearchResult, Slots, VectorIndex

__all__ = ["COMPACT_MIN_REMOVED", "COMPACT_SHARE", "SlotStore"]

log = logging.getLogger(__name__)

COMPACT_MIN_REMOVED = 1000
COMPACT_SHARE = 0.25
"""Rebuild once at least this share of the slots (and the minimum above) is dead."""


class SlotStore:
    def __init__(self, name: str, index: VectorIndex, lock: ReadWriteLock) -> None:
        self.name = name
        self.index = index
        self.slot_ids: list[str | None] = []
        """Slot -> record id (None once deleted or replaced); as long as ``index.size``."""
        self.slots: dict[str, int] = {}
        self.metadata: dict[str, dict[str, Any]] = {}
        self.compactor: threading.Thread | None = None
        self._lock = lock
        self._masks = FilterMasks()
        self._metadata_fields = 0
        self.memory_estimate = self.memory_bytes()
        """``memory_bytes()`` as of the last write: read without the lock (collection info)."""

    # -- reads -----------------------------------------------------------------
    @property
    def count(self) -> int:
        return len(self.slots)

    def memory_bytes(self) -> int:
        # Metadata is estimated from its field count, kept as records come and go.
        meta = self._metadata_fields * 48
        return self.index.memory_bytes() + len(self.slots) * 120 + meta

    def _measured(self) -> None:
        """Refresh ``memory_estimate``; every write calls it under the write lock."""
        self.memory_estimate = self.memory_bytes()

    def get(self, record_id: str) -> tuple[Matrix, dict[str, Any]] | None:
        slot = self.slots.get(record_id)
        if slot is None:
            return None
        return self.index.vectors(np.array([slot]))[0], self.metadata.get(record_id, {})

    def search_slots(self, requests: Sequence[SearchRequest]) -> list[FoundSlots]:
        """Unfiltered queries with the same ``ef`` share one batched index call
        (with the largest k, truncated per query); filtered ones go one by one."""
        found: dict[int, FoundSlots] = {}
        groups: dict[int | None, list[int]] = {}
        slot_ids, metadata = self.slot_ids, self.metadata
        for i, request in enumerate(requests):
            if request.predicate is None:
                groups.setdefault(request.ef, []).append(i)
            else:
                scores, slots = self._search_filtered(request)
                found[i] = FoundSlots(metadata, slot_ids, scores, slots, 0, request.k)
        for ef, members in groups.items():
            queries = np.stack([requests[i].vector for i in members])
            k = max(requests[i].k for i in members)
            scores, slots = self.index.search(queries, k, ef=ef)
            for row, i in enumerate(members):
                found[i] = FoundSlots(metadata, slot_ids, scores, slots, row, requests[i].k)
        return [found[i] for i in range(len(requests))]

    def _search_filtered(self, request: SearchRequest) -> SearchResult:
        assert request.predicate is not None
        allowed = self.allowed(request.predicate, request.filter_key)
        return self.index.search(request.vector[None, :], request.k, ef=request.ef, allowed=allowed)

    def allowed(self, predicate: Filter, key: str | None) -> Allowed:
        """The slots whose metadata passes the filter (cached by ``key`` if given)."""
        if key is not None and (cached := self._masks.get(key)) is not None:
            return cached
        allowed = np.zeros(self.index.size, dtype=np.bool_)
        for record_id, slot in self.slots.items():
            if predicate(self.metadata.get(record_id, {})):
                allowed[slot] = True
        if key is not None:
            self._masks.put(key, predicate, allowed)
        return allowed

    # -- writes ------------------------------------------------------------------
    def put(self, records: Sequence[RecordData]) -> Matrix:
        """Insert or replace records (unique ids); returns their stored vectors, in order."""
        replaced = [self.slots[r.id] for r in records if r.id in self.slots]
        if replaced:
            self.index.remove(np.array(replaced, dtype=np.int64))
        slots = self.index.add(np.stack([vector_from_bytes(r.vector) for r in records])).tolist()
        for record, slot in zip(records, slots, strict=True):
            old = self.slots.get(record.id)
            if old is not None:
                self.slot_ids[old] = None
            self.slot_ids.append(record.id)
            self.slots[record.id] = slot
            self._forget_metadata(record.id)
            self.metadata[record.id] = record.metadata
            self._metadata_fields += len(record.metadata)
        self._masks.update(self.index.size, slots, [record.metadata for record in records])
        self._measured()
        return self.index.vectors(np.array(slots, dtype=np.int64))

    def _forget_metadata(self, record_id: str) -> None:
        old = self.metadata.pop(record_id, None)
        if old is not None:
            self._metadata_fields -= len(old)

    def discard(self, record_id: str) -> bool:
        """Remove a record; returns whether it was there."""
        self._forget_metadata(record_id)
        slot = self.slots.pop(record_id, None)
        if slot is None:
            return False
        self.index.remove(np.array([slot], dtype=np.int64))
        self.slot_ids[slot] = None
        self._measured()
        return True

    # -- compaction ----------------------------------------------------------------
    def maybe_compact(self) -> None:
        """Rebuild the index without tombstones once a quarter of it is dead.

        Called under the write lock. The rebuild takes seconds (about 10 s at
        100k vectors), so it runs aside on a copy of the live vectors while
        searches and writes go on, and only the swap takes the write lock.
        """
        removed = self.index.removed
        if removed < COMPACT_MIN_REMOVED or removed < COMPACT_SHARE * self.index.size:
            return
        if self.compactor is not None and self.compactor.is_alive():
            return
        base = self.index
        live_slots = np.flatnonzero(base.live).astype(np.int64)
        vectors = base.vectors(live_slots)
        self.compactor = threading.Thread(
            target=self._compact_aside,
            args=(base, live_slots, vectors),
            name=f"ruvstream-compact-{self.name}",
            daemon=True,
        )
        self.compactor.start()

    def _compact_aside(self, base: VectorIndex, live_slots: Slots, vectors: Matrix) -> None:
        fresh = base.empty_like()
        built = fresh.add(vectors)  # stored vectors are unit length already
        with self._lock.write():
            if self.index is base:  # else a restore replaced the index meanwhile
                self._swap_in(base, fresh, live_slots, built)
                log.info(
                    "collection %s compacted: %d slots -> %d", self.name, base.size, fresh.size
                )

    def _swap_in(
        self, base: VectorIndex, fresh: VectorIndex, live_slots: Slots, built: Slots
    ) -> None:
        """Make ``fresh`` current, catching up with writes made while it was built."""
        remap = np.full(base.size, -1, dtype=np.int64)
        remap[live_slots] = built
        moved: dict[str, int] = {}
        late: dict[str, int] = {}  # records written after the copy: added to fresh now
        for record_id, old in self.slots.items():
            new = int(remap[old])
            if new >= 0:
                moved[record_id] = new
            else:
                late[record_id] = old
        if late:
            added = fresh.add(base.vectors(np.fromiter(late.values(), dtype=np.int64)))
            moved.update(zip(late, added.tolist(), strict=True))
        slot_ids: list[str | None] = [None] * fresh.size
        for record_id, new in moved.items():
            slot_ids[new] = record_id
        dead = [slot for slot, record_id in enumerate(slot_ids) if record_id is None]
        if dead:  # copied, then deleted or replaced while the index was built
            fresh.remove(np.array(dead, dtype=np.int64))
        self.slots = moved
        self.slot_ids = slot_ids
        self.index = fresh
        self._masks.clear()  # masks are per slot, and every slot moved
        self._measured()

    def wait_for_compaction(self, timeout: float | None = None) -> None:
        """Block until a running background compaction has swapped in."""
        compactor = self.compactor
        if compactor is not None:
            compactor.join(timeout)

    # -- persistence -----------------------------------------------------------------
    def save(self, path: Path) -> None:
        """The index's files; the slot table goes into the collection's state file."""
        self.index.save(path)

    def restore(
        self, path: Path, slot_ids: list[str | None], metadata: dict[str, dict[str, Any]]
    ) -> None:
        """Load what ``save`` wrote, with the slot table saved beside it."""
        self.index.load(path)
        self.slot_ids = slot_ids
        self.slots = {i: slot for slot, i in enumerate(slot_ids) if i is not None}
        self.metadata = metadata
        self._metadata_fields = sum(len(m) for m in metadata.values())
        self._measured()
