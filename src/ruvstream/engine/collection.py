"""A collection: string ids, metadata and versions over one vector index.

This is the state machine every write goes through, whether it comes from a
client, from WAL replay or from another region. Each record id carries the
version ``(hlc, origin)`` of the write that last touched it; a write whose
version is not newer than the one on file changes nothing. That single rule
makes apply idempotent and order-independent, so replicas converge however
ops are duplicated or reordered. Deleted ids keep a tombstone version so a
late, older upsert cannot resurrect them.

Thread safety: searches share a readers-writer lock and run in parallel;
writes take it exclusively, because faiss must not add while it searches.
Callers run these methods in an executor.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import msgspec
import numpy as np

from ruvstream.core.filters import Predicate
from ruvstream.core.hlc import Version
from ruvstream.core.records import RecordData, vector_from_bytes
from ruvstream.core.rwlock import ReadWriteLock
from ruvstream.core.spec import CollectionSpec
from ruvstream.index.base import Allowed, Matrix, SearchResult, Slots, VectorIndex
from ruvstream.index.factory import new_index

log = logging.getLogger(__name__)

__all__ = ["AppliedUpsert", "Collection", "FoundSlots", "Hit", "SearchRequest", "StoredRecord"]

_COMPACT_MIN_REMOVED = 1000
_CACHED_MASKS = 32
_COMPACT_SHARE = 0.25


class Hit(NamedTuple):
    """One search result; a tuple because thousands are built per batch."""

    id: str
    score: float
    metadata: dict[str, Any]


class FoundSlots:
    """One query's answer as the index gave it: scores and slots.

    ``hits()`` maps slots to ids through the slot table of the moment of the
    search and skips records deleted since, so it may run later, on another
    thread, without a lock.
    """

    __slots__ = ("_collection", "_k", "_row", "_scores", "_slot_ids", "_slots")

    def __init__(
        self,
        collection: Collection,
        slot_ids: list[str | None],
        scores: Matrix,
        slots: np.ndarray[Any, Any],
        row: int,
        k: int,
    ) -> None:
        self._collection = collection
        self._slot_ids = slot_ids
        self._scores = scores  # the whole batch's: rows are cut on the loop, not here
        self._slots = slots
        self._row = row
        self._k = k

    def hits(self) -> list[Hit]:
        # The metadata dict lives as long as the collection; a deleted record is gone from it.
        k, slot_ids, metadata = self._k, self._slot_ids, self._collection._metadata.get
        scores, slots = self._scores[self._row, :k].tolist(), self._slots[self._row, :k].tolist()
        hits: list[Hit] = []
        for score, slot in zip(scores, slots, strict=True):
            if slot < 0:
                break
            record_id = slot_ids[slot]
            if record_id is not None and (meta := metadata(record_id)) is not None:
                hits.append(Hit(record_id, score, meta))
        return hits


@dataclass(frozen=True, slots=True)
class SearchRequest:
    vector: Matrix
    k: int
    ef: int | None = None
    predicate: Predicate | None = None
    filter_key: str | None = None
    """The filter's canonical text: equal keys select the same records."""


@dataclass(frozen=True, slots=True)
class StoredRecord:
    id: str
    vector: Matrix
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AppliedUpsert:
    """A record that won last-writer-wins: what standing queries are told about."""

    id: str
    vector: Matrix
    metadata: dict[str, Any]


class _State(msgspec.Struct):
    """What a snapshot holds besides the index files."""

    slot_ids: list[str | None]
    metadata: dict[str, dict[str, Any]]
    versions: dict[str, tuple[int, str]]
    tombstones: dict[str, tuple[int, str]]
    change_count: int
    floor: tuple[int, str] = (-1, "")


class _FilterMask:
    """A cached filter's verdict per slot, over-allocated so upserts can grow it."""

    __slots__ = ("allowed", "predicate")

    def __init__(self, predicate: Predicate, allowed: Allowed) -> None:
        self.predicate = predicate
        self.allowed = allowed

    def cover(self, size: int) -> None:
        if len(self.allowed) < size:
            grown = np.zeros(max(size, 2 * len(self.allowed)), dtype=np.bool_)
            grown[: len(self.allowed)] = self.allowed
            self.allowed = grown


