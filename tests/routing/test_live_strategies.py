"""The four strategies, live: real nodes behind a real router, counted by the answering node."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import websockets

from ruvstream.routing import running_router

from .conftest import StartNode, served_by, settings


async def count(url: str, n: int) -> Counter[str]:
    async with httpx.AsyncClient(timeout=10) as client:
        return Counter([served_by(await client.get(url + "/v1/collections")) for _ in range(n)])


PATIENT = 5.0
"""Probe timeout for exact-count tests: a probe slowed by a busy machine must not
take a healthy node out of the rotation mid-count."""


async def test_round_robin_least_connections_and_weighted(start_node: StartNode) -> None:
    nodes = [start_node("us-east1", f"e{i}") for i in range(3)]
    rr = settings(nodes, strategy="round-robin", probe_timeout=PATIENT)
    async with running_router(rr) as url:
        assert await count(url, 30) == {"e0": 10, "e1": 10, "e2": 10}
    lc = settings(nodes, strategy="least-connections", probe_timeout=PATIENT)
    async with running_router(lc) as url:
        assert await count(url, 30) == {"e0": 10, "e1": 10, "e2": 10}  # idle ties share
    weights = {"e0": 3.0, "e1": 1.0, "e2": 1.0}
    weighted = settings(nodes, strategy="weighted", weights=weights, probe_timeout=PATIENT)
    async with running_router(weighted) as url:
        assert await count(url, 50) == {"e0": 30, "e1": 10, "e2": 10}


async def test_least_connections_avoids_the_node_holding_streams(start_node: StartNode) -> None:
    nodes = [start_node("us-east1", f"e{i}") for i in range(2)]
    async with running_router(settings(nodes, strategy="least-connections")) as url:
        ws_url = "ws" + url.removeprefix("http") + "/v1/ws"
        async with websockets.connect(ws_url) as held:
            await held.send('{"id": "p", "op": "ping"}')
            await held.recv()
            counts = await count(url, 10)
        assert len(counts) == 1 and sum(counts.values()) == 10  # all on the idle node


async def test_adaptive_sends_less_to_the_loaded_node(start_node: StartNode) -> None:
    calm, busy = (
        start_node("us-east1", "calm"),
        start_node("us-east1", "busy", args=("--max-inflight-per-conn", "4096")),
    )
    async with httpx.AsyncClient() as client:
        await client.put(busy.url + "/v1/collections/c", json={"dim": 4})
    async with websockets.connect(busy.ws_url, max_queue=None) as ws:
        for i in range(900):  # 900 standing queries: the node reports 901 streams
            await ws.send(
                f'{{"id": "s{i}", "op": "subscribe", "collection": "c", "vector": [1,0,0,0], '
                '"k": 1}'
            )
        for _ in range(900):
            await ws.recv()
        async with running_router(settings([calm, busy], strategy="adaptive")) as url:
            async with httpx.AsyncClient() as client:
                health = (await client.get(busy.url + "/health")).json()
                assert health["streams"] >= 900
                # Count once the router's probes have seen the load (CPU readings
                # of a just-started node are noise for a moment).
                for _ in range(50):
                    nodes = (await client.get(url + "/health")).json()["nodes"]
                    score = {n["name"]: n.get("score", 0) for n in nodes}
                    if score.get("busy", 100) < score.get("calm", 0):
                        break
                    await asyncio.sleep(0.2)
            counts = await count(url, 100)
            async with httpx.AsyncClient() as client:
                seen = (await client.get(url + "/health")).json()["nodes"]
    assert counts["calm"] > counts["busy"] > 0, (counts, seen)
