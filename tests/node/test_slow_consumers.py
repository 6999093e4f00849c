"""A reader that falls behind costs bounded memory and is closed with its reason.

Each test runs a real node process, a raw-socket subscriber that does not
read (a small receive buffer, so the kernel absorbs little), and a writer
whose every upsert matches the subscription with a few KB of metadata.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from ruvstream.testing import NodeProcess, running_node
from tests.node import raw_peer

DIM = 8
BATCH = 100
METADATA_BYTES = 4096
MiB = 1024 * 1024
OUTBOX_BYTES = 2 * MiB
RSS_GROWTH_BOUND = 64 * MiB
"""What the node may grow by while a non-reading subscriber is fed 120 MB of matches."""
QUERY = {"vector": [1.0] * DIM, "min_score": -1e9}
"""Every upsert matches."""


def _batch(round_: int) -> dict[str, object]:
    pad = "x" * METADATA_BYTES
    return {
        "records": [
            {"id": f"r{i}", "vector": [1.0 + (i + round_) % 7] * DIM, "metadata": {"pad": pad}}
            for i in range(BATCH)
        ]
    }


def _metric(http: httpx.Client, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in http.get("/metrics").text.splitlines():
        if line.startswith(f"{name}{{{want}}}"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _write_until(http: httpx.Client, node: NodeProcess, done: object, rounds: int) -> int:
    """Write up to ``rounds`` batches, or until ``done()``; returns the peak RSS seen."""
    peak = raw_peer.rss_bytes(node.pid)
    for round_ in range(rounds):
        response = http.post("/v1/collections/c/records", json=_batch(round_))
        assert response.status_code == 200, response.text
        peak = max(peak, raw_peer.rss_bytes(node.pid))
        if callable(done) and done():
            break
    return peak


@pytest.fixture
def slow_node(tmp_path: Path) -> Iterator[NodeProcess]:
    args = ["--max-outbox-bytes", str(OUTBOX_BYTES), "--send-stall-seconds", "600"]
    with running_node(tmp_path / "node", args=args) as node:
        yield node


def test_websocket_subscriber_that_never_reads_is_closed_and_memory_stays_bounded(
    slow_node: NodeProcess,
) -> None:
    node = slow_node
    with httpx.Client(base_url=node.url, timeout=60) as http:
        assert http.put("/v1/collections/c", json={"dim": DIM}).status_code == 201
        http.post("/v1/collections/c/records", json=_batch(0))  # warm the write path
        sock = raw_peer.websocket(node.port)
        raw_peer.send_json(
            sock,
            {"id": "s", "op": "subscribe", "collection": "c", **QUERY},
        )
        sock.sendall(b"")  # the subscribe frame is out; from here the peer reads nothing
        time.sleep(0.5)  # the subscription starts before the load
        baseline = raw_peer.rss_bytes(node.pid)

        def closed() -> bool:
            return (
                _metric(
                    http,
                    "ruvstream_slow_consumer_closes_total",
                    transport="websocket",
                    cause="outbox",
                )
                >= 1
            )

        peak = _write_until(http, node, closed, rounds=300)
        assert closed(), "the subscriber was never closed as a slow consumer"
        after_close = raw_peer.rss_bytes(node.pid)
        # More load once it is closed: nothing of it is kept for the subscriber.
        peak = max(peak, _write_until(http, node, None, rounds=100))
        settled = raw_peer.rss_bytes(node.pid)
        assert peak - baseline < RSS_GROWTH_BOUND, (baseline, peak)
        assert settled - after_close < RSS_GROWTH_BOUND / 4, (after_close, settled)

        # Now the peer reads: the frames that were on their way, then why, then 1008.
        texts, code = raw_peer.frames_until_close(sock)
        last = orjson.loads(texts[-1])
        assert last["type"] == "error" and last["error"]["code"] == "slow_consumer", last
        assert code == 1008
        sock.close()
        assert http.get("/health").status_code == 200
        assert http.get("/v1/collections/c").status_code == 200


def test_websocket_peer_that_takes_no_bytes_is_cut_after_the_stall_timeout(
    tmp_path: Path,
) -> None:
    args = ["--send-stall-seconds", "2"]
    with (
        running_node(tmp_path / "node", args=args) as node,
        httpx.Client(base_url=node.url, timeout=60) as http,
    ):
        assert http.put("/v1/collections/c", json={"dim": DIM}).status_code == 201
        sock = raw_peer.websocket(node.port)
        raw_peer.send_json(sock, {"id": "s", "op": "subscribe", "collection": "c", **QUERY})
        time.sleep(0.5)

        def cut() -> bool:
            return (
                _metric(
                    http,
                    "ruvstream_slow_consumer_closes_total",
                    transport="websocket",
                    cause="stall",
                )
                >= 1
            )

        deadline = time.monotonic() + 60
        while not cut() and time.monotonic() < deadline:
            _write_until(http, node, cut, rounds=5)
            time.sleep(0.2)
        assert cut(), "a peer that took nothing was never cut"
        # The node aborted the connection: reading ends in a reset or an EOF.
        with pytest.raises((ConnectionError, OSError)):
            while True:
                raw_peer.read_frame(sock)
        sock.close()
        assert http.get("/health").status_code == 200


def test_sse_subscriber_that_never_reads_gets_an_error_event(slow_node: NodeProcess) -> None:
    node = slow_node
    with httpx.Client(base_url=node.url, timeout=60) as http:
        assert http.put("/v1/collections/c", json={"dim": DIM}).status_code == 201
        created = http.post("/v1/collections/c/subscriptions", json=QUERY)
        assert created.status_code == 201, created.text
        sub = created.json()["id"]
        sock = raw_peer.connect(node.port)
        sock.sendall(f"GET /v1/subscriptions/{sub}/events HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert raw_peer.read_head(sock).startswith(b"HTTP/1.1 200")
        baseline = raw_peer.rss_bytes(node.pid)
        # 40 MB of matches, ten times the subscription's queue bound, while nothing is read.
        peak = _write_until(http, node, None, rounds=100)
        assert peak - baseline < RSS_GROWTH_BOUND, (baseline, peak)
        body = b""
        sock.settimeout(30)
        while b"event: error" not in body and (chunk := sock.recv(1 << 20)):
            body += chunk
        assert b"event: error" in body, body[-300:]
        error = body[body.index(b"event: error") :].split(b"data: ", 1)[1].split(b"\n", 1)[0]
        assert orjson.loads(error)["code"] == "slow_consumer"
        sock.close()
        assert (
            _metric(http, "ruvstream_slow_consumer_closes_total", transport="sse", cause="queue")
            == 1
        )


def test_sse_peer_that_takes_no_bytes_is_cut_and_its_subscription_ends(tmp_path: Path) -> None:
    args = ["--send-stall-seconds", "2"]
    with (
        running_node(tmp_path / "node", args=args) as node,
        httpx.Client(base_url=node.url, timeout=60) as http,
    ):
        assert http.put("/v1/collections/c", json={"dim": DIM}).status_code == 201
        sub = http.post("/v1/collections/c/subscriptions", json=QUERY).json()["id"]
        sock = raw_peer.connect(node.port)
        sock.sendall(f"GET /v1/subscriptions/{sub}/events HTTP/1.1\r\nHost: x\r\n\r\n".encode())

        def cut() -> bool:
            return (
                _metric(
                    http, "ruvstream_slow_consumer_closes_total", transport="http", cause="stall"
                )
                >= 1
            )

        deadline = time.monotonic() + 60
        while not cut() and time.monotonic() < deadline:
            _write_until(http, node, cut, rounds=5)
            time.sleep(0.2)
        assert cut(), "an SSE peer that took nothing was never cut"
        while http.delete(f"/v1/subscriptions/{sub}").status_code != 404:
            assert time.monotonic() < deadline, "the cut stream's subscription stayed open"
            time.sleep(0.2)
        sock.close()
        assert http.get("/health").status_code == 200
