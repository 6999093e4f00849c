"""The proxy paths, live: REST, SSE streaming, WebSocket relay and session failover, ops."""

from __future__ import annotations

import json

import httpx
import websockets
from httpx_sse import aconnect_sse

from ruvstream.routing import running_router

from .conftest import StartNode, eventually, served_by, settings

VECTORS = {"a": [1.0, 0.0, 0.0], "b": [0.0, 1.0, 0.0], "c": [0.7, 0.7, 0.0]}


async def seed(url: str) -> None:
    async with httpx.AsyncClient() as client:
        assert (await client.put(url + "/v1/collections/c", json={"dim": 3})).status_code == 201
        records = [{"id": k, "vector": v, "metadata": {"k": k}} for k, v in VECTORS.items()]
        answer = await client.post(url + "/v1/collections/c/records", json={"records": records})
        assert answer.json()["upserted"] == 3


async def test_rest_and_sse_pass_through(start_node: StartNode) -> None:
    node = start_node("us-east1", "e1")
    await seed(node.url)
    async with running_router(settings([node])) as url, httpx.AsyncClient(timeout=10) as client:
        query = {"vector": [1.0, 0.1, 0.0], "k": 2}
        direct = (await client.post(node.url + "/v1/collections/c/search", json=query)).json()
        routed = await client.post(url + "/v1/collections/c/search", json=query)
        assert routed.json()["hits"] == direct["hits"] and served_by(routed) == "e1"
        missing = await client.get(url + "/v1/collections/nope")
        assert (
            missing.status_code == 404 and missing.json()["error"]["code"] == "collection_not_found"
        )
        events = []
        async with aconnect_sse(
            client, "POST", url + "/v1/collections/c/search", json=query
        ) as sse:
            assert sse.response.headers["content-type"].startswith("text/event-stream")
            async for event in sse.aiter_sse():
                events.append((event.event, json.loads(event.data)))
        assert [e for e, _ in events] == ["hit", "hit", "done"]
        assert [d["id"] for e, d in events if e == "hit"] == [h["id"] for h in direct["hits"]]


async def test_subscription_events_stream_through_the_router(start_node: StartNode) -> None:
    nodes = {n.node_id: n for n in (start_node("us-east1", "e1"), start_node("us-east1", "e2"))}
    for node in nodes.values():
        await seed(node.url)
    async with (
        running_router(settings(list(nodes.values()))) as url,
        httpx.AsyncClient(timeout=10) as client,
    ):
        created = await client.post(
            url + "/v1/collections/c/subscriptions", json={"vector": [0, 0, 1.0], "k": 1}
        )
        sub, home = created.json()["id"], nodes[served_by(created)]
        # round-robin would send the next request elsewhere; affinity keeps it home
        async with aconnect_sse(client, "GET", f"{url}/v1/subscriptions/{sub}/events") as sse:
            assert served_by(sse.response) == home.node_id
            record = {"records": [{"id": "z", "vector": [0, 0, 1.0]}]}
            await client.post(home.url + "/v1/collections/c/records", json=record)
            async for event in sse.aiter_sse():  # arrives while the stream stays open
                if event.event == "match":
                    assert json.loads(event.data)["id"] == "z"
                    break
        gone = await client.delete(f"{url}/v1/subscriptions/{sub}")
        assert served_by(gone) == home.node_id


async def test_websocket_relay_and_failover(start_node: StartNode) -> None:
    e1, e2 = start_node("us-east1", "e1"), start_node("us-east1", "e2")
    for node in (e1, e2):
        await seed(node.url)
    async with (
        running_router(settings([e1, e2])) as url,
        websockets.connect("ws" + url.removeprefix("http") + "/v1/ws") as ws,
    ):
        await ws.send(
            json.dumps({"id": "r1", "op": "search", "collection": "c", "vector": [1, 0, 0], "k": 1})
        )
        reply = json.loads(await ws.recv())
        assert reply["id"] == "r1" and reply["hits"][0]["id"] == "a"
        e1.kill()  # round-robin placed this session on e1
        notice = json.loads(await ws.recv())
        assert notice["type"] == "error" and notice["error"]["code"] == "unavailable"
        assert notice["error"]["details"] == {"moved_from": "e1", "moved_to": "e2"}
        await ws.send(json.dumps({"id": "r2", "op": "ping"}))
        assert json.loads(await ws.recv()) == {"id": "r2", "type": "pong"}


async def test_router_ops_routes(start_node: StartNode) -> None:
    node = start_node("us-east1", "e1")
    async with running_router(settings([node])) as url, httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(url + "/ready")).status_code == 200
        health = (await client.get(url + "/health")).json()
        assert health["role"] == "router" and health["nodes"][0]["healthy"] is True
        await client.get(url + "/v1/collections")
        metrics = (await client.get(url + "/metrics")).text
        assert (
            'ruvstream_router_requests_total{protocol="http",region="us-east1",status="2xx"} 1.0'
            in metrics
        )
        node.kill()

        async def not_ready() -> bool:
            return (await client.get(url + "/ready")).status_code == 503

        await eventually(not_ready, within=10)
        down = await client.get(url + "/v1/collections")
        assert down.status_code == 503 and down.headers["retry-after"] == "1"
