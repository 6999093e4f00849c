"""Many standing queries over several WebSockets, several writers at once:
every expected match arrives exactly once, and no other."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from typing import Any

import httpx
import numpy as np
import orjson
import websockets

from ruvstream.testing import NodeProcess

DIM = 16
SOCKETS = 4
SUBSCRIPTIONS = 240
WRITERS = 4
BATCHES = 8
BATCH = 50
THRESHOLD = 0.45
FILTERS: list[tuple[dict[str, Any] | None, set[str]]] = [
    (None, {"even", "odd"}),
    ({"kind": "even"}, {"even"}),
    ({"kind": {"$in": ["odd"]}}, {"odd"}),
]
"""Each filter, and the kinds it lets through."""


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def _records(writer: int) -> list[list[dict[str, Any]]]:
    rng = np.random.default_rng(100 + writer)
    batches = []
    for b in range(BATCHES):
        batches.append(
            [
                {
                    "id": f"w{writer}-{b}-{i}",
                    "vector": rng.normal(size=DIM).tolist(),
                    "metadata": {"kind": "even" if i % 2 == 0 else "odd"},
                }
                for i in range(BATCH)
            ]
        )
    return batches


def _expected(queries: np.ndarray, records: list[dict[str, Any]]) -> dict[int, Counter[str]]:
    vectors = _unit(np.array([r["vector"] for r in records]))
    scores = _unit(queries) @ vectors.T
    assert np.abs(scores - THRESHOLD).min() > 1e-6, "no pair so close that float32 could decide"
    out: dict[int, Counter[str]] = {}
    for q in range(len(queries)):
        kinds = FILTERS[q % len(FILTERS)][1]
        out[q] = Counter(
            r["id"]
            for col, r in enumerate(records)
            if scores[q, col] >= THRESHOLD and r["metadata"]["kind"] in kinds
        )
    return out


def _write_all(node: NodeProcess, batches_by_writer: list[list[list[dict[str, Any]]]]) -> None:
    def writer(batches: list[list[dict[str, Any]]]) -> None:
        with httpx.Client(base_url=node.url, timeout=60) as http:
            for batch in batches:
                r = http.post("/v1/collections/cc/records", json={"records": batch})
                assert r.status_code == 200, r.text

    threads = [threading.Thread(target=writer, args=(b,)) for b in batches_by_writer]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


async def _run(node: NodeProcess, queries: np.ndarray, total: int) -> dict[int, Counter[str]]:
    got: dict[int, Counter[str]] = {q: Counter() for q in range(len(queries))}
    by_sub: dict[str, int] = {}
    received = 0
    conns = [await websockets.connect(node.ws_url) for _ in range(SOCKETS)]
    try:
        for q in range(len(queries)):
            frame: dict[str, Any] = {
                "id": f"s{q}",
                "op": "subscribe",
                "collection": "cc",
                "vector": queries[q].tolist(),
                "min_score": THRESHOLD,
            }
            if (flt := FILTERS[q % len(FILTERS)][0]) is not None:
                frame["filter"] = flt
            ws = conns[q % SOCKETS]
            await ws.send(orjson.dumps(frame).decode())
            answer = orjson.loads(await asyncio.wait_for(ws.recv(), 30))
            assert answer["type"] == "subscribed", answer
            by_sub[answer["subscription"]] = q
        batches = [_records(w) for w in range(WRITERS)]
        writing = asyncio.create_task(asyncio.to_thread(_write_all, node, batches))

        async def reader(ws: websockets.ClientConnection) -> None:
            nonlocal received
            while received < total:
                try:
                    raw = await asyncio.wait_for(ws.recv(), 0.5)
                except TimeoutError:
                    continue
                frame = orjson.loads(raw)
                assert frame["type"] == "matches", frame
                for entry in frame["matches"]:
                    got[by_sub[entry["subscription"]]][entry["record"]["id"]] += 1
                    received += 1

        await asyncio.wait_for(asyncio.gather(*(reader(ws) for ws in conns)), 60)
        await writing
        for n, ws in enumerate(conns):  # anything more (a duplicate) arrives before the pong
            await ws.send(orjson.dumps({"id": f"end{n}", "op": "ping"}).decode())
            while (frame := orjson.loads(await asyncio.wait_for(ws.recv(), 30))).get(
                "id"
            ) != f"end{n}":
                for entry in frame["matches"]:
                    got[by_sub[entry["subscription"]]][entry["record"]["id"]] += 1
    finally:
        for ws in conns:
            await ws.close()
    return got


def test_every_expected_match_arrives_exactly_once(node: NodeProcess) -> None:
    with httpx.Client(base_url=node.url) as http:
        assert http.put("/v1/collections/cc", json={"dim": DIM}).status_code == 201
    queries = np.random.default_rng(9).normal(size=(SUBSCRIPTIONS, DIM))
    records = [r for w in range(WRITERS) for batch in _records(w) for r in batch]
    expected = _expected(queries, records)
    total = sum(sum(c.values()) for c in expected.values())
    assert total > 1000, "the test means something"
    got = asyncio.run(_run(node, queries, total))
    assert got == expected
