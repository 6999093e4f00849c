"""The result cache: LRU with TTL, invalidated by collection versions."""

from __future__ import annotations

import numpy as np
import pytest

from ruvstream.client.cache import ResultCache
from ruvstream.client.protocol import cache_key, search_body
from ruvstream.core.clock import ManualClock


def key(collection: str = "c", vector: list[float] | None = None, **kw: object) -> object:
    return cache_key(collection, search_body([1.0, 2.0] if vector is None else vector, **kw))  # type: ignore[arg-type]


def test_hit_after_put_and_miss_before() -> None:
    cache = ResultCache()
    assert cache.get(key()) is None
    cache.put(key(), "c", 1, "answer")
    assert cache.get(key()) == "answer"
    assert (cache.stats().hits, cache.stats().misses) == (1, 1)


def test_the_key_is_the_whole_query() -> None:
    base = key()
    assert key(vector=[1.0, 2.0]) == base
    assert key(vector=np.array([1.0, 2.0], dtype=np.float64)) == base  # type: ignore[arg-type]
    assert key(collection="other") != base
    assert key(vector=[1.0, 2.0000002]) != base
    assert key(k=11) != base
    assert key(ef=32) != base
    assert key(filter={"a": 1}) != base
    assert key(filter={"a": 1, "b": 2}) == key(filter={"b": 2, "a": 1})


def test_entries_expire_after_the_ttl() -> None:
    clock = ManualClock()
    cache = ResultCache(ttl=5.0, clock=clock.monotonic)
    cache.put(key(), "c", 1, "answer")
    clock.advance(4.9)
    assert cache.get(key()) == "answer"
    clock.advance(0.2)
    assert cache.get(key()) is None
    assert len(cache) == 0


def test_least_recently_used_goes_first() -> None:
    cache = ResultCache(max_entries=2)
    cache.put("a", "c", 1, 1)
    cache.put("b", "c", 1, 2)
    assert cache.get("a") == 1
    cache.put("c", "c", 1, 3)
    assert cache.get("b") is None
    assert cache.get("a") == 1 and cache.get("c") == 3
    assert cache.stats().evictions == 1


def test_a_new_version_drops_only_that_collections_entries() -> None:
    cache = ResultCache()
    cache.put("a", "c1", 1, "x")
    cache.put("b", "c2", 7, "y")
    cache.observe("c1", 1)
    assert cache.get("a") == "x"
    cache.observe("c1", 2)
    assert cache.get("a") is None
    assert cache.get("b") == "y"
    assert cache.stats().invalidations == 1


def test_an_answer_with_a_different_version_replaces_older_entries() -> None:
    cache = ResultCache()
    cache.put("a", "c", 1, "old")
    cache.put("b", "c", 2, "new")
    assert cache.get("a") is None
    assert cache.get("b") == "new"


def test_a_recreated_collection_version_counts_as_a_change() -> None:
    cache = ResultCache()
    cache.put("a", "c", 9, "x")
    cache.observe("c", 0)
    assert cache.get("a") is None


def test_invalidate_and_clear() -> None:
    cache = ResultCache()
    cache.put("a", "c", 1, "x")
    cache.invalidate("c")
    assert cache.get("a") is None
    cache.put("a", "c", 1, "x")
    cache.clear()
    assert len(cache) == 0


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        ResultCache(max_entries=0)
