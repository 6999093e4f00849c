"""Served search quality: recall@10 against exact numpy search on GloVe-50."""

from __future__ import annotations

import httpx
import numpy as np

from ruvstream.testing import NodeProcess
from ruvstream.testing.data import exact_top_k, recall_at_k
from tests.node.conftest import metadata_for

K = 10


def _search(http: httpx.Client, queries: np.ndarray, **extra: object) -> list[list[int]]:
    found = []
    for query in queries:
        body = {"vector": query.tolist(), "k": K, **extra}
        response = http.post("/v1/collections/glove/search", json=body)
        assert response.status_code == 200, response.text
        found.append([int(h["id"]) for h in response.json()["hits"]])
    return found


def test_default_parameters_reach_recall_095(
    glove_node: NodeProcess, glove: tuple[np.ndarray, np.ndarray]
) -> None:
    base, queries = glove
    truth = exact_top_k(base, queries, K)
    with httpx.Client(base_url=glove_node.url, timeout=30) as http:
        found = _search(http, queries)
    assert all(len(f) == K for f in found)
    assert recall_at_k(found, truth, K) >= 0.95


def _filtered_truth(base: np.ndarray, queries: np.ndarray, keep: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(keep)
    return rows[exact_top_k(base[rows], queries, K)]


def test_selective_and_broad_filters_return_only_matches_and_keep_recall(
    glove_node: NodeProcess, glove: tuple[np.ndarray, np.ndarray]
) -> None:
    base, queries = glove
    queries = queries[:60]
    rows = np.arange(len(base))
    cases = [
        ({"bucket": 7}, rows % 100 == 7),  # 1%
        ({"group": {"$in": ["g1", "g2"]}}, np.isin(rows % 10, [1, 2])),  # 20%
        ({"$and": [{"even": True}, {"row": {"$gte": 5000}}]}, (rows % 2 == 0) & (rows >= 5000)),
        ({"$or": [{"bucket": {"$lt": 3}}, {"group": "g9"}]}, (rows % 100 < 3) | (rows % 10 == 9)),
    ]
    with httpx.Client(base_url=glove_node.url, timeout=30) as http:
        for expression, keep in cases:
            found = _search(http, queries, filter=expression)
            matching = set(np.flatnonzero(keep).tolist())
            assert all(set(f) <= matching for f in found), expression
            truth = _filtered_truth(base, queries, keep)
            assert recall_at_k(found, truth, K) >= 0.95, expression


def test_metadata_comes_back_with_hits(glove_node: NodeProcess) -> None:
    with httpx.Client(base_url=glove_node.url) as http:
        record = http.get("/v1/collections/glove/records/123").json()
        hits = http.post(
            "/v1/collections/glove/search", json={"vector": record["vector"], "k": 1}
        ).json()["hits"]
    assert hits[0]["id"] == "123"
    assert hits[0]["metadata"] == metadata_for(123)
    assert abs(hits[0]["score"] - 1.0) < 1e-4
