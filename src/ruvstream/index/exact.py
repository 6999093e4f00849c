"""Exact (brute-force) search: a backend of its own, the oracle for ANN tests,
and the fallback of HNSW for selective filters, where a graph walk would run
out of matching neighbours.

``ExactIndex`` scans every live vector per query: answers are exact and cost
grows linearly with the collection, which suits small collections and ones
where recall must be 1.0. The helpers below are shared with the HNSW backend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ruvstream.index.base import Allowed, Matrix, SearchResult, Slots

__all__ = ["ExactIndex", "exact_scores", "exact_search", "prepare"]

_INITIAL_SLOTS = 1024
SCORE_BLOCK = 1 << 24
"""Score-matrix cells (queries x vectors) computed at once: 64 MiB of float32, so a
batch over a large exact collection is scored in blocks of queries, not all at once."""


def prepare(vectors: Matrix, metric: str) -> Matrix:
    """Vectors as the index stores them: unit length for cosine, as given otherwise."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if metric != "cosine":
        return vectors  # type: ignore[no-any-return]
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))[:, None]
    np.maximum(norms, np.float32(1e-12), out=norms)
    unit: Matrix = vectors / norms
    return unit


def exact_scores(queries: Matrix, vectors: Matrix, metric: str) -> Matrix:
    """Score matrix (queries x vectors); inputs already ``prepare``d."""
    if metric == "l2":
        sq = (
            (queries * queries).sum(axis=1)[:, None]
            - 2.0 * (queries @ vectors.T)
            + (vectors * vectors).sum(axis=1)[None, :]
        )
        distances: Matrix = np.sqrt(np.maximum(sq, 0.0)).astype(np.float32)
        return -distances
    scores: Matrix = (queries @ vectors.T).astype(np.float32, copy=False)  # no copy when float32
    return scores


def exact_search(
    queries: Matrix, vectors: Matrix, slots: Slots, k: int, metric: str
) -> SearchResult:
    """Top-k of ``vectors`` (whose slot numbers are ``slots``) for each query."""
    n_queries = queries.shape[0]
    out_scores = np.full((n_queries, k), -np.inf, dtype=np.float32)
    out_slots = np.full((n_queries, k), -1, dtype=np.int64)
    if len(slots) == 0:
        return out_scores, out_slots
    scores = exact_scores(queries, vectors, metric)
    take = min(k, len(slots))
    top = np.argpartition(-scores, take - 1, axis=1)[:, :take]
    top_scores = np.take_along_axis(scores, top, axis=1)
    order = np.argsort(-top_scores, axis=1, kind="stable")
    out_scores[:, :take] = np.take_along_axis(top_scores, order, axis=1)
    out_slots[:, :take] = slots[np.take_along_axis(top, order, axis=1)]
    return out_scores, out_slots


class ExactIndex:
    """Vectors in one numpy matrix, over-allocated so adds are amortised O(1)."""

    def __init__(self, dim: int, metric: str) -> None:
        self.dim = dim
        self.metric = metric
        self._vectors: Matrix = np.zeros((_INITIAL_SLOTS, dim), dtype=np.float32)
        self._live: Allowed = np.zeros(_INITIAL_SLOTS, dtype=np.bool_)
        self._size = 0
        self._removed = 0

    @property
    def size(self) -> int:
        return self._size

    @property
    def live(self) -> Allowed:
        return self._live[: self._size]

    @property
    def removed(self) -> int:
        return self._removed

    def memory_bytes(self) -> int:
        return int(self._vectors.nbytes + self._live.nbytes)

    def add(self, vectors: Matrix) -> Slots:
        vectors = prepare(vectors, self.metric)
        start, end = self._size, self._size + vectors.shape[0]
        if end > len(self._live):
            self._grow(max(end, 2 * len(self._live)))
        self._vectors[start:end] = vectors
        self._live[start:end] = True
        self._size = end
        return np.arange(start, end, dtype=np.int64)

    def _grow(self, capacity: int) -> None:
        vectors = np.zeros((capacity, self.dim), dtype=np.float32)
        vectors[: self._size] = self._vectors[: self._size]
        live = np.zeros(capacity, dtype=np.bool_)
        live[: self._size] = self._live[: self._size]
        self._vectors, self._live = vectors, live

    def remove(self, slots: Slots) -> None:
        slots = np.asarray(slots, dtype=np.int64)
        self._removed += int(np.count_nonzero(self._live[slots]))
        self._live[slots] = False

    def vectors(self, slots: Slots) -> Matrix:
        return self._vectors[: self._size][np.asarray(slots, dtype=np.int64)].copy()

    def search(
        self, queries: Matrix, k: int, *, ef: int | None = None, allowed: Allowed | None = None
    ) -> SearchResult:
        queries = prepare(queries, self.metric)
        stored = self._vectors[: self._size]
        if allowed is None and not self._removed:  # every slot: no copy of the matrix
            return self._in_blocks(queries, stored, np.arange(self._size), k)
        mask = self.live if allowed is None else np.logical_and(self.live, allowed[: self._size])
        slots = np.flatnonzero(mask).astype(np.int64)
        return self._in_blocks(queries, stored[slots], slots, k)

    def _in_blocks(self, queries: Matrix, vectors: Matrix, slots: Slots, k: int) -> SearchResult:
        rows = max(1, SCORE_BLOCK // max(1, len(slots)))
        if rows >= len(queries):
            return exact_search(queries, vectors, slots, k, self.metric)
        parts = [
            exact_search(queries[start : start + rows], vectors, slots, k, self.metric)
            for start in range(0, len(queries), rows)
        ]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def empty_like(self) -> ExactIndex:
        return ExactIndex(self.dim, self.metric)

    def save(self, path: Path) -> None:
        np.save(path / "vectors.npy", self._vectors[: self._size])
        np.save(path / "live.npy", self.live)

    def load(self, path: Path) -> None:
        vectors = np.load(path / "vectors.npy")
        live = np.load(path / "live.npy")
        self._size = 0
        self._grow(max(_INITIAL_SLOTS, len(live)))
        self._vectors[: len(live)] = vectors
        self._live[: len(live)] = live
        self._size = len(live)
        self._removed = int(len(live) - np.count_nonzero(live))
