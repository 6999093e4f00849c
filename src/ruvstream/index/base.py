"""What every vector index in ruvstream offers: slots in, scored slots out.

Indexes speak in dense integer *slots* (0, 1, 2, ... in insertion order);
mapping string ids to slots is the collection's job. Scores are "higher is
better" for every metric: cosine similarity, inner product, or the negative
Euclidean distance. Removal retires a slot for good (a tombstone); the owner
rebuilds into ``empty_like()`` once tombstones pile up.

Thread safety: searches may run concurrently with each other, never with a
write; the owner serialises writes (``engine.collection`` holds a
readers-writer lock around every call).

Backends are chosen by name through ``index.factory``; one contract suite
(tests/unit/test_index_contract.py) runs over all of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = ["Allowed", "Matrix", "SearchResult", "Slots", "VectorIndex"]

Matrix = npt.NDArray[np.float32]
Slots = npt.NDArray[np.int64]
Allowed = npt.NDArray[np.bool_]
SearchResult = tuple[Matrix, Slots]
"""(scores, slots), each of shape (queries, k); missing results have slot -1."""


class VectorIndex(Protocol):
    dim: int
    metric: str

    @property
    def size(self) -> int:
        """Slots ever assigned (live and removed)."""

    @property
    def live(self) -> Allowed:
        """A boolean mask over slots: True where the slot holds a live vector."""

    @property
    def removed(self) -> int:
        """Slots retired by ``remove``: what a rebuild would reclaim."""

    def add(self, vectors: Matrix) -> Slots:
        """Store vectors in new slots; returns the slots, in order."""

    def remove(self, slots: Slots) -> None:
        """Retire slots: they are never returned again."""

    def vectors(self, slots: Slots) -> Matrix:
        """The stored vectors (unit length for cosine) of the given slots."""

    def search(
        self, queries: Matrix, k: int, *, ef: int | None = None, allowed: Allowed | None = None
    ) -> SearchResult:
        """Top-k live slots per query, best first.

        ``allowed`` (at least ``size`` long) restricts the candidates; ``ef``
        is the search-time effort where the backend has one, else ignored.
        """

    def memory_bytes(self) -> int:
        """What the index holds in memory, vectors included."""

    def save(self, path: Path) -> None:
        """Write the index's files into the directory ``path``."""

    def load(self, path: Path) -> None:
        """Replace this (empty) index's content with what ``save`` wrote."""

    def empty_like(self) -> VectorIndex:
        """A new, empty index of the same backend, metric and parameters."""
