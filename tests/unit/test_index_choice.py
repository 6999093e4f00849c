"""A collection builds the index its spec names, keeps it through compaction and snapshots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ruvstream.core.records import RecordData, vector_to_bytes
from ruvstream.core.spec import CollectionSpec
from ruvstream.engine.apply import Catalog
from ruvstream.engine.collection import Collection, SearchRequest
from ruvstream.engine.recovery import recover, write_snapshot
from ruvstream.index.exact import ExactIndex, exact_search, prepare
from ruvstream.index.hnsw import HnswIndex
from ruvstream.storage.snapshot import SnapshotStore
from ruvstream.storage.wal import WriteAheadLog

DIM, K = 8, 10


def _filled(index: str, n: int, metric: str = "l2") -> tuple[Collection, np.ndarray]:
    collection = Collection("c", CollectionSpec(dim=DIM, metric=metric, index=index), (1, "a"))
    base = np.random.default_rng(5).standard_normal((n, DIM)).astype(np.float32)
    records = [
        RecordData(str(i), vector_to_bytes(v), {"odd": i % 2 == 1}) for i, v in enumerate(base)
    ]
    collection.apply_upsert(records, (2, "a"))
    return collection, base


def _top_ids(collection: Collection, query: np.ndarray) -> list[str]:
    return [hit.id for hit in collection.search_many([SearchRequest(query, K)])[0]]


def _exact_ids(base: np.ndarray, rows: np.ndarray, query: np.ndarray, metric: str) -> list[str]:
    vectors = prepare(base[rows], metric)
    _, slots = exact_search(prepare(query[None, :], metric), vectors, rows, K, metric)
    return [str(slot) for slot in slots[0].tolist() if slot >= 0]


@pytest.mark.parametrize("index, backend", [("hnsw", HnswIndex), ("exact", ExactIndex)])
def test_the_spec_names_the_backend(index: str, backend: type) -> None:
    collection, _ = _filled(index, 10)
    assert type(collection._store.index) is backend


@pytest.mark.parametrize("metric", ["cosine", "l2", "ip"])
def test_an_exact_collection_answers_the_exact_top_k(metric: str) -> None:
    collection, base = _filled("exact", 500, metric)
    queries = np.random.default_rng(6).standard_normal((20, DIM)).astype(np.float32)
    rows = np.arange(len(base))
    for query in queries:
        assert _top_ids(collection, query) == _exact_ids(base, rows, query, metric)


def test_compaction_of_an_exact_collection_keeps_it_exact() -> None:
    collection, base = _filled("exact", 4000)
    collection.apply_delete([str(i) for i in range(0, 4000, 2)], (3, "a"))  # half dead
    collection.wait_for_compaction(timeout=60)
    index = collection._store.index
    assert type(index) is ExactIndex and index.size == 2000 and index.removed == 0
    odd = np.arange(1, 4000, 2)
    for query in np.random.default_rng(7).standard_normal((10, DIM)).astype(np.float32):
        assert _top_ids(collection, query) == _exact_ids(base, odd, query, "l2")


def _snapshot_and_recover(tmp_path: Path, catalog: Catalog, strip_index: bool) -> Catalog:
    store = SnapshotStore(tmp_path / "snapshots")
    path = write_snapshot(store, catalog, 0, hlc=2, extras={}, idempotency=[])
    if strip_index:  # a snapshot written before the index was a choice
        manifest = json.loads((path / "manifest.json").read_text())
        for entry in manifest["collections"]:
            del entry["spec"]["index"]
        del manifest["checksum"], manifest["files"]  # nor were there checksums then
        (path / "manifest.json").write_text(json.dumps(manifest))
    return recover(store, WriteAheadLog(tmp_path / "wal", fsync="off")).catalog


def test_a_snapshot_keeps_the_index_choice(tmp_path: Path) -> None:
    collection, base = _filled("exact", 300)
    restored = _snapshot_and_recover(tmp_path, Catalog(collections={"c": collection}), False)
    again = restored.collections["c"]
    assert again.spec.index == "exact" and type(again._store.index) is ExactIndex
    query = base[17] + 0.01
    assert _top_ids(again, query) == _top_ids(collection, query)
    assert _top_ids(again, query)[0] == "17"


def test_a_snapshot_from_before_the_index_field_loads_as_hnsw(tmp_path: Path) -> None:
    collection, base = _filled("hnsw", 300)
    restored = _snapshot_and_recover(tmp_path, Catalog(collections={"c": collection}), True)
    again = restored.collections["c"]
    assert again.spec == collection.spec and again.spec.index == "hnsw"
    assert type(again._store.index) is HnswIndex
    assert _top_ids(again, base[42])[0] == "42"
