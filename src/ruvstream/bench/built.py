"""Datasets built on this machine and cached: vectors, held-out queries, exact truth, metadata.

``ruvstream bench dataset build NAME`` embeds a corpus once; this module
only stores and reads the result, so it needs no model. One directory per
set under ``<cache>/datasets/NAME``: ``base.npy`` and ``queries.npy``
(float32, L2-normalised rows), ``truth.npy`` (the exact top ``TRUTH_K``
base rows of every query, best first), ``meta.json`` (the corpus's
provenance, the model, the sizes) and, if given, ``texts.json``. A build
is written beside the old one and renamed into place, so a reader never
sees half a set.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ruvstream.bench.glove import exact_top_k
from ruvstream.index.exact import prepare

__all__ = [
    "BUILT",
    "TRUTH_K",
    "Built",
    "DatasetNotBuiltError",
    "DatasetUnavailableError",
    "is_built",
    "load",
    "save",
    "where",
]

BUILT = {"minilm-384": 384}
"""Names of the sets built here, with their dimension."""
TRUTH_K = 100
Matrix = npt.NDArray[np.float32]
Built = tuple[Matrix, Matrix, npt.NDArray[np.int64], dict[str, Any]]


class DatasetUnavailableError(LookupError):
    """A dataset this machine cannot provide: its package is missing or it was never built."""


class DatasetNotBuiltError(DatasetUnavailableError):
    """The set was never built on this machine (or its cache was removed)."""

    def __init__(self, name: str, path: Path) -> None:
        super().__init__(
            f"dataset {name} is not built (no {path}): run `ruvstream bench dataset build {name}`"
        )
        self.name = name
        self.path = path


def where(name: str, cache: Path) -> Path:
    if name not in BUILT:
        raise KeyError(f"unknown built dataset {name!r}; one of {sorted(BUILT)}")
    return cache / "datasets" / name


def is_built(name: str, cache: Path) -> bool:
    return (where(name, cache) / "meta.json").exists()


def save(
    name: str,
    base: Matrix,
    queries: Matrix,
    meta: dict[str, Any],
    cache: Path,
    texts: dict[str, list[str]] | None = None,
) -> Path:
    """Normalise, compute the exact truth and store the set atomically; returns its directory.

    ``texts`` (the sentences behind the rows) go to ``texts.json``, for a look at neighbours.
    """
    if base.ndim != 2 or queries.ndim != 2 or base.shape[1] != queries.shape[1]:
        raise ValueError(f"base {base.shape} and queries {queries.shape} must share a width")
    base, queries = prepare(base, "cosine"), prepare(queries, "cosine")
    truth = exact_top_k(base, queries, min(TRUTH_K, len(base)), metric="ip")
    final = where(name, cache)
    work = final.with_name(f"{name}.tmp-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    np.save(work / "base.npy", base)
    np.save(work / "queries.npy", queries)
    np.save(work / "truth.npy", truth)
    sizes = {"rows": len(base), "queries": len(queries), "dim": int(base.shape[1])}
    full = {"name": name, **meta, **sizes, "truth_k": int(truth.shape[1]), "metric": "cosine"}
    (work / "meta.json").write_text(json.dumps(full, indent=1) + "\n")
    if texts is not None:
        (work / "texts.json").write_text(json.dumps(texts))
    if final.exists():
        old = final.with_name(f"{name}.old-{os.getpid()}")
        final.rename(old)
        work.rename(final)
        shutil.rmtree(old)
    else:
        work.rename(final)
    return final


def load(name: str, cache: Path) -> Built:
    """(base, queries, truth, meta) of a set built here; DatasetNotBuiltError otherwise."""
    path = where(name, cache)
    if not is_built(name, cache):
        raise DatasetNotBuiltError(name, path)
    meta: dict[str, Any] = json.loads((path / "meta.json").read_text())
    base: Matrix = np.load(path / "base.npy")
    queries: Matrix = np.load(path / "queries.npy")
    truth: npt.NDArray[np.int64] = np.load(path / "truth.npy")
    return base, queries, truth, meta
