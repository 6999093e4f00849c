"""A collection: string ids, metadata and versions over one vector index.

This is the state machine every write goes through, whether it comes from a
client, from WAL replay or from another region. Two parts, one lock:

- ``RecordVersions`` (record_versions.py) decides which writes win:
  last-writer-wins on ``(hlc, origin)``, tombstones, the drop floor;
- ``SlotStore`` (slot_store.py) holds what won: the index, ids <-> slots,
  metadata, cached filter masks, compaction.

Thread safety: searches share a readers-writer lock and run in parallel;
writes take it exclusively, because faiss must not add while it searches.
Callers run these methods in an executor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from ruvstream.core.hlc import Version
from ruvstream.core.records import RecordData
from ruvstream.core.rwlock import ReadWriteLock
from ruvstream.core.spec import CollectionSpec
from ruvstream.engine.hits import FoundSlots, Hit, SearchRequest
from ruvstream.engine.record_versions import RecordVersions
from ruvstream.engine.slot_store import SlotStore
from ruvstream.index.base import Matrix, VectorIndex
from ruvstream.index.factory import new_index

__all__ = ["AppliedUpsert", "Collection", "FoundSlots", "Hit", "SearchRequest", "StoredRecord"]

_STATE_FILE = "state.msgpack"


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


def _index_for(spec: CollectionSpec) -> VectorIndex:
    return new_index(
        spec.index,
        spec.dim,
        spec.metric,
        m=spec.m,
        ef_construction=spec.ef_construction,
        ef_search=spec.ef_search,
    )


class Collection:
    def __init__(self, name: str, spec: CollectionSpec, created: Version) -> None:
        self.name = name
        self.spec = spec
        self.created = created
        self.change_count = 0
        self._lock = ReadWriteLock()
        self._versions = RecordVersions()
        self._store = SlotStore(name, _index_for(spec), self._lock)

    @property
    def floor(self) -> Version:
        """Writes at or below this version (the latest drop of the name) never apply."""
        return self._versions.floor

    # -- reads ---------------------------------------------------------------
    @property
    def count(self) -> int:
        return self._store.count

    def memory_bytes(self) -> int:
        """As of the last write: kept by the store, read without the lock, so
        collection info never waits for a write (it runs on the event loop)."""
        return self._store.memory_estimate

    def get(self, record_id: str) -> StoredRecord | None:
        with self._lock.read():
            found = self._store.get(record_id)
        return None if found is None else StoredRecord(record_id, *found)

    def version_of(self, record_id: str) -> Version | None:
        return self._versions.version_of(record_id)

    def search_many(self, requests: Sequence[SearchRequest]) -> list[list[Hit]]:
        """Answer many searches in as few index calls as possible."""
        return [found.hits() for found in self.search_slots(requests)]

    def search_slots(self, requests: Sequence[SearchRequest]) -> list[FoundSlots]:
        """The index part of ``search_many``: slots and scores, not yet hits.

        Turning slots into hits is Python work under the GIL, so the node
        does it on the event loop and its index thread goes straight back to
        the index.
        """
        with self._lock.read():
            return self._store.search_slots(requests)

    # -- writes ----------------------------------------------------------------
    def apply_upsert(self, records: Sequence[RecordData], version: Version) -> list[AppliedUpsert]:
        """Insert or replace; returns the records that won last-writer-wins."""
        return self.apply_upserts([(records, version)])[0]

    def apply_upserts(
        self, writes: Sequence[tuple[Sequence[RecordData], Version]]
    ) -> list[list[AppliedUpsert]]:
        """``apply_upsert`` of each write in turn, for writes whose ids are all
        distinct (so none decides another's outcome), with one index add for all."""
        with self._lock.write():
            winners: list[list[RecordData]] = []
            for records, version in writes:
                latest: dict[str, RecordData] = {}
                for record in records:  # within one op the later record of an id wins
                    if self._versions.newer(record.id, version):
                        latest[record.id] = record
                winners.append(list(latest.values()))
            flat = [record for won in winners for record in won]
            if not flat:
                return [[] for _ in writes]
            stored = self._store.put(flat)
            answers, row = [], 0
            for won, (_, version) in zip(winners, writes, strict=True):
                for record in won:
                    self._versions.written(record.id, version)
                answers.append(
                    [AppliedUpsert(r.id, stored[row + i], r.metadata) for i, r in enumerate(won)]
                )
                row += len(won)
            self.change_count += sum(1 for won in winners if won)
            self._store.maybe_compact()
            return answers

    def apply_delete(self, ids: Sequence[str], version: Version) -> list[str]:
        """Delete by id; returns the ids that were live and are now gone."""
        with self._lock.write():
            removed: list[str] = []
            for record_id in ids:
                if not self._versions.newer(record_id, version):
                    continue
                self._versions.deleted(record_id, version)
                if self._store.discard(record_id):
                    removed.append(record_id)
            if removed:  # a tombstone alone changes nothing a reader can see
                self.change_count += 1
                self._store.maybe_compact()
            return removed

    def truncate_below(self, floor: Version) -> list[str]:
        """Raise the floor: remove every record written before it (a drop arrived)."""
        with self._lock.write():
            stale = self._versions.raise_floor(floor)
            for record_id in stale:
                self._store.discard(record_id)
            if stale:
                self.change_count += 1
                self._store.maybe_compact()
            return stale

    def prune_tombstones(self, older_than_hlc: int) -> int:
        """Forget tombstones older than the replication horizon; returns how many."""
        with self._lock.write():
            return self._versions.prune_tombstones(older_than_hlc)

    def wait_for_compaction(self, timeout: float | None = None) -> None:
        """Block until a running background compaction has swapped in."""
        self._store.wait_for_compaction(timeout)

    # -- persistence -------------------------------------------------------------
    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        with self._lock.read():
            self._store.save(path)
            state = _State(
                slot_ids=self._store.slot_ids,
                metadata=self._store.metadata,
                versions=self._versions.versions,
                tombstones=self._versions.tombstones,
                change_count=self.change_count,
                floor=self._versions.floor,
            )
            (path / _STATE_FILE).write_bytes(msgspec.msgpack.encode(state))

    @classmethod
    def load(cls, path: Path, name: str, spec: CollectionSpec, created: Version) -> Collection:
        collection = cls(name, spec, created)
        state = msgspec.msgpack.decode((path / _STATE_FILE).read_bytes(), type=_State)
        collection._store.restore(path, state.slot_ids, state.metadata)
        floor = (int(state.floor[0]), str(state.floor[1]))
        collection._versions = RecordVersions(state.versions, state.tombstones, floor)
        collection.change_count = state.change_count
        return collection
