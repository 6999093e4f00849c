"""Cached filter masks: a recent filter's verdict per slot, kept current by upserts.

Building a mask is a Python pass over every record, so the masks of the
most recent filters are kept. An upsert sets the bits of the slots it wrote;
a delete needs nothing (the index checks each slot's live bit anyway); a
compaction renumbers every slot and so clears the cache.

Keeping masks current is work done under the collection's write lock, so it
is bounded: only filters of cost at most ``MAX_CACHED_COST`` are cached, and
one write re-checks at most ``WRITE_BUDGET`` conditions over all masks
(records written times each mask's cost). A mask that would pass the budget
is dropped instead, and the next search with its filter builds it again,
under the read lock, off the write path.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from ruvstream.core.filters import Filter
from ruvstream.index.base import Allowed

__all__ = ["CACHED_MASKS", "MAX_CACHED_COST", "WRITE_BUDGET", "FilterMasks"]

CACHED_MASKS = 32
MAX_CACHED_COST = 64
"""A filter checking more conditions than this per record is never cached."""
WRITE_BUDGET = 200_000
"""Conditions one write may re-check to keep the masks current (about 0.1 s of Python)."""


class _FilterMask:
    """A cached filter's verdict per slot, over-allocated so upserts can grow it."""

    __slots__ = ("allowed", "predicate")

    def __init__(self, predicate: Filter, allowed: Allowed) -> None:
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

    def __init__(
        self,
        capacity: int = CACHED_MASKS,
        max_cost: int = MAX_CACHED_COST,
        write_budget: int = WRITE_BUDGET,
    ) -> None:
        self._capacity = capacity
        self._max_cost = max_cost
        self._write_budget = write_budget
        self._masks: OrderedDict[str, _FilterMask] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._masks)

    def get(self, key: str) -> Allowed | None:
        with self._lock:
            cached = self._masks.get(key)
            if cached is None:
                return None
            self._masks.move_to_end(key)
            return cached.allowed

    def put(self, key: str, predicate: Filter, allowed: Allowed) -> None:
        """Keep a mask, unless its filter costs too much to keep current."""
        if predicate.cost > self._max_cost:
            return
        with self._lock:
            self._masks[key] = _FilterMask(predicate, allowed)
            while len(self._masks) > self._capacity:
                self._masks.popitem(last=False)

    def update(self, size: int, slots: Sequence[int], metadata: Sequence[dict[str, Any]]) -> None:
        """Bring every mask up to date with freshly written slots (``size``: slots in use).

        The most recently used masks are kept first; those past the write
        budget are dropped, not checked.
        """
        with self._lock:
            budget = self._write_budget
            for key, mask in reversed(list(self._masks.items())):
                work = len(slots) * mask.predicate.cost
                if work > budget:
                    del self._masks[key]
                    continue
                budget -= work
                mask.cover(size)
                check = mask.predicate
                allowed = mask.allowed
                for slot, meta in zip(slots, metadata, strict=True):
                    allowed[slot] = check(meta)

    def clear(self) -> None:
        with self._lock:
            self._masks.clear()
