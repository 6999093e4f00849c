"""HNSW through faiss (``IndexHNSWFlat``): the production index.

Why faiss: measured side by side on GloVe-50 100k (M=16, efConstruction=200,
2 cores, see README), faiss reached the best recall per query-second of
faiss, hnswlib and usearch, releases the GIL for the whole batch, and
filters inside the graph walk with a C++ bitmap selector (``IDSelectorBitmap``)
instead of a Python callback.

faiss HNSW cannot delete, so removal is a tombstone bit: searches then pass the
live mask as a selector, and the owner rebuilds into ``empty_like()`` once
tombstones pile up. Filters that keep few candidates go to exact search over just those
candidates: a graph walk restricted to 1% of the nodes loses its way, a scan of
1% of the vectors is cheap and exact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faiss as _faiss
import numpy as np

from ruvstream.index.base import Allowed, Matrix, SearchResult, Slots
from ruvstream.index.exact import exact_search, prepare

__all__ = ["EXACT_CANDIDATE_LIMIT", "HnswIndex"]

# faiss's generated stubs lack much of what it exports (SearchParametersHNSW, get_xb).
faiss: Any = _faiss

EXACT_CANDIDATE_LIMIT = 20_000
"""Filtered searches with at most this many candidates are answered exactly."""
_EXACT_SHARE = 0.05
"""...and so are those whose candidates are under this share of all slots."""
_MAX_EF = 2048


class HnswIndex:
    def __init__(
        self,
        dim: int,
        metric: str,
        *,
        m: int = 16,
        ef_construction: int = 200,
        ef_search: int = 200,
    ) -> None:
        self.dim = dim
        self.metric = metric
        self.m = m
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        faiss_metric = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
        self._index: Any = faiss.IndexHNSWFlat(dim, m, faiss_metric)
        self._index.hnsw.efConstruction = ef_construction
        self._index.hnsw.efSearch = ef_search
        self._live = np.zeros(1024, dtype=np.bool_)
        self._removed = 0
        self._params: dict[int, Any] = {}

    # -- sizes -------------------------------------------------------------
    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def live(self) -> Allowed:
        return self._live[: self.size]

    @property
    def removed(self) -> int:
        return self._removed

    def memory_bytes(self) -> int:
        hnsw = self._index.hnsw
        graph = hnsw.neighbors.size() * 4 + hnsw.offsets.size() * 8 + hnsw.levels.size() * 4
        return int(self.size * self.dim * 4 + graph + self._live.nbytes)

    # -- writes --------------------------------------------------------------
    def add(self, vectors: Matrix) -> Slots:
        vectors = prepare(vectors, self.metric)
        start = self.size
        end = start + vectors.shape[0]
        if end > len(self._live):
            grown = np.zeros(max(end, 2 * len(self._live)), dtype=np.bool_)
            grown[:start] = self._live[:start]
            self._live = grown
        self._index.add(vectors)
        self._live[start:end] = True
        return np.arange(start, end, dtype=np.int64)

    def remove(self, slots: Slots) -> None:
        slots = np.asarray(slots, dtype=np.int64)
        was_live = self._live[slots]
        self._removed += int(np.count_nonzero(was_live))
        self._live[slots] = False

    def vectors(self, slots: Slots) -> Matrix:
        return self._storage()[np.asarray(slots, dtype=np.int64)].copy()

    def _storage(self) -> Matrix:
        """A zero-copy view of the vectors faiss holds (valid until the next add)."""
        flat = faiss.downcast_index(self._index.storage)
        view: Matrix = faiss.rev_swig_ptr(flat.get_xb(), self.size * self.dim)
        return view.reshape(self.size, self.dim)

    # -- reads ---------------------------------------------------------------
    def search(
        self, queries: Matrix, k: int, *, ef: int | None = None, allowed: Allowed | None = None
    ) -> SearchResult:
        queries = prepare(queries, self.metric)
        mask = self._candidates(allowed)
        if mask is not None:
            n_candidates = int(np.count_nonzero(mask))
            share = n_candidates / max(self.size, 1)
            if allowed is not None and (
                n_candidates <= EXACT_CANDIDATE_LIMIT or share < _EXACT_SHARE
            ):
                return self._exact(queries, k, mask)
        ef = max(ef or self.ef_search, k)
        if mask is None:
            # Per-call parameters (concurrent searches may ask for different ef),
            # built once per ef: faiss only reads them, so calls can share one.
            params = self._params.get(ef)
            if params is None:
                params = self._params.setdefault(ef, faiss.SearchParametersHNSW(efSearch=ef))
            distances, slots = self._index.search(queries, k, params=params)
            return self._scores(distances), slots
        # A selector hides non-candidates from the results but not from the walk:
        # widen the beam in proportion so the walk still meets k candidates.
        ef = min(_MAX_EF, max(ef, int(ef / max(share, 1e-9))))
        packed = np.packbits(mask, bitorder="little")
        params = faiss.SearchParametersHNSW(sel=faiss.IDSelectorBitmap(packed), efSearch=ef)
        distances, slots = self._index.search(queries, k, params=params)
        scores = self._scores(distances)
        short = np.count_nonzero(slots >= 0, axis=1) < min(k, n_candidates)
        if short.any():
            exact_scores, exact_slots = self._exact(queries[short], k, mask)
            scores[short], slots[short] = exact_scores, exact_slots
        return scores, slots

    def _candidates(self, allowed: Allowed | None) -> Allowed | None:
        if allowed is None:
            return self.live.copy() if self._removed else None
        return np.logical_and(self.live, allowed[: self.size])

    def _exact(self, queries: Matrix, k: int, mask: Allowed) -> SearchResult:
        slots = np.flatnonzero(mask).astype(np.int64)
        return exact_search(queries, self._storage()[slots], slots, k, self.metric)

    def _scores(self, distances: Matrix) -> Matrix:
        if self.metric == "l2":
            # faiss reports squared L2; the API promises "higher is better".
            return -np.sqrt(np.maximum(distances, 0.0)).astype(np.float32)
        return distances

    # -- maintenance -------------------------------------------------------
    def empty_like(self) -> HnswIndex:
        """A new, empty index with this one's metric and parameters."""
        return HnswIndex(
            self.dim,
            self.metric,
            m=self.m,
            ef_construction=self.ef_construction,
            ef_search=self.ef_search,
        )

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path / "index.faiss"))
        np.save(path / "live.npy", self.live)

    def load(self, path: Path) -> None:
        self._index = faiss.read_index(str(path / "index.faiss"))
        self._index.hnsw.efSearch = self.ef_search
        self._params.clear()
        live = np.load(path / "live.npy")
        self._live = np.zeros(max(1024, len(live)), dtype=np.bool_)
        self._live[: len(live)] = live
        self._removed = int(len(live) - np.count_nonzero(live))
