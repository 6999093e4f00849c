"""Cached filter masks: reused across searches, kept current by every write."""

from __future__ import annotations

import numpy as np

from ruvstream.core.filters import compile_filter
from ruvstream.core.records import RecordData, vector_to_bytes
from ruvstream.core.spec import CollectionSpec
from ruvstream.engine.collection import Collection, SearchRequest


def _request(expression: dict[str, object]) -> SearchRequest:
    return SearchRequest(
        np.ones(4, dtype=np.float32),
        50,
        predicate=compile_filter(expression),
        filter_key=repr(sorted(expression.items())),
    )


def test_a_repeated_filter_reuses_its_mask_and_sees_later_writes() -> None:
    collection = Collection("c", CollectionSpec(dim=4), (1, "a"))
    rng = np.random.default_rng(1)
    records = [
        RecordData(
            str(i), vector_to_bytes(rng.normal(size=4).astype(np.float32)), {"even": i % 2 == 0}
        )
        for i in range(40)
    ]
    collection.apply_upsert(records, (2, "a"))
    request = _request({"even": True})
    first = collection.search_many([request])[0]
    assert isinstance(first, list) and {int(h.id) % 2 for h in first} == {0}
    assert request.predicate is not None
    mask = collection._store.allowed(request.predicate, request.filter_key)
    assert collection._store.allowed(request.predicate, request.filter_key) is mask
    # A write that changes "even" for record 1: the cached mask must not hide it.
    collection.apply_upsert([RecordData("1", records[1].vector, {"even": True})], (3, "a"))
    after = collection.search_many([request])[0]
    assert isinstance(after, list) and "1" in {h.id for h in after}


def test_cached_masks_match_fresh_ones_through_random_writes() -> None:
    """Upserts (new and replaced), deletes and growth past the mask's length."""
    collection = Collection("c", CollectionSpec(dim=4), (1, "a"))
    rng = np.random.default_rng(7)
    filters = [{"even": True}, {"n": {"$gte": 5}}, {"$or": [{"even": False}, {"n": 3}]}]
    requests = [_request(f) for f in filters]
    version = 1
    for step in range(60):
        version += 1
        if step % 3 == 2:
            ids = [str(i) for i in rng.integers(0, 80, size=5)]
            collection.apply_delete(ids, (version, "a"))
        else:
            records = [
                RecordData(
                    str(i),
                    vector_to_bytes(rng.normal(size=4).astype(np.float32)),
                    {"even": bool(rng.integers(2)), "n": int(rng.integers(10))},
                )
                for i in rng.integers(0, 80, size=int(rng.integers(1, 12)))
            ]
            collection.apply_upsert(records, (version, "a"))
        for request in requests:
            assert request.predicate is not None
            cached = collection._store.allowed(request.predicate, request.filter_key)
            fresh = collection._store.allowed(request.predicate, None)
            live = collection._store.index.live
            size = len(live)
            assert np.array_equal(cached[:size] & live, fresh[:size] & live), step
            hits = collection.search_many([request])[0]
            assert all(request.predicate(h.metadata) for h in hits)
            expected = sum(request.predicate(m) for m in collection._store.metadata.values())
            assert len(hits) == min(expected, request.k)
