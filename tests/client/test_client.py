"""The same cases for AsyncClient and Client, against a real node on loopback."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ruvstream.client import (
    AsyncClient,
    CollectionInfo,
    NotFoundError,
    Query,
    Record,
)
from ruvstream.errors import (
    CollectionExistsError,
    CollectionNotFoundError,
    DimensionMismatchError,
    RecordNotFoundError,
)
from ruvstream.testing import NodeProcess

DIM = 8
rng = np.random.default_rng(7)
BASE = rng.standard_normal((64, DIM)).astype(np.float32)


def records(n: int = 64, prefix: str = "r") -> list[tuple[str, np.ndarray, dict[str, Any]]]:
    return [(f"{prefix}{i}", BASE[i % len(BASE)], {"i": i, "even": i % 2 == 0}) for i in range(n)]


async def filled(api: Any, name: str, n: int = 64) -> None:
    await api.create_collection(name, DIM)
    await api.upsert(name, records(n))


async def test_collections_round_trip(api: Any, name: str) -> None:
    info = await api.create_collection(name, DIM, "l2", ef_search=32)
    assert isinstance(info, CollectionInfo)
    assert (info.name, info.dim, info.metric, info.ef_search, info.count) == (name, 8, "l2", 32, 0)
    with pytest.raises(CollectionExistsError):
        await api.create_collection(name, DIM)
    assert (await api.create_collection(name, DIM, exist_ok=True)).name == name
    assert name in [c.name for c in await api.list_collections()]
    assert await api.delete_collection(name)
    with pytest.raises(CollectionNotFoundError) as caught:
        await api.get_collection(name)
    assert isinstance(caught.value, NotFoundError) and caught.value.status == 404


async def test_records_upsert_get_delete(api: Any, name: str) -> None:
    await api.create_collection(name, DIM)
    written = await api.upsert(name, [Record("a", BASE[0], {"g": 1}), ("b", BASE[1])])
    assert written.count == 2 and written.version is not None
    record = await api.get(name, "a")
    assert record.metadata == {"g": 1}
    unit = BASE[0] / np.linalg.norm(BASE[0])  # cosine collections store unit vectors
    assert np.allclose(record.vector, unit, atol=1e-5)
    deleted = await api.delete(name, ["a", "missing"])
    assert deleted.count == 1 and deleted.version > written.version
    with pytest.raises(RecordNotFoundError):
        await api.get(name, "a")


async def test_bad_requests_raise_the_shared_error_classes(api: Any, name: str) -> None:
    await api.create_collection(name, DIM)
    with pytest.raises(DimensionMismatchError) as caught:
        await api.search(name, [1.0, 2.0])
    assert caught.value.status == 400
    with pytest.raises(CollectionNotFoundError):
        await api.search(f"{name}-missing", BASE[0])


async def test_search_finds_the_exact_vector_first_and_filters(api: Any, name: str) -> None:
    await filled(api, name)
    result = await api.search(name, BASE[5], k=5)
    assert result.ids[0] == "r5" and len(result) == 5
    assert result.hits[0].score == pytest.approx(1.0, abs=1e-4)
    odd = await api.search(name, BASE[4], k=5, filter={"even": False})
    assert all(not hit.metadata["even"] for hit in odd)


async def test_repeated_query_is_served_from_the_cache(api: Any, name: str) -> None:
    await filled(api, name)
    first = await api.search(name, BASE[3], k=4)
    again = await api.search(name, BASE[3], k=4)
    assert not first.cached and again.cached
    assert again.ids == first.ids
    other_k = await api.search(name, BASE[3], k=5)
    assert not other_k.cached
    stats = api.cache_stats()
    assert (stats.hits, stats.misses) == (1, 2)


async def test_own_upsert_invalidates_the_cache_at_once(api: Any, name: str) -> None:
    await filled(api, name)
    probe = BASE[9] + 0.001
    before = await api.search(name, probe, k=1)
    assert before.ids == ["r9"]
    await api.upsert(name, [("closest", probe)])
    after = await api.search(name, probe, k=1)
    assert not after.cached and after.ids == ["closest"]


async def test_another_writers_change_is_noticed_by_version(
    make_api: Any, node: NodeProcess, name: str
) -> None:
    reader, writer = make_api(node.url), make_api(node.url)
    await filled(writer, name)
    probe = BASE[11] + 0.001
    assert (await reader.search(name, probe, k=1)).ids == ["r11"]
    await writer.upsert(name, [("closest", probe)])
    await reader.get_collection(name)  # any answer carrying the new version
    fresh = await reader.search(name, probe, k=1)
    assert not fresh.cached and fresh.ids == ["closest"]
    assert reader.cache_stats().invalidations >= 1


async def test_search_stream_yields_hits_best_first(api: Any, name: str) -> None:
    await filled(api, name)
    hits = [hit async for hit in api.search_stream(name, BASE[2], k=6)]
    assert len(hits) == 6 and hits[0].id == "r2"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    plain = await api.search(name, BASE[2], k=6, use_cache=False)
    assert [h.id for h in hits] == plain.ids


async def test_search_stream_raises_server_errors(api: Any, name: str) -> None:
    await api.create_collection(name, DIM)
    with pytest.raises(DimensionMismatchError):
        async for _ in api.search_stream(name, [1.0]):
            pass


async def test_batch_search_answers_each_query(api: Any, name: str) -> None:
    await filled(api, name)
    queries = [Query(BASE[i], k=3) for i in range(10)] + [{"vector": BASE[20], "k": 2}]
    results = await api.search_batch(name, queries)
    assert [r.ids[0] for r in results] == [f"r{i}" for i in range(10)] + ["r20"]
    assert len(results[-1]) == 2


async def test_bulk_upsert_reports_progress_per_chunk(api: Any, name: str) -> None:
    await api.create_collection(name, DIM)
    seen: list[tuple[int, int | None]] = []
    result = await api.upsert_bulk(
        name, records(250, "b"), chunk_size=100, progress=lambda d, t: seen.append((d, t))
    )
    assert (result.upserted, result.chunks) == (250, 3)
    assert seen == [(100, 250), (200, 250), (250, 250)]
    assert (await api.get_collection(name)).count == 250


async def test_a_repeated_idempotency_key_is_applied_once(api: Any, name: str) -> None:
    await api.create_collection(name, DIM)
    first = await api.upsert(name, [("x", BASE[0])], idempotency_key="k-1")
    again = await api.upsert(name, [("y", BASE[1])], idempotency_key="k-1")
    assert not first.duplicate and again.duplicate
    assert again.version == first.version
    with pytest.raises(RecordNotFoundError):
        await api.get(name, "y")


async def test_the_async_client_closes_its_pool(node: NodeProcess) -> None:
    async with AsyncClient(node.url) as client:
        assert (await client.health())["status"] in ("ok", "degraded")
    assert client.transport.http.is_closed
