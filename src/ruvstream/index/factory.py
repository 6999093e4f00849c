"""Choosing a vector index backend by name: the one place that knows them all.

``hnsw`` (the default) is the faiss graph: approximate, fast at any size.
``exact`` scans every vector: exact, linear in the collection's size. The
names a collection spec may carry are ``core.spec.INDEXES``.
"""

from __future__ import annotations

from ruvstream.core.spec import INDEXES
from ruvstream.index.base import VectorIndex
from ruvstream.index.exact import ExactIndex
from ruvstream.index.hnsw import HnswIndex

__all__ = ["INDEXES", "new_index"]


def new_index(
    kind: str,
    dim: int,
    metric: str,
    *,
    m: int = 16,
    ef_construction: int = 200,
    ef_search: int = 200,
) -> VectorIndex:
    """An empty index of backend ``kind``; the graph knobs matter to ``hnsw`` only."""
    if kind == "hnsw":
        return HnswIndex(dim, metric, m=m, ef_construction=ef_construction, ef_search=ef_search)
    if kind == "exact":
        return ExactIndex(dim, metric)
    raise ValueError(f"unknown index {kind!r}; choose one of {list(INDEXES)}")
