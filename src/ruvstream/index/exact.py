"""Exact (brute-force) search: the oracle for ANN tests and the fallback for
selective filters, where a graph walk would run out of matching neighbours.
"""

from __future__ import annotations

import numpy as np

from ruvstream.index.base import Matrix, SearchResult, Slots

__all__ = ["exact_scores", "exact_search", "prepare"]


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
    scores: Matrix = (queries @ vectors.T).astype(np.float32)
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
