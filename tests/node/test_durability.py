"""Acknowledged writes survive kill -9; SIGTERM drains; torn WAL tails are skipped."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import orjson
import websockets
from websockets.exceptions import ConnectionClosed

from ruvstream.testing import NodeProcess, running_node

from ..storage.helpers import missing

DIM = 16


def _writer(url: str, prefix: str, acked: list[str], stop: threading.Event) -> None:
    rng = np.random.default_rng(abs(hash(prefix)) % 2**32)
    with httpx.Client(base_url=url, timeout=10) as http:
        n = 0
        while not stop.is_set():
            ids = [f"{prefix}-{n + i}" for i in range(5)]
            records = [
                {"id": i, "vector": rng.normal(size=DIM).tolist(), "metadata": {"i": i}}
                for i in ids
            ]
            try:
                response = http.post("/v1/collections/d/records", json={"records": records})
            except httpx.HTTPError:
                return  # the node died mid-request: that write was never acknowledged
            if response.status_code == 200:
                acked.extend(ids)
            n += 5


def test_kill_9_during_write_load_loses_no_acknowledged_write(tmp_path: Path) -> None:
    # Snapshots every 0.3 s so the kill also lands between snapshot and WAL checkpoint.
    with running_node(tmp_path / "n", args=("--snapshot-interval", "0.3")) as node:
        httpx.put(f"{node.url}/v1/collections/d", json={"dim": DIM}).raise_for_status()
        acked: list[str] = []
        stop = threading.Event()
        writers = [
            threading.Thread(target=_writer, args=(node.url, f"w{i}", acked, stop))
            for i in range(4)
        ]
        for w in writers:
            w.start()
        deadline = time.monotonic() + 20
        while len(acked) < 1500 and time.monotonic() < deadline:
            time.sleep(0.05)
        node.kill()
        stop.set()
        for w in writers:
            w.join()
        assert len(acked) >= 500
        node.start()
        assert missing(node.url, acked) == []
        count = httpx.get(f"{node.url}/v1/collections/d").json()["count"]
        assert count >= len(acked)


def test_torn_last_wal_frame_is_skipped_and_the_rest_survives(tmp_path: Path) -> None:
    with running_node(tmp_path / "n") as node:
        httpx.put(f"{node.url}/v1/collections/d", json={"dim": DIM}).raise_for_status()
        ids = [f"r{i}" for i in range(50)]
        for record_id in ids:
            httpx.post(
                f"{node.url}/v1/collections/d/records",
                json={
                    "records": [
                        {"id": record_id, "vector": [1.0] * DIM, "metadata": {"i": record_id}}
                    ]
                },
            ).raise_for_status()
        node.kill()
        segment = sorted((tmp_path / "n" / "wal").glob("wal-*.log"))[-1]
        data = segment.read_bytes()
        # A crash mid-write: a frame header that promises more bytes than follow.
        segment.write_bytes(data + data[-60:-20])
        node.start()
        assert missing(node.url, ids) == []
        httpx.post(
            f"{node.url}/v1/collections/d/records",
            json={"records": [{"id": "after", "vector": [1.0] * DIM, "metadata": {"i": "after"}}]},
        ).raise_for_status()
        node.kill()
        node.start()
        assert missing(node.url, [*ids, "after"]) == []


async def _hold_streams(node: NodeProcess) -> tuple[int | None, list[str]]:
    """Open a WebSocket and an SSE subscription, SIGTERM the node, see how they end."""
    events: list[str] = []
    async with (
        websockets.connect(node.ws_url) as ws,
        httpx.AsyncClient(base_url=node.url, timeout=30) as http,
    ):
        sub = (
            await http.post("/v1/collections/d/subscriptions", json={"vector": [1.0] * DIM, "k": 5})
        ).json()["id"]
        async with http.stream("GET", f"/v1/subscriptions/{sub}/events") as stream:
            lines = stream.aiter_lines()
            while not (await anext(lines)).startswith("event: subscribed"):
                pass
            await ws.send(orjson.dumps({"id": "p", "op": "ping"}).decode())
            assert orjson.loads(await ws.recv())["type"] == "pong"
            await asyncio.to_thread(node.process.terminate)  # type: ignore[union-attr]
            async for line in lines:
                if line.startswith("event:"):
                    events.append(line)
        try:
            await asyncio.wait_for(ws.recv(), 20)
        except ConnectionClosed as closed:
            return (closed.rcvd.code if closed.rcvd else None), events
    return None, events


def test_sigterm_drains_closes_websockets_with_1001_and_exits_0(tmp_path: Path) -> None:
    with running_node(tmp_path / "n") as node:
        httpx.put(f"{node.url}/v1/collections/d", json={"dim": DIM}).raise_for_status()
        httpx.post(
            f"{node.url}/v1/collections/d/records",
            json={"records": [{"id": "kept", "vector": [1.0] * DIM, "metadata": {"i": "kept"}}]},
        ).raise_for_status()
        code, events = asyncio.run(_hold_streams(node))
        assert code == 1001
        assert events == ["event: end"]
        assert node.process is not None and node.process.wait(timeout=30) == 0
        snapshots = list((tmp_path / "n" / "snapshots").glob("snap-*"))
        assert snapshots, "a drained node leaves a snapshot"
        node.start()
        assert missing(node.url, ["kept"]) == []


def test_a_second_node_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    with running_node(tmp_path / "node") as first:
        httpx.put(f"{first.url}/v1/collections/kept", json={"dim": 2}).raise_for_status()
        second = NodeProcess(tmp_path / "node")
        second_log = tmp_path / "node" / "node.log"
        try:
            second.start()
        except Exception:
            pass
        else:  # pragma: no cover - the point of the test
            second.stop()
            raise AssertionError("a second node started on a data dir already in use")
        assert "is in use by another ruvstream node" in second_log.read_text()
        assert httpx.get(f"{first.url}/v1/collections/kept").status_code == 200
    with running_node(tmp_path / "node") as again:  # the lock went with the first node
        assert httpx.get(f"{again.url}/v1/collections/kept").status_code == 200
