"""Standing queries: exactly the qualifying upserts are pushed, over WS and SSE."""

from __future__ import annotations

import asyncio
import threading

import httpx
import numpy as np
import orjson
import pytest
import websockets

from ruvstream.testing import NodeProcess

DIM = 8


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _create(http: httpx.Client, name: str) -> None:
    assert http.put(f"/v1/collections/{name}", json={"dim": DIM}).status_code == 201


def _records(rng: np.random.Generator, n: int, prefix: str) -> list[dict[str, object]]:
    return [
        {
            "id": f"{prefix}{i}",
            "vector": rng.normal(size=DIM).tolist(),
            "metadata": {"kind": "even" if i % 2 == 0 else "odd"},
        }
        for i in range(n)
    ]


async def _matches_after_results(ws: websockets.ClientConnection, writes: set[str]) -> set[str]:
    """Record ids of matches frames, read until every write was answered and a ping
    sent after them came back (matches are pushed before that pong)."""
    seen: set[str] = set()
    pending = set(writes)
    while pending:
        frame = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame["type"] == "matches":
            seen.update(entry["record"]["id"] for entry in frame["matches"])
        elif frame["type"] == "result":
            pending.discard(frame["id"])
        else:
            assert frame["type"] != "error", frame
    await ws.send(orjson.dumps({"id": "end", "op": "ping"}).decode())
    while (frame := orjson.loads(await asyncio.wait_for(ws.recv(), 10))).get("id") != "end":
        if frame["type"] == "matches":
            seen.update(entry["record"]["id"] for entry in frame["matches"])
    return seen


def test_ws_min_score_subscription_receives_exactly_the_qualifying_upserts(
    node: NodeProcess,
) -> None:
    rng = np.random.default_rng(7)
    query = _unit(rng.normal(size=DIM))
    records = _records(rng, 200, "r")
    threshold = 0.5
    expected = {
        r["id"] for r in records if float(_unit(np.array(r["vector"])) @ query) >= threshold
    }
    assert 5 < len(expected) < 150  # the test means something

    async def run() -> set[str]:
        async with websockets.connect(node.ws_url) as ws:
            with httpx.Client(base_url=node.url) as http:
                _create(http, "s")
            await ws.send(
                orjson.dumps(
                    {
                        "id": "sub",
                        "op": "subscribe",
                        "collection": "s",
                        "vector": query.tolist(),
                        "min_score": threshold,
                    }
                ).decode()
            )
            assert orjson.loads(await ws.recv())["type"] == "subscribed"
            for start in range(0, len(records), 50):
                await ws.send(
                    orjson.dumps(
                        {
                            "id": f"w{start}",
                            "op": "upsert",
                            "collection": "s",
                            "records": records[start : start + 50],
                        }
                    ).decode()
                )
            seen = await _matches_after_results(ws, {f"w{n}" for n in range(0, 200, 50)})
            return seen

    assert asyncio.run(run()) == expected


def test_top_k_subscription_pushes_records_that_enter_the_top_k(node: NodeProcess) -> None:
    query = np.zeros(DIM)
    query[0] = 1.0
    with httpx.Client(base_url=node.url) as http:
        _create(http, "t")
        # Seed: five records with cosine 0.0 .. 0.4 to the query.
        seed = []
        for i in range(5):
            v = np.zeros(DIM)
            v[0], v[1] = i / 10, np.sqrt(1 - (i / 10) ** 2)
            seed.append({"id": f"seed{i}", "vector": v.tolist()})
        http.post("/v1/collections/t/records", json={"records": seed}).raise_for_status()
        sub = http.post(
            "/v1/collections/t/subscriptions", json={"vector": query.tolist(), "k": 3}
        ).json()["id"]

        def later_writes() -> None:
            with httpx.Client(base_url=node.url) as writer:
                for name, cos in [("weak", 0.1), ("strong", 0.9), ("middle", 0.35)]:
                    v = np.zeros(DIM)
                    v[0], v[1] = cos, np.sqrt(1 - cos**2)
                    writer.post(
                        "/v1/collections/t/records",
                        json={"records": [{"id": name, "vector": v.tolist()}]},
                    )
                writer.delete(f"/v1/subscriptions/{sub}")

        received = []
        with http.stream("GET", f"/v1/subscriptions/{sub}/events", timeout=20) as stream:
            writer = threading.Thread(target=later_writes)
            lines = stream.iter_lines()
            for line in lines:
                if line.startswith("event: subscribed"):
                    writer.start()
                if line.startswith("event: end"):
                    break
                if line.startswith("data: ") and '"match"' not in line and '"score"' in line:
                    received.append(orjson.loads(line[6:])["id"])
            writer.join()
    # top-3 after seeding: 0.4, 0.3, 0.2. "weak" (0.1) stays out, "strong" enters,
    # then top-3 is 0.9, 0.4, 0.3 and "middle" (0.35) enters too.
    assert received == ["strong", "middle"]


def test_subscription_filter_and_unknown_subscription(node: NodeProcess) -> None:
    with httpx.Client(base_url=node.url) as http:
        _create(http, "f")
        response = http.get("/v1/subscriptions/nope/events")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "subscription_not_found"
        bad = http.post(
            "/v1/collections/f/subscriptions",
            json={"vector": [1.0] * DIM, "k": 3, "min_score": 0.5},
        )
        assert bad.status_code == 400


@pytest.mark.parametrize("kind", ["even"])
def test_filtered_ws_subscription_skips_non_matching_records(node: NodeProcess, kind: str) -> None:
    rng = np.random.default_rng(3)
    records = _records(rng, 40, "x")

    async def run() -> set[str]:
        async with websockets.connect(node.ws_url) as ws:
            with httpx.Client(base_url=node.url) as http:
                _create(http, "g")
            await ws.send(
                orjson.dumps(
                    {
                        "id": "s",
                        "op": "subscribe",
                        "collection": "g",
                        "vector": [1.0] * DIM,
                        "min_score": -1.0,
                        "filter": {"kind": kind},
                    }
                ).decode()
            )
            assert orjson.loads(await ws.recv())["type"] == "subscribed"
            await ws.send(
                orjson.dumps(
                    {"id": "w", "op": "upsert", "collection": "g", "records": records}
                ).decode()
            )
            return await _matches_after_results(ws, {"w"})

    assert asyncio.run(run()) == {r["id"] for r in records if r["metadata"]["kind"] == kind}
