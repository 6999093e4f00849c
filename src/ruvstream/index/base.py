"""What every vector index in ruvstream offers: slots in, scored slots out.

Indexes speak in dense integer *slots* (0, 1, 2, ... in insertion order);
mapping string ids to slots is the collection's job. Scores are "higher is
better" for every metric: cosine similarity, inner product, or the negative
Euclidean distance. Implementations are not thread-safe: the owner
serialises calls (``engine.collection`` holds a lock around each).
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

    def add(self, vectors: Matrix) -> Slots:
        """Store vectors in new slots; returns the slots, in order."""

    def remove(self, slots: Slots) -> None:
        """Retire slots: they are never returned again."""

    def vectors(self, slots: Slots) -> Matrix:
        """The stored vectors (unit length for cosine) of the given slots."""

    def search(
        self, queries: Matrix, k: int, *, ef: int | None = None, allowed: Allowed | None = None
    ) -> SearchResult:
        """Top-k live slots per query, best first; ``allowed`` restricts the candidates."""

    def memory_bytes(self) -> int: ...

    def save(self, path: Path) -> None: ...
