"""Writers never starve: a write completes while a heavy search load keeps running.

Searches come from several clients in closed loops, each sending batches of
hundreds of queries, so the node's search queue never empties. The writes
must be answered while that load is still running (the load stops only once
every write was answered, or at a generous deadline, which the test then
reports as starvation).
"""

from __future__ import annotations

import asyncio

import httpx
import numpy as np

from ruvstream.testing import NodeProcess

DIM = 32
ROWS = 10_000
SEARCHERS = 6
QUERIES_PER_CALL = 400
WRITES = 5
DEADLINE = 30.0


def _fill(node: NodeProcess) -> None:
    rng = np.random.default_rng(11)
    with httpx.Client(base_url=node.url, timeout=120) as http:
        assert http.put("/v1/collections/w", json={"dim": DIM}).status_code == 201
        for start in range(0, ROWS, 2500):
            records = [
                {"id": f"r{i}", "vector": rng.normal(size=DIM).tolist()}
                for i in range(start, start + 2500)
            ]
            http.post("/v1/collections/w/records", json={"records": records}).raise_for_status()


async def _load(node: NodeProcess) -> tuple[int, int, bool]:
    """Searches before the writes, searches during them, and whether the writes
    were all answered before the deadline."""
    stop = asyncio.Event()
    warm = asyncio.Event()
    counts = {"searches": 0}
    rng = np.random.default_rng(12)
    queries = [rng.normal(size=DIM).tolist() for _ in range(QUERIES_PER_CALL)]
    limits = httpx.Limits(max_connections=SEARCHERS + 4)

    async with httpx.AsyncClient(base_url=node.url, timeout=DEADLINE, limits=limits) as http:

        async def searcher() -> None:
            while not stop.is_set():
                body = {"queries": [{"vector": q, "k": 20, "ef": 100} for q in queries]}
                response = await http.post("/v1/collections/w/search/batch", json=body)
                assert response.status_code == 200, response.text
                counts["searches"] += QUERIES_PER_CALL
                if counts["searches"] >= 4 * QUERIES_PER_CALL:
                    warm.set()

        tasks = [asyncio.create_task(searcher()) for _ in range(SEARCHERS)]
        await asyncio.wait_for(warm.wait(), DEADLINE)  # the load is running
        before = counts["searches"]

        async def writes() -> None:
            for n in range(WRITES):
                record = {"id": f"new{n}", "vector": [1.0] * DIM}
                response = await http.post("/v1/collections/w/records", json={"records": [record]})
                assert response.status_code == 200, response.text

        try:
            await asyncio.wait_for(writes(), DEADLINE)
            answered = True
        except TimeoutError:
            answered = False
        during = counts["searches"] - before
        stop.set()
        await asyncio.gather(*tasks)
    return before, during, answered


def test_writes_complete_while_a_search_load_runs(node: NodeProcess) -> None:
    _fill(node)
    before, during, answered = asyncio.run(_load(node))
    assert before >= 4 * QUERIES_PER_CALL, "the search load was running"
    assert answered, f"writes starved behind {during} searches"
    assert during > 0
    with httpx.Client(base_url=node.url) as http:
        assert http.get("/v1/collections/w/records/new4").status_code == 200
