"""WebSocket sessions on a real node: multiplexing, subscriptions, reconnects, scale."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import numpy as np
import pytest

from ruvstream.client import AsyncClient, AsyncSession, SessionClosedError
from ruvstream.errors import DimensionMismatchError
from ruvstream.testing import NodeProcess

DIM = 8
rng = np.random.default_rng(3)
BASE = rng.standard_normal((200, DIM)).astype(np.float32)


async def seed(node: NodeProcess, name: str) -> None:
    async with AsyncClient(node.url) as client:
        await client.create_collection(name, DIM)
        await client.upsert_bulk(name, [(f"r{i}", v) for i, v in enumerate(BASE)])


async def test_session_searches_writes_and_reports_errors(
    make_api: Any, node: NodeProcess, name: str
) -> None:
    await seed(node, name)
    async with make_api(node.url).session() as session:
        await session.ping()
        assert (await session.search(name, BASE[7], k=3)).ids[0] == "r7"
        first = await session.upsert(name, [("w", BASE[0])], idempotency_key="ws-1")
        again = await session.upsert(name, [("w", BASE[0])], idempotency_key="ws-1")
        assert not first.duplicate and again.duplicate and again.version == first.version
        assert (await session.delete(name, ["w"])).count == 1
        with pytest.raises(DimensionMismatchError):
            await session.search(name, [1.0])


async def test_subscription_delivers_matches_as_an_iterator(
    make_api: Any, node: NodeProcess, name: str
) -> None:
    await seed(node, name)
    api = make_api(node.url)
    async with api.session() as session:
        subscription = await session.subscribe(name, BASE[0], min_score=0.99)
        await api.upsert(name, [("near", BASE[0] * 2.0), ("far", -BASE[0])])
        match = await subscription.next(within=10)
        assert match.id == "near" and match.subscription == subscription.id
        await subscription.close()
        assert await subscription.next(within=10) is None


async def test_session_resumes_subscriptions_after_the_node_restarts(
    make_api: Any, fresh_node: NodeProcess, name: str
) -> None:
    await seed(fresh_node, name)
    api = make_api(fresh_node.url)
    async with api.session(heartbeat=1.0) as session:
        subscription = await session.subscribe(name, BASE[1], min_score=0.99)
        old_id = subscription.id
        fresh_node.kill()
        waiting = asyncio.ensure_future(session.search(name, BASE[2], k=1))
        await asyncio.to_thread(fresh_node.restart)
        assert (await asyncio.wait_for(waiting, 30)).ids == ["r2"]  # held, then re-sent
        await subscription.wait_active(within=30)
        await api.upsert(name, [("after-restart", BASE[1])])
        match = await subscription.next(within=10)
        assert match.id == "after-restart"
        assert session.reconnects >= 1
        assert subscription.resumed >= 1 and subscription.id != old_id


async def test_a_session_that_cannot_reconnect_gives_up(fresh_node: NodeProcess) -> None:
    session = AsyncSession(fresh_node.ws_url, max_reconnect_attempts=2)
    await session.connect()
    fresh_node.kill()
    with pytest.raises(SessionClosedError):
        await asyncio.wait_for(session.ping(), 30)
    await session.close()


async def test_one_session_holds_1000_concurrent_searches(node: NodeProcess, name: str) -> None:
    await seed(node, name)
    async with AsyncSession(node.ws_url, max_inflight=1000) as session:
        queries = [BASE[i % len(BASE)] for i in range(1000)]
        results = await asyncio.gather(*(session.search(name, q, k=1) for q in queries))
    assert [r.ids[0] for r in results] == [f"r{i % len(BASE)}" for i in range(1000)]


async def test_1000_sessions_open_at_once_against_one_node(node: NodeProcess) -> None:
    sessions = [AsyncSession(node.ws_url, open_timeout=60, heartbeat=60) for _ in range(1000)]
    try:
        for start in range(0, 1000, 100):
            await asyncio.gather(*(s.connect() for s in sessions[start : start + 100]))
        assert all(s.connected for s in sessions)
        await asyncio.gather(*(s.ping() for s in sessions))
        async with httpx.AsyncClient(base_url=node.url) as http:
            metrics = (await http.get("/metrics")).text
        open_sockets = re.search(r'ruvstream_streams_active\{kind="websocket"\} (\S+)', metrics)
        assert open_sockets is not None and float(open_sockets.group(1)) >= 1000
    finally:
        await asyncio.gather(*(s.close() for s in sessions))


async def test_session_writes_invalidate_the_clients_cache(
    make_api: Any, node: NodeProcess, name: str
) -> None:
    await seed(node, name)
    api = make_api(node.url)
    probe = BASE[5] + 0.001
    assert (await api.search(name, probe, k=1)).ids == ["r5"]
    async with api.session() as session:
        await session.upsert(name, [("closest", probe)])
    fresh = await api.search(name, probe, k=1)
    assert not fresh.cached and fresh.ids == ["closest"]


async def test_heartbeats_notice_a_frozen_node_and_the_session_recovers(
    fresh_node: NodeProcess, name: str
) -> None:
    await seed(fresh_node, name)
    async with AsyncSession(fresh_node.ws_url, heartbeat=0.3, open_timeout=1.0) as session:
        subscription = await session.subscribe(name, BASE[3], min_score=0.99)
        fresh_node.pause()  # the socket stays open but nothing answers pings
        try:
            async with asyncio.timeout(30):
                while session.connected:  # noqa: ASYNC110 (no event for a drop; tests poll)
                    await asyncio.sleep(0.05)
        finally:
            fresh_node.resume()
        await subscription.wait_active(within=30)
        async with AsyncClient(fresh_node.url) as client:
            await client.upsert(name, [("thawed", BASE[3])])
        assert (await subscription.next(within=10)).id == "thawed"
        assert session.reconnects >= 1
