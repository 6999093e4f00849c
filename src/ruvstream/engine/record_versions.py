"""Last-writer-wins record state: the version of the write that last touched each id.

Each record id carries the version ``(hlc, origin)`` of the write that last
touched it; a write whose version is not newer than the one on file changes
nothing. That single rule makes apply idempotent and order-independent, so
replicas converge however ops are duplicated or reordered. Deleted ids keep a
tombstone version so a late, older upsert cannot resurrect them, and the
*floor* (the latest drop of the collection's name) speaks for every write at
or below it.

Not thread-safe: the collection changes it under its write lock only.
"""

from __future__ import annotations

from ruvstream.core.hlc import Version

__all__ = ["NEVER", "RecordVersions"]

NEVER: Version = (-1, "")
"""Older than every real version: the floor of a name never dropped."""


class RecordVersions:
    __slots__ = ("floor", "tombstones", "versions")

    def __init__(
        self,
        versions: dict[str, Version] | None = None,
        tombstones: dict[str, Version] | None = None,
        floor: Version = NEVER,
    ) -> None:
        self.versions: dict[str, Version] = versions if versions is not None else {}
        """Live ids and the version that wrote them."""
        self.tombstones: dict[str, Version] = tombstones if tombstones is not None else {}
        """Deleted ids and the version that deleted them."""
        self.floor = floor
        """Writes at or below this version never apply."""

    def version_of(self, record_id: str) -> Version | None:
        return self.versions.get(record_id) or self.tombstones.get(record_id)

    def newer(self, record_id: str, version: Version) -> bool:
        """Whether a write at ``version`` wins over what is on file for the id."""
        if version <= self.floor:
            return False
        current = self.version_of(record_id)
        return current is None or version > current

    def written(self, record_id: str, version: Version) -> None:
        self.versions[record_id] = version
        self.tombstones.pop(record_id, None)

    def deleted(self, record_id: str, version: Version) -> None:
        self.tombstones[record_id] = version
        self.versions.pop(record_id, None)

    def raise_floor(self, floor: Version) -> list[str]:
        """A drop at ``floor`` arrived: forget and return the live ids written before it."""
        self.floor = max(self.floor, floor)
        stale = [i for i, v in self.versions.items() if v < floor]
        for record_id in stale:
            del self.versions[record_id]
        # The floor now speaks for every older tombstone.
        self.tombstones = {i: v for i, v in self.tombstones.items() if v > floor}
        return stale

    def prune_tombstones(self, older_than_hlc: int) -> int:
        """Forget tombstones older than the replication horizon; returns how many."""
        old = [i for i, v in self.tombstones.items() if v[0] < older_than_hlc]
        for record_id in old:
            del self.tombstones[record_id]
        return len(old)
