"""Collection info is read without the collection's lock (the event loop reads it)."""

from __future__ import annotations

import threading

import numpy as np

from ruvstream.core.records import RecordData, vector_to_bytes
from ruvstream.core.spec import CollectionSpec
from ruvstream.engine.collection import Collection


def _records(count: int, start: int = 0) -> list[RecordData]:
    rng = np.random.default_rng(start)
    return [
        RecordData(
            str(start + i),
            vector_to_bytes(rng.normal(size=4).astype(np.float32)),
            {"n": i, "tag": "x"},
        )
        for i in range(count)
    ]


def test_memory_figure_follows_every_write() -> None:
    collection = Collection("c", CollectionSpec(dim=4), (1, "a"))
    assert collection.memory_bytes() == collection._store.memory_bytes()
    collection.apply_upsert(_records(50), (2, "a"))
    grown = collection.memory_bytes()
    assert grown > 0 and grown == collection._store.memory_bytes()
    collection.apply_upsert([RecordData("0", _records(1)[0].vector, {})], (3, "a"))
    assert collection.memory_bytes() == collection._store.memory_bytes()
    collection.apply_delete([str(i) for i in range(25)], (4, "a"))
    assert collection.memory_bytes() == collection._store.memory_bytes() < grown


def test_info_answers_while_a_write_holds_the_lock() -> None:
    collection = Collection("c", CollectionSpec(dim=4), (1, "a"))
    collection.apply_upsert(_records(10), (2, "a"))
    held, release = threading.Event(), threading.Event()

    def writer() -> None:
        with collection._lock.write():
            held.set()
            release.wait(60)

    holder = threading.Thread(target=writer, daemon=True)
    holder.start()
    assert held.wait(60)
    try:
        seen: list[tuple[int, int]] = []
        reader = threading.Thread(
            target=lambda: seen.append((collection.count, collection.memory_bytes())),
            daemon=True,
        )
        reader.start()
        reader.join(30)
        assert seen == [(10, collection._store.memory_estimate)], "info waited for the lock"
    finally:
        release.set()
        holder.join(60)
