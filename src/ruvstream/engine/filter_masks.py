"""Cached filter masks: a recent filter's verdict per slot, kept current by upserts.

Building a mask is a Python pass over every record, so the masks of the
most recent filters are kept. An upsert sets the bits of the slots it wrote;
a delete needs nothing (the index checks each slot's live bit anyway); a
compaction renumbers every slot and so clears the cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from ruvstream.core.filters import Predicate
from ruvstream.index.base import Allowed

__all__ = ["CACHED_MASKS", "FilterMasks"]

CACHED_MASKS = 32


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


class FilterMasks:
    """Masks by the filter's canonical text, least recently used first.

    Concurrent searches look masks up and add them (under the collection's
    read lock), so the table has a lock of its own. ``update`` and ``clear``
    run under the collection's write lock, while no search reads a mask.
    """

    def __init__(self, capacity: int = CACHED_MASKS) -> None:
        self._capacity = capacity
        self._masks: OrderedDict[str, _FilterMask] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Allowed | None:
        with self._lock:
            cached = self._masks.get(key)
            if cached is None:
                return None
            self._masks.move_to_end(key)
            return cached.allowed

    def put(self, key: str, predicate: Predicate, allowed: Allowed) -> None:
        with self._lock:
            self._masks[key] = _FilterMask(predicate, allowed)
            while len(self._masks) > self._capacity:
                self._masks.popitem(last=False)

    def update(self, size: int, slots: Sequence[int], metadata: Sequence[dict[str, Any]]) -> None:
        """Bring every mask up to date with freshly written slots (``size``: slots in use)."""
        with self._lock:
            for mask in self._masks.values():
                mask.cover(size)
                for slot, meta in zip(slots, metadata, strict=True):
                    mask.allowed[slot] = mask.predicate(meta)

    def clear(self) -> None:
        with self._lock:
            self._masks.clear()
