"""Cached filter masks: reused while nothing changes, never stale after a write."""

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


def test_a_repeated_filter_reuses_its_mask_until_the_next_write() -> None:
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
    mask = collection._allowed(request.predicate, request.filter_key)  # type: ignore[arg-type]
    assert collection._allowed(request.predicate, request.filter_key) is mask  # type: ignore[arg-type]
    # A write that changes "even" for record 1: the cached mask must not hide it.
    collection.apply_upsert([RecordData("1", records[1].vector, {"even": True})], (3, "a"))
    after = collection.search_many([request])[0]
    assert isinstance(after, list) and "1" in {h.id for h in after}