class Collection:
    def __init__(self, name: str, spec: CollectionSpec, created: Version) -> None:
        self.name = name
        self.spec = spec
        self.created = created
        self.change_count = 0
        self.floor: Version = (-1, "")
        """Writes at or below this version (the latest drop of the name) never apply."""
        self._index = self._new_index()
        self._slot_ids: list[str | None] = []
        self._slots: dict[str, int] = {}
        self._metadata: dict[str, dict[str, Any]] = {}
        self._versions: dict[str, Version] = {}
        self._tombstones: dict[str, Version] = {}
        self._lock = ReadWriteLock()
        self._masks: OrderedDict[str, _FilterMask] = OrderedDict()
        self._compactor: threading.Thread | None = None
        self._mask_lock = threading.Lock()

    def _new_index(self) -> VectorIndex:
        s = self.spec
        return new_index(
            "hnsw", s.dim, s.metric, m=s.m, ef_construction=s.ef_construction, ef_search=s.ef_search
        )

    # -- reads ---------------------------------------------------------------
    @property
    def count(self) -> int:
        return len(self._slots)

    def memory_bytes(self) -> int:
        with self._lock.read():
            # Metadata is estimated from its msgpack size: what a snapshot stores.
            meta = sum(len(m) for m in self._metadata.values()) * 48
            return self._index.memory_bytes() + len(self._slots) * 120 + meta

    def get(self, record_id: str) -> StoredRecord | None:
        with self._lock.read():
            slot = self._slots.get(record_id)
            if slot is None:
                return None
            vector = self._index.vectors(np.array([slot]))[0]
            return StoredRecord(record_id, vector, self._metadata.get(record_id, {}))

    def version_of(self, record_id: str) -> Version | None:
        return self._versions.get(record_id) or self._tombstones.get(record_id)

    def search_many(self, requests: Sequence[SearchRequest]) -> list[list[Hit]]:
        """Answer many searches in as few index calls as possible."""
        return [found.hits() for found in self.search_slots(requests)]

    def search_slots(self, requests: Sequence[SearchRequest]) -> list[FoundSlots]:
        """The index part of ``search_many``: slots and scores, not yet hits.

        Unfiltered queries with the same ``ef`` share one batched call (with
        the largest k, truncated per query); filtered ones go one by one.
        Turning slots into hits is Python work under the GIL, so the node
        does it on the event loop and its index thread goes straight back to
        the index.
        """
        found: dict[int, FoundSlots] = {}
        groups: dict[int | None, list[int]] = {}
        with self._lock.read():
            slot_ids = self._slot_ids  # compaction swaps the list, never edits its mapping
            for i, request in enumerate(requests):
                if request.predicate is None:
                    groups.setdefault(request.ef, []).append(i)
                else:
                    scores, slots = self._search_filtered(request)
                    found[i] = FoundSlots(self, slot_ids, scores, slots, 0, request.k)
            for ef, members in groups.items():
                queries = np.stack([requests[i].vector for i in members])
                k = max(requests[i].k for i in members)
                scores, slots = self._index.search(queries, k, ef=ef)
                for row, i in enumerate(members):
                    found[i] = FoundSlots(self, slot_ids, scores, slots, row, requests[i].k)
        return [found[i] for i in range(len(requests))]

    def _allowed(self, predicate: Predicate, key: str | None) -> Allowed:
        """The slots whose metadata passes the filter.

        Building a mask is a Python pass over every record, so the masks of
        recent filters are kept, and upserts keep them current (a delete only
        clears a slot's live bit, which the index checks anyway).
        """
        if key is not None:
            with self._mask_lock:
                cached = self._masks.get(key)
                if cached is not None:
                    self._masks.move_to_end(key)
                    return cached.allowed
        allowed = np.zeros(self._index.size, dtype=np.bool_)
        for record_id, slot in self._slots.items():
            if predicate(self._metadata.get(record_id, {})):
                allowed[slot] = True
        if key is not None:
            with self._mask_lock:
                self._masks[key] = _FilterMask(predicate, allowed)
                while len(self._masks) > _CACHED_MASKS:
                    self._masks.popitem(last=False)
        return allowed

    def _update_masks(self, slots: Sequence[int], metadata: Sequence[dict[str, Any]]) -> None:
        """Bring every cached mask up to date with freshly written slots (under
        the write lock: no search is reading a mask meanwhile)."""
        with self._mask_lock:
            for mask in self._masks.values():
                mask.cover(self._index.size)
                for slot, meta in zip(slots, metadata, strict=True):
                    mask.allowed[slot] = mask.predicate(meta)

    def _search_filtered(self, request: SearchRequest) -> SearchResult:
        assert request.predicate is not None
        allowed = self._allowed(request.predicate, request.filter_key)
        return self._index.search(
            request.vector[None, :], request.k, ef=request.ef, allowed=allowed
        )

    # -- writes ----------------------------------------------------------------
    def _newer(self, record_id: str, version: Version) -> bool:
        if version <= self.floor:
            return False
        current = self._versions.get(record_id) or self._tombstones.get(record_id)
        return current is None or version > current

    def apply_upsert(self, records: Sequence[RecordData], version: Version) -> list[AppliedUpsert]:
        """Insert or replace; returns the records that won last-writer-wins."""
        with self._lock.write():
            latest: dict[str, RecordData] = {}
            for record in records:  # within one op the later record of an id wins
                if self._newer(record.id, version):
                    latest[record.id] = record
            if not latest:
                return []
            replaced = [self._slots[i] for i in latest if i in self._slots]
            if replaced:
                self._index.remove(np.array(replaced, dtype=np.int64))
            vectors = np.stack([vector_from_bytes(r.vector) for r in latest.values()])
            slots = self._index.add(vectors).tolist()
            applied: list[AppliedUpsert] = []
            stored = self._index.vectors(np.array(slots, dtype=np.int64))
            for row, (record, slot) in enumerate(zip(latest.values(), slots, strict=True)):
                if record.id in self._slots:
                    self._slot_ids[self._slots[record.id]] = None
                self._slot_ids.append(record.id)
                self._slots[record.id] = slot
                self._metadata[record.id] = record.metadata
                self._versions[record.id] = version
                self._tombstones.pop(record.id, None)
                applied.append(AppliedUpsert(record.id, stored[row], record.metadata))
            self._update_masks(slots, [record.metadata for record in latest.values()])
            self.change_count += 1
            self._maybe_compact()
            return applied

    def apply_delete(self, ids: Sequence[str], version: Version) -> list[str]:
        """Delete by id; returns the ids that were live and are now gone."""
        with self._lock.write():
            removed: list[str] = []
            for record_id in ids:
                if not self._newer(record_id, version):
                    continue
                self._tombstones[record_id] = version
                self._versions.pop(record_id, None)
                self._metadata.pop(record_id, None)
                slot = self._slots.pop(record_id, None)
                if slot is not None:
                    self._index.remove(np.array([slot], dtype=np.int64))
                    self._slot_ids[slot] = None
                    removed.append(record_id)
            if removed:  # a tombstone alone changes nothing a reader can see
                self.change_count += 1
                self._maybe_compact()
            return removed

    def truncate_below(self, floor: Version) -> list[str]:
        """Raise the floor: remove every record written before it (a drop arrived)."""
        with self._lock.write():
            self.floor = max(self.floor, floor)
            stale = [i for i, v in self._versions.items() if v < floor]
            for record_id in stale:
                slot = self._slots.pop(record_id)
                self._index.remove(np.array([slot], dtype=np.int64))
                self._slot_ids[slot] = None
                self._metadata.pop(record_id, None)
                del self._versions[record_id]
            # The floor now speaks for every older tombstone.
            self._tombstones = {i: v for i, v in self._tombstones.items() if v > floor}
            if stale:
                self.change_count += 1
                self._maybe_compact()
            return stale

    def _maybe_compact(self) -> None:
        """Rebuild the graph without tombstones once a quarter of it is dead.

        Called under the write lock. The rebuild takes seconds (about 10 s at
        100k vectors), so it runs aside on a copy of the live vectors while
        searches and writes go on, and only the swap takes the write lock.
        """
        removed = self._index.removed
        if removed < _COMPACT_MIN_REMOVED or removed < _COMPACT_SHARE * self._index.size:
            return
        if self._compactor is not None and self._compactor.is_alive():
            return
        base = self._index
        live_slots = np.flatnonzero(base.live).astype(np.int64)
        vectors = base.vectors(live_slots)
        self._compactor = threading.Thread(
            target=self._compact_aside,
            args=(base, live_slots, vectors),
            name=f"ruvstream-compact-{self.name}",
            daemon=True,
        )
        self._compactor.start()

    def _compact_aside(self, base: VectorIndex, live_slots: Slots, vectors: Matrix) -> None:
        fresh = base.empty_like()
        built = fresh.add(vectors)  # stored vectors are unit length already
        with self._lock.write():
            if self._index is base:  # else a restore replaced the index meanwhile
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
        for record_id, old in self._slots.items():
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
        if dead:  # copied, then deleted or replaced while the graph was built
            fresh.remove(np.array(dead, dtype=np.int64))
        self._slots = moved
        self._slot_ids = slot_ids
        self._index = fresh
        with self._mask_lock:
            self._masks.clear()  # masks are per slot, and every slot moved

    def wait_for_compaction(self, timeout: float | None = None) -> None:
        """Block until a running background compaction has swapped in."""
        compactor = self._compactor
        if compactor is not None:
            compactor.join(timeout)

    def prune_tombstones(self, older_than_hlc: int) -> int:
        """Forget tombstones older than the replication horizon; returns how many."""
        with self._lock.write():
            old = [i for i, v in self._tombstones.items() if v[0] < older_than_hlc]
            for record_id in old:
                del self._tombstones[record_id]
            return len(old)

    # -- persistence -------------------------------------------------------------
    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        with self._lock.read():
            self._index.save(path)
            state = _State(
                slot_ids=self._slot_ids,
                metadata=self._metadata,
                versions=self._versions,
                tombstones=self._tombstones,
                change_count=self.change_count,
                floor=self.floor,
            )
            (path / "state.msgpack").write_bytes(msgspec.msgpack.encode(state))

    @classmethod
    def load(cls, path: Path, name: str, spec: CollectionSpec, created: Version) -> Collection:
        collection = cls(name, spec, created)
        collection._index.load(path)
        state = msgspec.msgpack.decode((path / "state.msgpack").read_bytes(), type=_State)
        collection._slot_ids = state.slot_ids
        collection._slots = {i: slot for slot, i in enumerate(state.slot_ids) if i is not None}
        collection._metadata = state.metadata
        collection._versions = state.versions
        collection._tombstones = state.tombstones
        collection.change_count = state.change_count
        collection.floor = (int(state.floor[0]), str(state.floor[1]))
        return collection
