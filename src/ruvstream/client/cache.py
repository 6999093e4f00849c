"""Search-result cache: LRU with a TTL, invalidated by collection versions.

The key is the whole query (collection, the full vector as float32 bytes, k,
the filter in canonical JSON, and the search parameters), so two queries share
an entry only when the node would answer them identically.

Invariants:

* an entry is served only while younger than ``ttl`` and while its collection
  version is the newest this cache has seen for that collection;
* observing a different version of a collection (in any answer) drops all of
  that collection's entries, and ``invalidate`` does so after the client's own
  writes (a collection dropped and re-created starts again at version 0, so
  any difference counts, not only growth);
* at most ``max_entries`` entries are held; the least recently used goes first.

The clock is injected (a monotonic ``() -> seconds``). Not thread-safe: one
cache belongs to one event loop.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

__all__ = ["CacheStats", "ResultCache"]


@dataclass(frozen=True, slots=True)
class CacheStats:
    hits: int
    misses: int
    evictions: int
    invalidations: int
    size: int


@dataclass(slots=True)
class _Entry:
    collection: str
    version: int | None
    expires: float
    value: Any


class ResultCache:
    def __init__(
        self,
        max_entries: int = 1024,
        ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries <= 0 or ttl <= 0:
            raise ValueError("max_entries and ttl must be positive")
        self.max_entries = max_entries
        self.ttl = ttl
        self.clock = clock
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.invalidations = 0
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._by_collection: dict[str, set[Hashable]] = {}
        self._versions: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def stats(self) -> CacheStats:
        return CacheStats(self.hits, self.misses, self.evictions, self.invalidations, len(self))

    def get(self, key: Hashable) -> Any | None:
        entry = self._entries.get(key)
        if entry is None or entry.expires <= self.clock():
            if entry is not None:
                self._drop(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry.value

    def put(self, key: Hashable, collection: str, version: int | None, value: Any) -> None:
        if version is not None:
            self.observe(collection, version)
        if key in self._entries:
            self._drop(key)
        self._entries[key] = _Entry(collection, version, self.clock() + self.ttl, value)
        self._by_collection.setdefault(collection, set()).add(key)
        while len(self._entries) > self.max_entries:
            oldest = next(iter(self._entries))
            self._drop(oldest)
            self.evictions += 1

    def observe(self, collection: str, version: int) -> None:
        """Record a version seen in an answer; a change drops the collection's entries."""
        known = self._versions.get(collection)
        if known == version:
            return
        self._versions[collection] = version
        if known is not None:
            self.invalidate(collection)

    def invalidate(self, collection: str) -> None:
        keys = self._by_collection.pop(collection, set())
        for key in keys:
            self._entries.pop(key, None)
        if keys:
            self.invalidations += 1

    def clear(self) -> None:
        self._entries.clear()
        self._by_collection.clear()
        self._versions.clear()

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key)
        members = self._by_collection.get(entry.collection)
        if members is not None:
            members.discard(key)
            if not members:
                del self._by_collection[entry.collection]
