"""Admission control on a real node: connection limit, per-socket in-flight limit,
and the operational routes that stay open whatever the load."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import numpy as np
import pytest
from websockets.exceptions import InvalidHandshake, InvalidStatus
from websockets.sync.client import connect

from ruvstream.testing import NodeProcess, running_node

DIM = 16


def wait_for(check: object, seconds: float = 15.0) -> bool:
    """Poll ``check`` until true: the node notices closed streams asynchronously."""
    assert callable(check)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def seeded(node: NodeProcess, n: int = 500) -> None:
    vectors = np.random.default_rng(3).standard_normal((n, DIM)).astype(np.float32)
    with httpx.Client(base_url=node.url, timeout=30) as http:
        assert http.put("/v1/collections/c", json={"dim": DIM}).status_code == 201
        records = [{"id": str(i), "vector": v.tolist()} for i, v in enumerate(vectors)]
        assert http.post("/v1/collections/c/records", json={"records": records}).status_code == 200


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    args = ("--max-connections", "3", "--max-inflight-per-conn", "2")
    with running_node(tmp_path_factory.mktemp("admission"), args=args) as node:
        seeded(node)
        yield node


def ready_status(node: NodeProcess) -> int:
    return httpx.get(f"{node.url}/ready", timeout=10).status_code


def test_fourth_sse_stream_is_refused_until_one_closes(limited: NodeProcess) -> None:
    with httpx.Client(base_url=limited.url, timeout=30) as http, ExitStack() as streams:
        ids = []
        readers = []  # a dropped line iterator closes its stream: keep them alive
        for _ in range(3):
            created = http.post(
                "/v1/collections/c/subscriptions", json={"vector": [1.0] * DIM, "k": 3}
            )
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        for sub_id in ids:
            events = f"/v1/subscriptions/{sub_id}/events"
            response = streams.enter_context(http.stream("GET", events))
            assert response.status_code == 200
            lines = response.iter_lines()
            readers.append(lines)
            assert next(lines).startswith("event: subscribed")

        refused = http.get("/v1/collections")
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "unavailable"
        assert int(refused.headers["retry-after"]) >= 1
        refused = http.post("/v1/collections/c/search", json={"vector": [1.0] * DIM})
        assert refused.status_code == 503
        not_ready = httpx.get(f"{limited.url}/ready", timeout=10)
        assert not_ready.status_code == 503
        assert not_ready.json() == {"ready": False, "reason": "connection limit"}
        assert "retry-after" in not_ready.headers
        assert httpx.get(f"{limited.url}/health", timeout=10).status_code == 200

    assert wait_for(lambda: ready_status(limited) == 200)
    assert httpx.get(f"{limited.url}/v1/collections", timeout=10).status_code == 200


def test_fourth_websocket_is_refused(limited: NodeProcess) -> None:
    with ExitStack() as sockets:
        for i in range(3):
            ws = sockets.enter_context(connect(limited.ws_url, open_timeout=10))
            ws.send(json.dumps({"id": i, "op": "ping"}))
            assert json.loads(ws.recv(timeout=10)) == {"id": i, "type": "pong"}
        with (
            pytest.raises((InvalidHandshake, InvalidStatus, ConnectionError)),
            connect(limited.ws_url, open_timeout=10) as fourth,
        ):
            fourth.recv(timeout=10)
        assert ready_status(limited) == 503
        refused = httpx.get(f"{limited.url}/v1/collections", timeout=10)
        assert refused.status_code == 503 and "retry-after" in refused.headers
    assert wait_for(lambda: ready_status(limited) == 200)


def test_inflight_limit_per_socket(limited: NodeProcess) -> None:
    query = np.random.default_rng(5).standard_normal(DIM).tolist()
    frames = [
        json.dumps({"id": i, "op": "search", "collection": "c", "vector": query, "k": 100})
        for i in range(60)
    ]
    with connect(limited.ws_url, open_timeout=10) as ws:
        for frame in frames:
            ws.send(frame)
        replies = [json.loads(ws.recv(timeout=20)) for _ in frames]
        ws.send(json.dumps({"id": "after", "op": "ping"}))
        assert json.loads(ws.recv(timeout=10)) == {"id": "after", "type": "pong"}

    assert sorted(r["id"] for r in replies) == list(range(60)), "one reply per request"
    results = [r for r in replies if r["type"] == "result"]
    limited_frames = [r for r in replies if r["type"] == "error"]
    assert results and limited_frames
    assert all(r["error"]["code"] == "rate_limited" for r in limited_frames)
    assert all(r["error"]["retry_after"] > 0 for r in limited_frames)
    assert all(len(r["hits"]) == 100 for r in results)


def test_metrics_are_prometheus_text(tmp_path: Path) -> None:
    with running_node(tmp_path / "metrics") as node:
        seeded(node, n=50)
        with httpx.Client(base_url=node.url, timeout=30) as http:
            assert http.post("/v1/collections/c/search", json={"vector": [1.0] * DIM}).is_success
            response = http.get("/metrics")
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/plain")
            text = response.text
            openapi = http.get("/openapi.json")
    samples = [line for line in text.splitlines() if line and not line.startswith("#")]
    names = {line.split("{")[0].split(" ")[0] for line in samples}
    assert any(n.startswith("ruvstream_http_requests_total") for n in names), sorted(names)[:20]
    assert any(n.startswith("ruvstream_index_vectors") for n in names), sorted(names)[:20]
    vectors = [line for line in text.splitlines() if line.startswith("ruvstream_index_vectors")]
    assert any(float(line.rsplit(" ", 1)[1]) == 50.0 for line in vectors), vectors
    assert all(n.startswith(("ruvstream_", "python_", "process_")) for n in names)

    assert openapi.status_code == 200
    spec = openapi.json()
    assert spec["openapi"].startswith("3.")
    paths = set(spec["paths"])
    assert {"/v1/collections/{name}", "/v1/collections/{name}/search"} <= paths
    ops = ("/health", "/ready", "/metrics", "/openapi.json")
    assert all(p.startswith("/v1/") or p in ops for p in paths)


def test_a_client_within_the_inflight_limit_is_never_refused(limited: NodeProcess) -> None:
    """Windows of exactly the limit, each sent once the last is answered: a reply
    written at once must not leave its request counted against the next window."""
    query = np.random.default_rng(6).standard_normal(DIM).tolist()
    with connect(limited.ws_url, open_timeout=10) as ws:
        for window in range(150):
            for i in range(2):  # the fixture's --max-inflight-per-conn
                frame = {"id": f"{window}-{i}", "op": "subscribe", "collection": "c"}
                ws.send(json.dumps({**frame, "vector": query, "min_score": 0.99}))
            replies = [json.loads(ws.recv(timeout=10)) for _ in range(2)]
            assert all(r["type"] == "subscribed" for r in replies), replies
