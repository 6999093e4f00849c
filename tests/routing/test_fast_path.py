"""The fast path for plain JSON searches, live: the same answers, the same refusals.

A fast router (``proxy_mode="fast"``, the default) sends a plain search over
its own keep-alive client and relays the node's answer whole, with the node's
``Content-Length``; the standard one streams it through aiohttp, re-chunked.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx
import pytest
import websockets

from ruvstream.routing import running_router
from ruvstream.routing.upstream import UpstreamError, UpstreamPool

from ..node.test_auth import create_key
from .conftest import StartNode, eventually, keys_file, settings
from .test_live_proxy import seed

SEARCH = "/v1/collections/c/search"


def fast(answer: httpx.Response) -> bool:
    """Relayed whole: its own length, not chunked (what the standard path sends)."""
    return "content-length" in answer.headers and "transfer-encoding" not in answer.headers


async def test_fast_search_answers_byte_for_byte_as_the_standard_path(
    start_node: StartNode,
) -> None:
    node = start_node("us-east1", "e1")
    await seed(node.url)
    queries = [
        {"vector": [1.0, 0.1, 0.0], "k": 2},
        {"vector": [0.0, 1.0, 0.0], "k": 3, "filter": {"k": "b"}},
        {"vector": [1.0, 0.0], "k": 2},  # wrong dimension: the node's 400
        {"vector": [1.0, 0.0, 0.0], "k": None},  # k: null, 400
    ]
    async with (
        running_router(settings([node], proxy_mode="fast")) as fast_url,
        running_router(settings([node], proxy_mode="standard")) as standard_url,
        httpx.AsyncClient(timeout=10) as client,
    ):
        for query in queries:
            direct = await client.post(node.url + SEARCH, json=query)
            quick = await client.post(fast_url + SEARCH, json=query)
            regular = await client.post(standard_url + SEARCH, json=query)
            assert fast(quick) and not fast(regular)
            assert quick.status_code == regular.status_code == direct.status_code
            assert quick.content == regular.content == direct.content
            assert quick.headers["content-type"] == regular.headers["content-type"]
            assert quick.headers["x-ruvstream-node"] == "e1"
        for path, body in (
            ("/v1/collections/nope/search", b'{"vector":[1],"k":1}'),
            (SEARCH, b"{"),
        ):
            headers = {"content-type": "application/json"}
            quick = await client.post(fast_url + path, content=body, headers=headers)
            regular = await client.post(standard_url + path, content=body, headers=headers)
            assert fast(quick)
            assert (quick.status_code, quick.content) == (regular.status_code, regular.content)
            assert quick.status_code in (400, 404)
        for url, path in ((fast_url, "fast"), (standard_url, "standard")):
            metrics = (await client.get(url + "/metrics")).text
            assert f'ruvstream_router_search_path_total{{path="{path}"}} 6.0' in metrics
        # Not plain: an SSE search takes the streamed path in a fast router; a batch is plain.
        events = await client.post(
            fast_url + SEARCH, json=queries[0], headers={"accept": "text/event-stream"}
        )
        assert events.headers["content-type"].startswith("text/event-stream") and not fast(events)
        batch = await client.post(fast_url + SEARCH + "/batch", json={"queries": [queries[0]]})
        assert batch.status_code == 200 and fast(batch)


async def test_fast_search_keeps_the_key_check_and_the_node_key(
    tmp_path: Path, start_node: StartNode
) -> None:
    node_keys = tmp_path / "node-keys.json"
    node_key = create_key(node_keys, "--scopes", "admin", "--name", "router")
    node = start_node("us-east1", "e1", args=("--api-keys", str(node_keys)))
    client_keys = tmp_path / "keys.json"
    admin = create_key(client_keys, "--scopes", "admin", "--tier", "premium")
    reader = create_key(client_keys, "--scopes", "read", "--tier", "premium")
    other = create_key(client_keys, "--scopes", "read", "--collections", "other")
    config = settings([node], api_keys=client_keys, node_key=node_key, anonymous_tier=None)
    query = {"vector": [1.0, 0.0], "k": 1}
    async with running_router(config) as url, httpx.AsyncClient(timeout=30) as http:
        put = await http.put(
            url + "/v1/collections/c", json={"dim": 2}, headers={"X-API-Key": admin}
        )
        assert put.status_code == 201, put.text
        record = {"records": [{"id": "a", "vector": [1.0, 0.0]}]}
        await http.post(
            url + "/v1/collections/c/records", json=record, headers={"X-API-Key": admin}
        )
        missing = await http.post(url + SEARCH, json=query)
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
        wrong = await http.post(url + SEARCH, json=query, headers={"X-API-Key": "nope"})
        assert wrong.status_code == 401
        elsewhere = await http.post(url + SEARCH, json=query, headers={"X-API-Key": other})
        assert elsewhere.status_code == 403 and elsewhere.json()["error"]["code"] == "forbidden"
        found = await http.post(
            url + SEARCH, json=query, headers={"Authorization": f"Bearer {reader}"}
        )
        # The node accepted the router's node key in place of the client's.
        assert found.status_code == 200 and fast(found) and found.json()["hits"][0]["id"] == "a"


async def test_fast_searches_are_shed_by_tier(start_node: StartNode, tmp_path: Path) -> None:
    node = start_node("us-east1", "e1", args=("--max-connections", "10"))
    await seed(node.url)
    path, keys = keys_file(tmp_path)
    query = {"vector": [1.0, 0.0, 0.0], "k": 1}
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

        await eventually(overloaded, within=20)
        answers = [
            await client.post(url + SEARCH, json=query, headers={"x-api-key": keys[tier]})
            for tier in ("free", "standard", "premium")
        ]
        assert [a.status_code for a in answers] == [503, 503, 200]
        assert answers[0].json()["error"]["code"] == "unavailable" and fast(answers[2])


async def test_a_pooled_connection_the_node_closed_is_replaced_unseen() -> None:
    """A node that reads a second request on a kept-alive connection, then closes it unanswered
    (as one whose keep-alive timeout fires just then): the request goes again, fresh."""
    answer = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
    connections = 0

    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        with contextlib.suppress(asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(answer_once, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    pool = UpstreamPool(connect_timeout=5.0, read_timeout=20.0)
    request = b"GET / HTTP/1.1\r\n" + pool.host_header(url) + b"\r\n"
    try:
        for _ in range(3):
            got = await pool.request(url, request)
            assert (got.status, got.body) == (200, b"{}")
        assert connections == 3  # the second and third went out again on a fresh one
        server.close()  # nothing listens any more: the resend cannot connect
        with pytest.raises(UpstreamError) as refused:
            await pool.request(url, request)
        assert refused.value.sent is False
    finally:
        pool.close()
        server.close()


async def test_a_kept_alive_connections_read_deadline_counts_from_each_request() -> None:
    """The deadline's one timer outlives the exchange that set it: a slow answer on the
    same connection still times out a read timeout after its own request, whether the
    timer was armed by an earlier request or had lapsed while the connection sat idle."""
    answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"
    delays = [0.0, 0.0, 2.0, 0.0, 2.0]
    handlers: list[asyncio.Future[object]] = []

    async def answer_late(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        me = asyncio.current_task()
        assert me is not None
        handlers.append(me)
        try:
            with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
                while delays:
                    await reader.readuntil(b"\r\n\r\n")
                    await asyncio.sleep(delays.pop(0))
                    writer.write(answer)
                    await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(answer_late, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    pool = UpstreamPool(connect_timeout=5.0, read_timeout=0.5)
    request = b"GET / HTTP/1.1\r\n" + pool.host_header(url) + b"\r\n"
    loop = asyncio.get_running_loop()
    try:
        for pause, slow in [(0.0, False), (0.2, False), (0.1, True), (0.7, False), (0.7, True)]:
            await asyncio.sleep(pause)
            started = loop.time()
            if not slow:
                assert (await pool.request(url, request)).status == 200
                continue
            with pytest.raises(UpstreamError, match=r"no answer in 0\.5 s"):
                await pool.request(url, request)
            assert 0.45 <= loop.time() - started < 1.5
    finally:
        pool.close()
        server.close()
        for handler in handlers:  # the last one still sleeps on its late answer
            handler.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)


async def test_fast_searches_go_around_a_killed_node_and_a_stalled_one(
    start_node: StartNode,
) -> None:
    e1, e2 = start_node("us-east1", "e1"), start_node("us-east1", "e2")
    for node in (e1, e2):
        await seed(node.url)
    query = {"vector": [1.0, 0.1, 0.0], "k": 1}
    config = settings([e1, e2], hedge_after_ms=100.0, probe_interval=30.0)
    async with running_router(config) as url, httpx.AsyncClient(timeout=20) as client:
        warm = [await client.post(url + SEARCH, json=query) for _ in range(4)]
        assert {a.headers["x-ruvstream-node"] for a in warm} == {"e1", "e2"}  # both pooled
        e2.pause()  # stalled: each search sent there is hedged to e1 after 100 ms
        try:
            stalled = [await client.post(url + SEARCH, json=query) for _ in range(4)]
        finally:
            e2.resume()
        assert all(a.status_code == 200 and fast(a) for a in stalled)
        assert {a.headers["x-ruvstream-node"] for a in stalled} == {"e1"}
        e1.kill()  # its pooled connections die with it; a fresh one is refused: never sent
        answers = [await client.post(url + SEARCH, json=query) for _ in range(6)]
        assert all(a.status_code == 200 and fast(a) for a in answers)
        assert {a.headers["x-ruvstream-node"] for a in answers} == {"e2"}
        assert answers[0].json()["hits"][0]["id"] == "a"
        health = (await client.get(url + "/health")).json()
        assert next(n for n in health["nodes"] if n["name"] == "e1")["healthy"] is False
