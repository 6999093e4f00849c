"""Compaction rebuilds the graph aside: searches and writes go on, nothing is lost."""

from __future__ import annotations

import numpy as np

from ruvstream.core.records import RecordData, vector_from_bytes, vector_to_bytes
from ruvstream.core.spec import CollectionSpec
from ruvstream.engine.collection import Collection, SearchRequest

N = 12_000


def _vector(rng: np.random.Generator) -> bytes:
    return vector_to_bytes(rng.normal(size=16).astype(np.float32))


def _loaded() -> tuple[Collection, dict[str, bytes]]:
    collection = Collection("c", CollectionSpec(dim=16, metric="l2"), (1, "a"))
    rng = np.random.default_rng(3)
    vectors = {f"r{i}": _vector(rng) for i in range(N)}
    records = [RecordData(i, v, {"i": int(i[1:])}) for i, v in vectors.items()]
    for start in range(0, N, 2000):
        collection.apply_upsert(records[start : start + 2000], (2 + start, "a"))
    return collection, vectors


def _query(vector: bytes, k: int = 1) -> SearchRequest:
    return SearchRequest(vector_from_bytes(vector).copy(), k)


def test_searches_and_writes_go_on_while_the_graph_is_rebuilt() -> None:
    collection, vectors = _loaded()
    deleted = [f"r{i}" for i in range(N // 3)]
    collection.apply_delete(deleted, (100_000, "a"))  # a third dead: compaction starts
    compactor = collection._store.compactor
    assert compactor is not None and compactor.is_alive()
    for record_id in deleted:
        vectors.pop(record_id)

    # While it builds: a search answers, and writes of every kind land.
    hits = collection.search_many([_query(vectors["r9000"])])[0]
    assert hits[0].id == "r9000"
    rng = np.random.default_rng(4)
    added = {f"new{i}": _vector(rng) for i in range(50)}
    replaced = {f"r{i}": _vector(rng) for i in range(N // 3, N // 3 + 50)}
    gone = [f"r{i}" for i in range(N - 50, N)]
    collection.apply_upsert(
        [RecordData(i, v, {"late": True}) for i, v in {**added, **replaced}.items()],
        (100_001, "a"),
    )
    collection.apply_delete(gone, (100_002, "a"))
    assert compactor.is_alive(), "the writes above were meant to land mid-rebuild"
    vectors.update(added)
    vectors.update(replaced)
    for record_id in gone:
        vectors.pop(record_id)

    collection.wait_for_compaction(timeout=60)
    assert collection._store.index.size < N, "the rebuilt graph replaced the old one"
    assert collection.count == len(vectors)
    for record_id in [*added, *replaced, "r9000", f"r{N // 2}"]:
        stored = collection.get(record_id)
        assert stored is not None
        assert stored.vector.tolist() == vector_from_bytes(vectors[record_id]).tolist()
        assert collection.search_many([_query(vectors[record_id])])[0][0].id == record_id
    for record_id in [*gone, deleted[0]]:
        assert collection.get(record_id) is None
    live_ids = {i for i in collection._store.slot_ids if i is not None}
    assert live_ids == set(vectors), "no lost or resurrected records"
    assert collection._store.index.size - collection._store.index.removed == len(vectors)
