"""Slots found by the index become hits later, on the event loop: never stale ids."""

from __future__ import annotations

import numpy as np

from ruvstream.core.records import RecordData, vector_to_bytes
from ruvstream.core.spec import CollectionSpec
from ruvstream.engine.collection import Collection, SearchRequest


def _collection(n: int) -> tuple[Collection, list[RecordData]]:
    collection = Collection("c", CollectionSpec(dim=4, metric="l2"), (1, "a"))
    rng = np.random.default_rng(7)
    records = [
        RecordData(f"r{i}", vector_to_bytes(rng.normal(size=4).astype(np.float32)), {"i": i})
        for i in range(n)
    ]
    collection.apply_upsert(records, (2, "a"))
    return collection, records


def test_hits_match_a_direct_search() -> None:
    collection, records = _collection(50)
    query = SearchRequest(np.frombuffer(records[3].vector, dtype="<f4").copy(), 5)
    found = collection.search_slots([query])[0]
    assert found.hits() == collection.search_many([query])[0]
    assert found.hits()[0].id == "r3" and found.hits()[0].metadata == {"i": 3}


def test_a_record_deleted_after_the_search_is_left_out() -> None:
    collection, records = _collection(50)
    query = SearchRequest(np.frombuffer(records[3].vector, dtype="<f4").copy(), 5)
    found = collection.search_slots([query])[0]
    collection.apply_delete(["r3"], (3, "a"))
    ids = [hit.id for hit in found.hits()]
    assert "r3" not in ids and len(ids) == 4


def test_ids_stay_right_across_a_compaction() -> None:
    """Compaction renumbers slots; an answer found before it still names the right ids."""
    collection, records = _collection(3000)
    query = SearchRequest(np.frombuffer(records[2999].vector, dtype="<f4").copy(), 10)
    found = collection.search_slots([query])[0]
    before = [hit.id for hit in found.hits()]
    collection.apply_delete([f"r{i}" for i in range(1500)], (3, "a"))  # past the compaction share
    collection.wait_for_compaction(timeout=30)
    assert collection._store.index.size == 1500, "the index was rebuilt with new slot numbers"
    kept = [record_id for record_id in before if int(record_id[1:]) >= 1500]
    assert before[0] == "r2999" and len(kept) < len(before)
    assert [hit.id for hit in found.hits()] == kept
