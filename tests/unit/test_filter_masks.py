"""Cached filter masks: reused across searches, kept current by every write."""

from __future__ import annotations

import numpy as np

from ruvstream.core.filters import compile_filter
from ruvstream.core.records import RecordData, vector_to_bytes
from ruvstream.core.spec import CollectionSpec
from ruvstream.engine.collection import Collection, SearchRequest
from ruvstream.engine.filter_masks import MAX_CACHED_COST, FilterMasks


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


def _filled(count: int) -> Collection:
    collection = Collection("c", CollectionSpec(dim=4), (1, "a"))
    rng = np.random.default_rng(3)
    records = [
        RecordData(str(i), vector_to_bytes(rng.normal(size=4).astype(np.float32)), {"n": i})
        for i in range(count)
    ]
    collection.apply_upsert(records, (2, "a"))
    return collection


def test_a_filter_past_the_cost_cap_is_not_cached() -> None:
    collection = _filled(20)
    heavy = _request({"$or": [{"n": i} for i in range(MAX_CACHED_COST + 1)]})
    light = _request({"n": {"$in": list(range(10_000))}})
    assert heavy.predicate is not None and light.predicate is not None
    assert light.predicate.cost == 1, "an $in list is one set lookup, however long"
    collection.search_many([heavy, light])
    masks = collection._store._masks
    assert len(masks) == 1 and masks.get(str(light.filter_key)) is not None


def test_a_write_past_the_budget_drops_masks_instead_of_checking_them() -> None:
    masks = FilterMasks(write_budget=10)
    cheap, dear = compile_filter({"n": 1}), compile_filter({"n": 1, "m": 2, "o": 3})
    assert cheap is not None and dear is not None and dear.cost == 3
    masks.put("cheap", cheap, np.zeros(8, dtype=np.bool_))
    masks.put("dear", dear, np.zeros(8, dtype=np.bool_))
    masks.update(8, [0, 1, 2, 3], [{"n": 1, "m": 2, "o": 3}] * 4)  # 4 + 12 > 10
    assert masks.get("dear") is None, "the most recent mask past the budget is dropped"
    cheap_mask = masks.get("cheap")
    assert cheap_mask is not None and cheap_mask[:4].all()
