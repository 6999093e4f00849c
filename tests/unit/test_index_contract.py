"""One contract for every vector index backend, plus HNSW against the exact oracle.

Every test taking ``kind`` runs over each name in ``core.spec.INDEXES``, so a
new backend is held to the same slot, tombstone, filter and score rules.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ruvstream.core.spec import INDEXES, METRICS
from ruvstream.index import exact
from ruvstream.index.base import VectorIndex
from ruvstream.index.exact import ExactIndex, exact_search, prepare
from ruvstream.index.factory import new_index
from ruvstream.index.hnsw import HnswIndex

N, DIM, K, QUERIES = 2000, 16, 10, 50


@pytest.fixture(params=INDEXES)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def data(seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((N, DIM)).astype(np.float32)
    queries = rng.standard_normal((QUERIES, DIM)).astype(np.float32)
    return base, queries


def oracle(
    base: np.ndarray, queries: np.ndarray, metric: str, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    slots = np.arange(len(base), dtype=np.int64)
    if mask is not None:
        slots = slots[mask]
    return exact_search(prepare(queries, metric), prepare(base[slots], metric), slots, K, metric)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(f[f >= 0]) & set(t[t >= 0])) for f, t in zip(found, truth, strict=True))
    return hits / max(1, int(np.count_nonzero(truth >= 0)))


def empty(kind: str, metric: str, dim: int = DIM) -> VectorIndex:
    return new_index(kind, dim, metric, m=16, ef_construction=100, ef_search=100)


def built(kind: str, metric: str, base: np.ndarray) -> VectorIndex:
    index = empty(kind, metric)
    assert index.add(base).tolist() == list(range(len(base)))
    return index


# -- the factory ---------------------------------------------------------------


def test_the_factory_builds_each_backend_by_name() -> None:
    assert INDEXES[0] == "hnsw", "the default"
    assert isinstance(empty("hnsw", "l2"), HnswIndex)
    assert isinstance(empty("exact", "l2"), ExactIndex)


def test_an_unknown_backend_name_is_refused_naming_the_choices() -> None:
    with pytest.raises(ValueError, match=r"'annoy'.*\['hnsw', 'exact'\]"):
        new_index("annoy", DIM, "l2")


# -- the contract ----------------------------------------------------------------


@pytest.mark.parametrize("metric", METRICS)
def test_an_empty_index_answers_with_no_results(kind: str, metric: str) -> None:
    index = empty(kind, metric)
    assert (index.size, index.removed, len(index.live)) == (0, 0, 0)
    scores, slots = index.search(np.ones((2, DIM), dtype=np.float32), 3)
    assert scores.shape == slots.shape == (2, 3)
    assert (slots == -1).all()


@pytest.mark.parametrize("metric", METRICS)
def test_k_larger_than_the_index_returns_every_live_slot_then_minus_one(
    kind: str, metric: str
) -> None:
    base, queries = data()
    index = built(kind, metric, base[:5])
    index.remove(np.array([2], dtype=np.int64))
    _, slots = index.search(queries, 8)
    for row in slots:
        assert sorted(row[:4].tolist()) == [0, 1, 3, 4]
        assert (row[4:] == -1).all()


@pytest.mark.parametrize("metric", METRICS)
def test_scores_are_higher_is_better_and_what_the_metric_says(kind: str, metric: str) -> None:
    base, queries = data()
    index = built(kind, metric, base[:200])
    scores, slots = index.search(queries, K)
    assert np.all(np.diff(scores, axis=1) <= 1e-5), "best first"
    stored = index.vectors(slots[:, 0])
    q = prepare(queries, metric)
    if metric == "l2":
        expected = -np.linalg.norm(q - stored, axis=1)
        assert np.all(scores[:, 0] <= 0), "negative distances"
    else:
        expected = np.einsum("ij,ij->i", q, stored)
    assert np.allclose(scores[:, 0], expected, atol=1e-3)
    if metric == "cosine":
        assert np.allclose(np.linalg.norm(index.vectors(np.arange(200)), axis=1), 1.0, atol=1e-5)
        assert np.all(scores <= 1.0 + 1e-5)


@pytest.mark.parametrize("metric", METRICS)
def test_add_then_search_matches_the_oracle(kind: str, metric: str) -> None:
    base, queries = data()
    index = built(kind, metric, base)
    scores, slots = index.search(queries, K)
    true_scores, true_slots = oracle(base, queries, metric)
    assert recall(slots, true_slots) >= 0.9
    # Where the top hit agrees, its score is the oracle's ("higher is better" for all).
    same = slots[:, 0] == true_slots[:, 0]
    assert same.mean() >= 0.9
    assert np.allclose(scores[same, 0], true_scores[same, 0], atol=1e-3)
    assert np.array_equal(index.vectors(np.arange(5)), prepare(base[:5], metric))


def test_deleted_slots_are_never_returned(kind: str) -> None:
    base, queries = data()
    index = built(kind, "cosine", base)
    _, before = index.search(queries, K)
    gone = np.unique(before[:, :3].ravel())
    index.remove(gone)
    index.remove(gone[:1])  # removing twice counts once
    assert index.removed == len(gone)
    assert not index.live[gone].any() and index.live.sum() == N - len(gone)
    _, after = index.search(queries, K)
    assert not np.isin(after, gone).any()
    assert np.all(after >= 0), "k results still found among the live"
    filtered_mask = np.ones(N, dtype=np.bool_)
    _, filtered = index.search(queries, K, allowed=filtered_mask)
    assert not np.isin(filtered, gone).any()


@pytest.mark.parametrize("share", [0.01, 0.5])
def test_allowed_mask_restricts_results(kind: str, share: float) -> None:
    base, queries = data()
    index = built(kind, "l2", base)
    rng = np.random.default_rng(1)
    allowed = rng.random(N) < share
    _, slots = index.search(queries, K, allowed=allowed)
    returned = slots[slots >= 0]
    assert allowed[returned].all(), "only allowed slots"
    _, truth = oracle(base, queries, "l2", allowed)
    assert recall(slots, truth) >= 0.9
    assert np.all(np.count_nonzero(slots >= 0, axis=1) == min(K, int(allowed.sum())))


def test_allowed_mask_with_fewer_candidates_than_k(kind: str) -> None:
    base, queries = data()
    index = built(kind, "ip", base)
    allowed = np.zeros(N, dtype=np.bool_)
    allowed[[3, 500, 1999]] = True
    _, slots = index.search(queries, K, allowed=allowed)
    for row in slots:
        assert sorted(row[row >= 0].tolist()) == [3, 500, 1999]
        assert (row[3:] == -1).all()


def test_an_allowed_mask_longer_than_the_index_is_accepted(kind: str) -> None:
    """Cached filter masks are over-allocated: only the first ``size`` entries count."""
    base, queries = data()
    index = built(kind, "l2", base[:100])
    allowed = np.zeros(4096, dtype=np.bool_)
    allowed[[10, 20]] = True
    allowed[3000] = True  # past the end: no such slot
    _, slots = index.search(queries, 3, allowed=allowed)
    assert all(sorted(row[:2].tolist()) == [10, 20] and row[2] == -1 for row in slots)


def test_a_rebuild_into_empty_like_keeps_results(kind: str) -> None:
    """What compaction does: the live vectors, re-added to an empty twin."""
    base, queries = data()
    index = built(kind, "cosine", base)
    index.remove(np.arange(0, N, 2, dtype=np.int64))
    scores, slots = index.search(queries, K)
    fresh = index.empty_like()
    assert type(fresh) is type(index) and fresh.size == 0
    assert (fresh.dim, fresh.metric) == (index.dim, index.metric)
    live_slots = np.flatnonzero(index.live).astype(np.int64)
    remap = np.full(index.size, -1, dtype=np.int64)
    remap[live_slots] = fresh.add(index.vectors(live_slots))  # stored vectors: unit already
    assert fresh.size == N // 2 and fresh.removed == 0
    assert (remap[0::2] == -1).all() and (remap[1::2] >= 0).all()
    new_scores, new_slots = fresh.search(queries, K)
    back = {int(new): old for old, new in enumerate(remap.tolist()) if new >= 0}
    mapped = np.vectorize(lambda s: back.get(int(s), -1))(new_slots)
    assert recall(mapped, slots) >= 0.9
    assert np.allclose(new_scores[:, 0], scores[:, 0], atol=1e-4)


def test_save_and_load_round_trip(kind: str, tmp_path: Path) -> None:
    base, queries = data()
    index = built(kind, "l2", base)
    index.remove(np.array([1, 2, 3], dtype=np.int64))
    index.save(tmp_path)
    loaded = empty(kind, "l2")
    loaded.load(tmp_path)
    assert loaded.size == N and loaded.removed == 3
    assert np.array_equal(loaded.live, index.live)
    assert np.array_equal(loaded.vectors(np.arange(10)), index.vectors(np.arange(10)))
    a_scores, a_slots = index.search(queries, K)
    b_scores, b_slots = loaded.search(queries, K)
    assert np.array_equal(a_slots, b_slots) and np.allclose(a_scores, b_scores)
    assert loaded.add(base[:1]).tolist() == [N], "slots continue after a load"


def test_an_empty_index_round_trips(kind: str, tmp_path: Path) -> None:
    empty(kind, "cosine").save(tmp_path)
    loaded = empty(kind, "cosine")
    loaded.load(tmp_path)
    assert loaded.size == 0 and loaded.add(np.ones((1, DIM), np.float32)).tolist() == [0]


def test_memory_grows_with_the_vectors_held(kind: str) -> None:
    base, _ = data()
    small = built(kind, "l2", base[:10]).memory_bytes()
    assert built(kind, "l2", base).memory_bytes() > small >= 10 * DIM * 4


# -- backend-specific promises -----------------------------------------------------


@pytest.mark.parametrize("metric", METRICS)
def test_exact_is_exact(metric: str) -> None:
    base, queries = data()
    index = built("exact", metric, base)
    scores, slots = index.search(queries, K)
    true_scores, true_slots = oracle(base, queries, metric)
    assert np.array_equal(slots, true_slots) and np.allclose(scores, true_scores, atol=1e-5)
    index.remove(np.arange(0, N, 3, dtype=np.int64))
    allowed = np.random.default_rng(2).random(N) < 0.3
    _, slots = index.search(queries, K, allowed=allowed)
    keep = allowed & index.live
    assert np.array_equal(slots, oracle(base, queries, metric, keep)[1])


def test_exact_scores_a_large_batch_in_blocks_with_the_same_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, queries = data()
    index = built("exact", "cosine", base)
    index.remove(np.array([5, 6], dtype=np.int64))
    whole = index.search(queries, K)
    monkeypatch.setattr(exact, "SCORE_BLOCK", 3 * N)  # three queries per block
    blocked = index.search(queries, K)
    assert np.array_equal(blocked[1], whole[1]) and np.allclose(blocked[0], whole[0], atol=1e-6)


@pytest.mark.parametrize("metric", METRICS)
def test_hnsw_recall_against_the_exact_backend(metric: str) -> None:
    rng = np.random.default_rng(11)
    base = rng.standard_normal((3000, 24)).astype(np.float32)
    queries = rng.standard_normal((100, 24)).astype(np.float32)
    hnsw, exact = (empty(kind, metric, dim=24) for kind in ("hnsw", "exact"))
    hnsw.add(base)
    exact.add(base)
    _, found = hnsw.search(queries, K)
    _, truth = exact.search(queries, K)
    assert recall(found, truth) >= 0.9
    _, wider = hnsw.search(queries, K, ef=400)
    assert recall(wider, truth) >= recall(found, truth) - 0.01, "a larger ef costs no recall"


def test_exact_search_handles_empty_and_small_sets() -> None:
    queries = np.ones((2, 4), dtype=np.float32)
    scores, slots = exact_search(
        queries, np.empty((0, 4), np.float32), np.empty(0, np.int64), 3, "ip"
    )
    assert (slots == -1).all() and np.isneginf(scores).all()
    vectors = np.eye(4, dtype=np.float32)[:2]
    scores, slots = exact_search(queries, vectors, np.array([10, 20]), 3, "l2")
    assert slots[0].tolist()[:2] in ([10, 20], [20, 10]) and slots[0, 2] == -1
    assert np.allclose(scores[0, :2], -np.sqrt(3.0))
