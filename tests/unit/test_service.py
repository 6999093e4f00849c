"""The service layer on a real node (WAL, batcher, index): one path per request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from ruvstream.config import NodeSettings, Settings, StorageSettings
from ruvstream.engine import Node
from ruvstream.errors import (
    CollectionNotFoundError,
    DimensionMismatchError,
    InvalidParameterError,
    InvalidVectorError,
    RecordNotFoundError,
    SubscriptionNotFoundError,
)
from ruvstream.service import NodeService, PendingSearch

DIM = 4
ROWS = np.eye(DIM, dtype=np.float32)


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[NodeService]:
    settings = Settings(
        node=NodeSettings(region="test", node_id="service-1"),
        storage=StorageSettings(data_dir=tmp_path, fsync="off"),
    )
    node = await Node.open(settings)
    service = NodeService(node)
    await service.create_collection("c", {"dim": DIM, "metric": "l2"})
    records = [
        {"id": f"r{i}", "vector": row.tolist(), "metadata": {"i": i}} for i, row in enumerate(ROWS)
    ]
    await service.upsert("c", {"records": records})
    try:
        yield service
    finally:
        await node.close(snapshot=False)


def searches_counted(service: NodeService) -> float:
    value = service.metrics.registry.get_sample_value(
        "ruvstream_search_requests_total", {"collection": "c"}
    )
    return value or 0.0


async def test_a_search_is_answered_from_the_batcher_callback_without_a_task(
    service: NodeService,
) -> None:
    answered: asyncio.Future[tuple[asyncio.Task[object] | None, dict[str, object]]]
    answered = asyncio.get_running_loop().create_future()

    def reply(done: PendingSearch) -> None:
        answered.set_result((asyncio.current_task(), done.answer()))

    service.start_search("c", {"vector": ROWS[2].tolist(), "k": 2}).then(reply)
    task, answer = await answered
    assert task is None  # a loop callback, not a task
    hits = answer["hits"]
    assert isinstance(hits, list) and len(hits) == 2 and hits[0]["id"] == "r2"
    assert answer["version"] == service.collection_info("c")["version"]
    assert searches_counted(service) == 1


async def test_every_entry_gives_the_same_answer_and_counts_once(service: NodeService) -> None:
    query = {"vector": ROWS[1].tolist(), "k": 3}
    awaited = await service.search("c", query)
    assert await service.start_search("c", query) == awaited
    batch = await service.search_batch("c", {"queries": [query, query]})
    assert batch == {"results": [{"hits": awaited["hits"]}] * 2, "version": awaited["version"]}
    assert searches_counted(service) == 4


async def test_bad_searches_raise_before_anything_is_queued(service: NodeService) -> None:
    with pytest.raises(DimensionMismatchError):
        service.start_search("c", {"vector": [1.0, 2.0]})
    with pytest.raises(CollectionNotFoundError):
        service.start_search("nope", {"vector": ROWS[0].tolist()})
    with pytest.raises(InvalidParameterError):
        await service.search_batch("c", {"queries": []})
    assert searches_counted(service) == 0


async def test_a_keyed_write_is_applied_once_and_replayed(service: NodeService) -> None:
    body = {"records": [{"id": "x", "vector": [0.5] * DIM}]}
    first = await service.upsert("c", body, key="k-1")
    assert not first.replayed and first.body["upserted"] == 1
    other = {"records": [{"id": "y", "vector": [0.25] * DIM}]}
    again = await service.upsert("c", other, key="k-1")
    assert again.replayed
    assert again.body == {"upserted": 1, "duplicate": True, "version": first.body["version"]}
    with pytest.raises(RecordNotFoundError):
        await service.get_record("c", "y")  # the replay applied nothing
    # The replay is checked before the body: a retry is answered whatever it carries.
    assert (await service.upsert("c", {"records": []}, key="k-1")).replayed


async def test_packed_records_and_deletes(service: NodeService) -> None:
    rows = np.full((2, DIM), 0.5, dtype="<f4").tobytes()
    written = await service.upsert_packed("c", ["p", "q"], rows)
    assert written.body["upserted"] == 2
    assert (await service.get_record("c", "p"))["vector"] == pytest.approx([0.5] * DIM)
    with pytest.raises(InvalidVectorError):
        await service.upsert_packed("c", ["p"], rows)
    deleted = await service.delete("c", {"ids": ["p", "missing"]}, key="d-1")
    assert deleted.body == {"deleted": 1, "version": written.body["version"] + 1}
    assert (await service.delete("c", {"ids": ["q"]}, key="d-1")).replayed
    assert (await service.delete_record("c", "q")).body["deleted"] == 1
    with pytest.raises(RecordNotFoundError):
        await service.get_record("c", "q")


async def test_collections_and_their_replays(service: NodeService) -> None:
    created = await service.create_collection("d", {"dim": 2}, key="c-1")
    assert created.body["name"] == "d" and created.body["count"] == 0
    assert (await service.create_collection("d", {"dim": 2}, key="c-1")).replayed
    names = [c["name"] for c in service.list_collections()["collections"]]
    assert names == ["c", "d"]
    assert (await service.drop_collection("d", key="x-1")).body == {"deleted": True}
    replay = await service.drop_collection("d", key="x-1")
    assert replay.replayed and "version" not in replay.body  # the collection is gone
    assert service.version("d") is None
    with pytest.raises(CollectionNotFoundError):
        service.collection_info("d")


async def test_standing_queries(service: NodeService) -> None:
    sub = await service.subscribe("c", {"vector": ROWS[0].tolist(), "min_score": -0.5})
    assert service.subscription(sub.id) is sub
    await service.upsert("c", {"records": [{"id": "near", "vector": ROWS[0].tolist()}]})
    match = await asyncio.wait_for(sub.next(), timeout=30)
    assert match is not None and match.id == "near"
    service.unsubscribe(sub.id, "done")
    with pytest.raises(SubscriptionNotFoundError):
        service.subscription(sub.id)
    with pytest.raises(InvalidParameterError):
        await service.subscribe("c", {"vector": ROWS[0].tolist(), "k": 1, "min_score": 0.5})
