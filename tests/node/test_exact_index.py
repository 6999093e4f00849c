"""A collection created with ``"index": "exact"`` answers over HTTP with the exact top-k."""

from __future__ import annotations

import httpx
import numpy as np

from ruvstream.testing import NodeProcess

N, K = 400, 10


def _true_scores(base: np.ndarray, query: np.ndarray) -> np.ndarray:
    """The oracle, written out: negative Euclidean distance, higher is better."""
    distances: np.ndarray = np.linalg.norm(base.astype(np.float64) - query, axis=1)
    return -distances


def _search(http: httpx.Client, query: np.ndarray, **extra: object) -> list[tuple[str, float]]:
    body = {"vector": query.tolist(), "k": K, **extra}
    answer = http.post("/v1/collections/x/search", json=body)
    assert answer.status_code == 200, answer.text
    return [(hit["id"], hit["score"]) for hit in answer.json()["hits"]]


def _assert_exact(
    found: list[tuple[str, float]], base: np.ndarray, query: np.ndarray, keep: np.ndarray
) -> None:
    """The answer is a true top-k of the kept rows: the k best scores, each really its id's
    (so it holds whatever order float rounding gives two rows at the same distance)."""
    scores = _true_scores(base, query)
    best = np.sort(scores[keep])[::-1][:K]
    rows = [int(i) for i, _ in found]
    assert len(set(rows)) == len(rows) == K and all(keep[row] for row in rows)
    assert np.allclose([score for _, score in found], best, atol=1e-4)
    assert np.allclose([score for _, score in found], scores[rows], atol=1e-4)


def test_an_exact_collection_answers_with_the_exact_top_k(node: NodeProcess) -> None:
    rng = np.random.default_rng(21)
    base = rng.standard_normal((N, 3)).astype(np.float32)
    queries = rng.standard_normal((25, 3)).astype(np.float32)
    records = [
        {"id": str(i), "vector": v.tolist(), "metadata": {"odd": i % 2 == 1}}
        for i, v in enumerate(base)
    ]
    everything = np.ones(N, dtype=np.bool_)
    with httpx.Client(base_url=node.url, timeout=30) as http:
        created = http.put("/v1/collections/x", json={"dim": 3, "metric": "l2", "index": "exact"})
        assert created.status_code == 201, created.text
        assert created.json()["index"] == "exact"
        http.post("/v1/collections/x/records", json={"records": records}).raise_for_status()
        for query in queries:
            _assert_exact(_search(http, query), base, query, everything)
            odd = np.arange(N) % 2 == 1
            _assert_exact(_search(http, query, filter={"odd": True}), base, query, odd)

        gone = [str(i) for i in range(0, N, 3)]
        http.post("/v1/collections/x/records/delete", json={"ids": gone}).raise_for_status()
        kept = np.arange(N) % 3 != 0
        # A crash: the collection comes back from the WAL, still exact.
        node.kill()
        node.start()
        assert http.get("/v1/collections/x").json()["index"] == "exact"
        for query in queries:
            _assert_exact(_search(http, query), base, query, kept)


def test_an_unknown_index_is_a_400_naming_the_field(node: NodeProcess) -> None:
    with httpx.Client(base_url=node.url) as http:
        answer = http.put("/v1/collections/y", json={"dim": 3, "index": "annoy"})
        assert answer.status_code == 400
        error = answer.json()["error"]
        assert error["code"] == "invalid_parameter" and error["details"]["field"] == "index"
        assert "hnsw" in error["message"] and "exact" in error["message"]
        assert http.get("/v1/collections/y").status_code == 404
