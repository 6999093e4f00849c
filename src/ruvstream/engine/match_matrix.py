"""One collection's standing queries as arrays: what a write batch is matched against.

``QueryMatrix`` keeps every subscription's query vector in one contiguous
matrix, over-allocated so adding is amortised O(1) and removing is a swap
with the last row, never a re-stack. Beside each row it keeps the score a
record must reach (``min_score``, or just above the k-th score of a full
top-k set, or minus infinity) and the row's filter group, so a whole batch
is one matrix product and one comparison in numpy.

``FilterGroups`` compiles each distinct filter once (keyed by its canonical
text) and checks it once per record, however many subscriptions share it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ruvstream.core.filters import Predicate
from ruvstream.index.base import Matrix

__all__ = ["NO_FILTER", "FilterGroups", "QueryMatrix"]

NO_FILTER = 0
"""The group of rows without a filter: every record passes it."""
_INITIAL_ROWS = 16

Groups = npt.NDArray[np.int32]
Verdicts = npt.NDArray[np.bool_]


class QueryMatrix:
    """Rows ``0 .. size-1`` are live; row order is the caller's to track."""

    def __init__(self, dim: int) -> None:
        self._vectors: Matrix = np.zeros((_INITIAL_ROWS, dim), dtype=np.float32)
        self._thresholds: Matrix = np.full(_INITIAL_ROWS, -np.inf, dtype=np.float32)
        self._groups: Groups = np.zeros(_INITIAL_ROWS, dtype=np.int32)
        self.size = 0

    def __len__(self) -> int:
        return self.size

    @property
    def capacity(self) -> int:
        return len(self._vectors)

    def add(self, vector: Matrix, threshold: float, group: int) -> int:
        """Append a row; returns its index."""
        if self.size == self.capacity:
            self._grow(2 * self.capacity)
        row = self.size
        self._vectors[row] = vector
        self._thresholds[row] = threshold
        self._groups[row] = group
        self.size += 1
        return row

    def remove(self, row: int) -> int | None:
        """Drop ``row`` by moving the last row into it; returns the moved row's
        old index (the caller renumbers it to ``row``), or None if none moved."""
        last = self.size - 1
        self.size = last
        if row == last:
            return None
        self._vectors[row] = self._vectors[last]
        self._thresholds[row] = self._thresholds[last]
        self._groups[row] = self._groups[last]
        return last

    def set_threshold(self, row: int, threshold: float) -> None:
        self._thresholds[row] = threshold

    def threshold(self, row: int) -> float:
        return float(self._thresholds[row])

    def vectors(self, start: int = 0, stop: int | None = None) -> Matrix:
        return self._vectors[start : self.size if stop is None else stop]

    def thresholds(self, start: int = 0, stop: int | None = None) -> Matrix:
        return self._thresholds[start : self.size if stop is None else stop]

    def groups(self, start: int = 0, stop: int | None = None) -> Groups:
        return self._groups[start : self.size if stop is None else stop]

    def _grow(self, capacity: int) -> None:
        vectors = np.zeros((capacity, self._vectors.shape[1]), dtype=np.float32)
        vectors[: self.size] = self._vectors[: self.size]
        thresholds = np.full(capacity, -np.inf, dtype=np.float32)
        thresholds[: self.size] = self._thresholds[: self.size]
        groups = np.zeros(capacity, dtype=np.int32)
        groups[: self.size] = self._groups[: self.size]
        self._vectors, self._thresholds, self._groups = vectors, thresholds, groups


class FilterGroups:
    """Distinct filters by key, each with the number of rows using it.

    Group ids are small integers reused after release, so ``verdicts`` is a
    dense (groups x records) table the rows index into.
    """

    def __init__(self) -> None:
        self._by_key: dict[str, int] = {}
        self._predicates: list[Predicate | None] = [None]
        self._keys: list[str | None] = [None]
        self._users: list[int] = [0]
        self._free: list[int] = []

    def __len__(self) -> int:
        """Filters in use (not counting ``NO_FILTER``)."""
        return len(self._by_key)

    def acquire(self, key: str, predicate: Predicate) -> int:
        group = self._by_key.get(key)
        if group is None:
            group = self._free.pop() if self._free else len(self._predicates)
            if group == len(self._predicates):
                self._predicates.append(None)
                self._keys.append(None)
                self._users.append(0)
            self._by_key[key] = group
            self._predicates[group] = predicate
            self._keys[group] = key
        self._users[group] += 1
        return group

    def release(self, group: int) -> None:
        if group == NO_FILTER:
            return
        self._users[group] -= 1
        if self._users[group] == 0:
            key = self._keys[group]
            assert key is not None
            del self._by_key[key]
            self._predicates[group] = None
            self._keys[group] = None
            self._free.append(group)

    def verdicts(self, metadata: Sequence[dict[str, Any]]) -> Verdicts:
        """Whether each record passes each group's filter: one call per
        (distinct filter, record); free groups pass nothing."""
        table = np.zeros((len(self._predicates), len(metadata)), dtype=np.bool_)
        table[NO_FILTER] = True
        for group, predicate in enumerate(self._predicates):
            if predicate is not None:
                table[group] = [predicate(meta) for meta in metadata]
        return table
