"""One client's heavy filter never freezes the node for the others.

A search with a 100k-value ``$in`` filter caches its mask; a large upsert
must then keep that mask current under the collection's write lock. While
it runs, other clients read the collection's info and poll /health: none of
them may wait on the lock, so the event loop keeps answering.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from ruvstream.testing import NodeProcess, running_node

DIM = 8
STORED = 2_000
WRITTEN = 2_000
IN_VALUES = 100_000
WORST_HEALTH_SECONDS = 1.0


@pytest.fixture
def filled(tmp_path: Path) -> Iterator[NodeProcess]:
    with running_node(tmp_path / "node") as node:
        with httpx.Client(base_url=node.url, timeout=60) as http:
            assert http.put("/v1/collections/c", json={"dim": DIM}).status_code == 201
            assert http.post("/v1/collections/c/records", json=_records(0, STORED)).is_success
        yield node


def _records(start: int, count: int) -> dict[str, object]:
    rng = np.random.default_rng(start)
    vectors = rng.normal(size=(count, DIM)).tolist()
    return {
        "records": [
            {"id": f"r{start + i}", "vector": vectors[i], "metadata": {"tag": f"t{start + i}"}}
            for i in range(count)
        ]
    }


class _Poller(threading.Thread):
    """GETs one path over and over until told to stop; keeps the slowest answer."""

    def __init__(self, url: str, path: str) -> None:
        super().__init__(daemon=True)
        self.url, self.path = url, path
        self.worst = 0.0
        self.answers = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as http:
            while not self.stop.is_set():
                started = time.perf_counter()
                assert http.get(self.path).status_code == 200
                self.worst = max(self.worst, time.perf_counter() - started)
                self.answers += 1
                time.sleep(0.01)


def test_a_cached_heavy_filter_and_a_large_upsert_leave_health_prompt(
    filled: NodeProcess,
) -> None:
    values = [f"t{i}" for i in range(IN_VALUES)]
    query = {"vector": [0.1] * DIM, "k": 5, "filter": {"tag": {"$in": values}}}
    with httpx.Client(base_url=filled.url, timeout=120) as http:
        assert http.post("/v1/collections/c/search", json=query).status_code == 200
        health = _Poller(filled.url, "/health")
        info = _Poller(filled.url, "/v1/collections/c")
        health.start()
        info.start()
        try:
            deadline = time.monotonic() + 30
            while min(health.answers, info.answers) < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            written = http.post("/v1/collections/c/records", json=_records(STORED, WRITTEN))
            assert written.status_code == 200, written.text
        finally:
            health.stop.set()
            info.stop.set()
            health.join(60)
            info.join(60)
        assert health.answers >= 3 and info.answers >= 3
        assert health.worst < WORST_HEALTH_SECONDS, f"/health stalled {health.worst:.2f} s"
        # The mask kept current: every written record passes the cached filter.
        hits = http.post("/v1/collections/c/search", json={**query, "k": 1000}).json()["hits"]
        assert len(hits) == 1000
        assert any(int(h["id"][1:]) >= STORED for h in hits)
        assert http.get("/v1/collections/c").json()["count"] == STORED + WRITTEN
