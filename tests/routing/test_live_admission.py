"""Admission, live: one rate limit across two routers through the real Redis; shedding order."""

from __future__ import annotations

import contextlib
from pathlib import Path

import httpx
import pytest
import websockets

from ruvstream.routing import running_router

from .conftest import StartNode, eventually, keys_file, settings

REDIS_URL = "redis://127.0.0.1:6379/0"
SLOW = {"rate": 0.01, "burst": 10}  # ten requests, then one per 100 s: refill plays no part


@pytest.mark.redis
async def test_two_routers_share_one_rate_limit(start_node: StartNode, tmp_path: Path) -> None:
    node = start_node("us-east1", "e1")
    path, keys = keys_file(tmp_path, {"standard": SLOW})
    config = settings([node], keys_file=path, redis_url=REDIS_URL)
    headers = {"x-api-key": keys["standard"]}
    async with (
        running_router(config) as one,
        running_router(config) as two,
        httpx.AsyncClient(timeout=10) as client,
    ):
        answers = [
            await client.get((one, two)[i % 2] + "/v1/collections", headers=headers)
            for i in range(30)
        ]
        statuses = [a.status_code for a in answers]
        assert statuses.count(200) == 10 and statuses.count(429) == 20
        refused = next(a for a in answers if a.status_code == 429)
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["error"]["code"] == "rate_limited"
        other = {"x-api-key": keys["premium"]}  # another key has its own bucket
        assert (await client.get(two + "/v1/collections", headers=other)).status_code == 200


async def test_without_redis_each_router_limits_alone(
    start_node: StartNode, tmp_path: Path
) -> None:
    node = start_node("us-east1", "e1")
    path, keys = keys_file(tmp_path, {"standard": SLOW})
    config = settings([node], keys_file=path, redis_url="redis://127.0.0.1:1/0")
    headers = {"x-api-key": keys["standard"]}
    async with (
        running_router(config) as one,
        running_router(config) as two,
        httpx.AsyncClient(timeout=10) as client,
    ):
        answers = [
            await client.get((one, two)[i % 2] + "/v1/collections", headers=headers)
            for i in range(30)
        ]
        assert [a.status_code for a in answers].count(200) == 20  # Redis down: 10 per router


async def test_unknown_key_is_refused(start_node: StartNode, tmp_path: Path) -> None:
    node = start_node("us-east1", "e1")
    path, _ = keys_file(tmp_path)
    async with running_router(settings([node], keys_file=path)) as url:
        async with httpx.AsyncClient() as client:
            answer = await client.get(url + "/v1/collections", headers={"x-api-key": "nope"})
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "unauthorized"


async def test_free_is_shed_before_standard_before_premium(
    start_node: StartNode, tmp_path: Path
) -> None:
    node = start_node("us-east1", "e1")
    path, keys = keys_file(tmp_path)
    config = settings([node], keys_file=path, max_inflight=10)
    async with running_router(config) as url, httpx.AsyncClient(timeout=10) as client:
        router_ws = "ws" + url.removeprefix("http") + "/v1/ws"
        premium = {"x-api-key": keys["premium"]}

        async def status(tier: str) -> int:
            answer = await client.get(url + "/v1/collections", headers={"x-api-key": keys[tier]})
            return answer.status_code

        async with contextlib.AsyncExitStack() as held:
            assert [await status(t) for t in ("free", "standard", "premium")] == [200, 200, 200]
            for _ in range(5):  # premium sessions bring the router to half its capacity
                await held.enter_async_context(
                    websockets.connect(router_ws, additional_headers=premium)
                )
            assert [await status(t) for t in ("free", "standard", "premium")] == [503, 200, 200]
            for _ in range(4):  # now at 90 %
                await held.enter_async_context(
                    websockets.connect(router_ws, additional_headers=premium)
                )
            assert [await status(t) for t in ("free", "standard", "premium")] == [503, 503, 200]
            shed = await client.get(url + "/v1/collections", headers={"x-api-key": keys["free"]})
            assert shed.headers["retry-after"] == "1"
            assert shed.json()["error"]["code"] == "unavailable"

        async def calm() -> bool:
            return await status("free") == 200

        await eventually(calm, within=10)


async def test_nodes_reporting_overload_shed_free_and_standard(
    start_node: StartNode, tmp_path: Path
) -> None:
    node = start_node("us-east1", "e1", args=("--max-connections", "10"))
    path, keys = keys_file(tmp_path)
    async with (
        running_router(settings([node], keys_file=path)) as url,
        httpx.AsyncClient(timeout=10) as client,
        contextlib.AsyncExitStack() as held,
    ):
        for _ in range(9):  # nine sessions straight to the node: it reports overloaded
            await held.enter_async_context(websockets.connect(node.ws_url))

        async def overloaded() -> bool:
            body = (await client.get(url + "/health")).json()
            return bool(body["nodes"][0]["overloaded"])

        await eventually(overloaded, within=10)
        statuses = [
            (await client.get(url + "/v1/collections", headers={"x-api-key": keys[t]})).status_code
            for t in ("free", "standard", "premium")
        ]
        assert statuses == [503, 503, 200]


async def test_per_key_connection_cap(start_node: StartNode, tmp_path: Path) -> None:
    node = start_node("us-east1", "e1")
    path, keys = keys_file(tmp_path, {"free": {"max_connections": 2}})
    async with (
        running_router(settings([node], keys_file=path)) as url,
        httpx.AsyncClient(timeout=10) as client,
        contextlib.AsyncExitStack() as held,
    ):
        ws_url = "ws" + url.removeprefix("http") + "/v1/ws"
        free = {"x-api-key": keys["free"]}
        for _ in range(2):
            await held.enter_async_context(websockets.connect(ws_url, additional_headers=free))
        capped = await client.get(url + "/v1/collections", headers=free)
        assert capped.status_code == 429 and capped.json()["error"]["details"]["limit"] == 2
        other = await client.get(url + "/v1/collections", headers={"x-api-key": keys["standard"]})
        assert other.status_code == 200
