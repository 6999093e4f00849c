"""Every transport returns the same hits for the same query (congruence)."""

from __future__ import annotations

import asyncio

import httpx
import numpy as np
import orjson
import websockets

from ruvstream.testing import NodeProcess


def _sse_events(text: str) -> list[tuple[str, dict[str, object]]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((lines["event"], orjson.loads(lines["data"])))
    return events


async def _ws_search_all(url: str, queries: np.ndarray, k: int) -> dict[str, list[str]]:
    async with websockets.connect(url) as ws:
        for number, query in enumerate(queries):  # all in flight at once
            frame = {
                "id": f"q{number}",
                "op": "search",
                "collection": "glove",
                "vector": query.tolist(),
                "k": k,
            }
            await ws.send(orjson.dumps(frame).decode())
        answers: dict[str, list[str]] = {}
        while len(answers) < len(queries):
            reply = orjson.loads(await ws.recv())
            assert reply["type"] == "result", reply
            answers[reply["id"]] = [h["id"] for h in reply["hits"]]
        return answers


def test_http_sse_ws_and_batch_agree(
    glove_node: NodeProcess, glove: tuple[np.ndarray, np.ndarray]
) -> None:
    _, queries = glove
    queries = queries[:40]
    k = 10
    with httpx.Client(base_url=glove_node.url, timeout=30) as http:
        plain = [
            [
                h["id"]
                for h in http.post(
                    "/v1/collections/glove/search", json={"vector": q.tolist(), "k": k}
                ).json()["hits"]
            ]
            for q in queries
        ]
        batch = http.post(
            "/v1/collections/glove/search/batch",
            json={"queries": [{"vector": q.tolist(), "k": k} for q in queries]},
        ).json()["results"]
        streamed = []
        for q in queries:
            response = http.post(
                "/v1/collections/glove/search",
                json={"vector": q.tolist(), "k": k},
                headers={"Accept": "text/event-stream"},
            )
            assert response.headers["content-type"].startswith("text/event-stream")
            events = _sse_events(response.text)
            assert events[-1][0] == "done" and events[-1][1]["count"] == k
            streamed.append([e[1]["id"] for e in events if e[0] == "hit"])
    over_ws = asyncio.run(_ws_search_all(glove_node.ws_url, queries, k))
    assert [[h["id"] for h in r["hits"]] for r in batch] == plain
    assert streamed == plain
    assert [over_ws[f"q{n}"] for n in range(len(queries))] == plain


def test_websocket_ping_and_concurrent_requests_keep_their_ids(glove_node: NodeProcess) -> None:
    async def run() -> None:
        async with websockets.connect(glove_node.ws_url) as ws:
            await ws.send(orjson.dumps({"id": "p", "op": "ping"}).decode())
            assert orjson.loads(await ws.recv()) == {"id": "p", "type": "pong"}

    asyncio.run(run())
