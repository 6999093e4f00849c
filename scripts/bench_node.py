"""Single-node benchmark: raw index vs served over HTTP and WebSocket, one run.

    .venv/bin/python scripts/bench_node.py [--n 100000] [--clients 32] [--rounds 3]

Measures raw faiss-HNSW QPS (single-query and batched) at the node's default
parameters, then served QPS, p50/p99 latency and recall@10 over HTTP and over
WebSocket with N concurrent closed-loop clients, and the served/raw ratios.
This machine's speed drifts by tens of percent within minutes, so each round
measures raw, HTTP and WebSocket back to back and the ratios are taken within
a round; the summary is the median round.
The load generator runs in this process (uvloop, one bare asyncio protocol
per client, pre-encoded requests, raw keep-alive HTTP/1.1, pre-masked
WebSocket frames) and the node in another, so they share the machine's cores
as any client and server on one host do.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import os
import statistics
import struct
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import httpx
import numpy as np
import orjson
import uvloop

from ruvstream.bench.streams import masked_frame
from ruvstream.core.spec import CollectionSpec
from ruvstream.index.hnsw import HnswIndex
from ruvstream.testing import running_node
from ruvstream.testing.data import exact_top_k, glove50, recall_at_k

K = 10


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    answers: dict[int, list[int]] = field(default_factory=dict)
    errors: int = 0
    seconds: float = 0.0

    def summary(self, truth: np.ndarray) -> dict[str, float]:
        ordered = sorted(self.latencies)
        rows = sorted(self.answers)
        found = [self.answers[r] for r in rows]
        return {
            "qps": len(self.latencies) / self.seconds,
            "p50_ms": 1000 * ordered[len(ordered) // 2],
            "p99_ms": 1000 * ordered[int(len(ordered) * 0.99)],
            "recall": recall_at_k(found, truth[rows], K),
            "errors": self.errors,
        }


def build_raw(base: np.ndarray) -> tuple[HnswIndex, float]:
    spec = CollectionSpec(dim=base.shape[1])
    index = HnswIndex(
        spec.dim,
        spec.metric,
        m=spec.m,
        ef_construction=spec.ef_construction,
        ef_search=spec.ef_search,
    )
    started = time.perf_counter()
    index.add(base)
    return index, time.perf_counter() - started


def raw_rates(index: HnswIndex, queries: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Batched QPS (all queries per call, repeated for about 2 s) and single-query QPS."""
    started, done = time.perf_counter(), 0
    while time.perf_counter() - started < 2.0:
        _, slots = index.search(queries, K)
        done += len(queries)
    batched = done / (time.perf_counter() - started)
    started, done = time.perf_counter(), 0
    while time.perf_counter() - started < 1.0:
        index.search(queries[done % len(queries)][None, :], K)
        done += 1
    single = done / (time.perf_counter() - started)
    recall = recall_at_k([list(row) for row in slots.tolist()], truth, K)
    return {"batched_qps": batched, "single_qps": single, "recall": recall}


class _ClosedLoopClient(asyncio.Protocol):
    """One closed-loop client as a bare protocol: a request, its answer, the next.

    Callbacks instead of stream reads keep the generator's own CPU per request
    small, which matters because it shares the node's cores.
    """

    transport: asyncio.Transport  # set once connected

    def __init__(
        self, requests: list[bytes], order: itertools.count[int], run: Run, deadline: float
    ) -> None:
        self.requests = requests
        self.order = order
        self.run = run
        self.deadline = deadline
        self.buffer = bytearray()
        self.row = 0
        self.started = 0.0
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def send_next(self) -> None:
        if time.perf_counter() >= self.deadline:
            self.transport.close()
            return
        self.row = next(self.order) % len(self.requests)
        self.started = time.perf_counter()
        self.transport.write(self.requests[self.row])

    def answered(self, ok: bool, payload: bytes) -> None:
        self.run.latencies.append(time.perf_counter() - self.started)
        if not ok:
            self.run.errors += 1
        elif self.row not in self.run.answers:  # recall needs each row's hits once
            self.run.answers[self.row] = [int(h["id"]) for h in orjson.loads(payload)["hits"]]
        self.send_next()


class _HttpClient(_ClosedLoopClient):
    """Keep-alive HTTP/1.1 with pre-encoded requests."""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        size = end + 4 + int(head.split(b"content-length: ")[1].split(b"\r\n")[0])
        if len(self.buffer) < size:
            return
        payload = bytes(self.buffer[end + 4 : size])
        del self.buffer[:size]
        self.answered(head.startswith(b"http/1.1 200"), payload)


class _WebSocketClient(_ClosedLoopClient):
    """RFC 6455 with pre-masked frames; answers the server's heartbeat pings."""

    upgraded = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(
            b"GET /v1/ws HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
            + base64.b64encode(os.urandom(16))
            + b"\r\n\r\n"
        )

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                refused = RuntimeError(f"WebSocket upgrade refused: {bytes(self.buffer[:80])!r}")
                self.closed.set_exception(refused)
                self.transport.close()
                return
            del self.buffer[: end + 4]
            self.upgraded = True
            self.send_next()
        while (frame := _take_frame(self.buffer)) is not None:
            opcode, payload = frame
            if opcode == 0x9:
                self.transport.write(masked_frame(payload, opcode=0xA))
            elif opcode == 0x1:
                self.answered(b'"type":"result"' in payload, payload)


def _take_frame(buffer: bytearray) -> tuple[int, bytes] | None:
    """Cut one whole server frame (unmasked) off the front of ``buffer``."""
    if len(buffer) < 2:
        return None
    size, start = buffer[1] & 0x7F, 2
    if size == 126:
        if len(buffer) < 4:
            return None
        (size,), start = struct.unpack_from("!H", buffer, 2), 4
    elif size == 127:
        if len(buffer) < 10:
            return None
        (size,), start = struct.unpack_from("!Q", buffer, 2), 10
    if len(buffer) < start + size:
        return None
    frame = buffer[0] & 0x0F, bytes(buffer[start : start + size])
    del buffer[: start + size]
    return frame


async def served(
    port: int, protocol: str, requests: list[bytes], clients: int, seconds: float
) -> Run:
    run = Run()
    order = itertools.count()
    loop = asyncio.get_running_loop()
    kind = _HttpClient if protocol == "http" else _WebSocketClient
    started = time.perf_counter()
    deadline = started + seconds

    def client() -> _ClosedLoopClient:
        return kind(requests, order, run, deadline)

    connections = [await loop.create_connection(client, "127.0.0.1", port) for _ in range(clients)]
    await asyncio.wait_for(asyncio.gather(*(c.closed for _, c in connections)), seconds + 30)
    run.seconds = time.perf_counter() - started
    return run


def encoded_requests(queries: np.ndarray) -> dict[str, list[bytes]]:
    http = []
    for q in queries:
        body = orjson.dumps({"vector": q.tolist(), "k": K})
        http.append(
            b"POST /v1/collections/glove/search HTTP/1.1\r\nHost: bench\r\n"
            b"Content-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
    websocket = [
        masked_frame(
            orjson.dumps(
                {"id": "b", "op": "search", "collection": "glove", "vector": q.tolist(), "k": K}
            )
        )
        for q in queries
    ]
    return {"http": http, "websocket": websocket}


def load(url: str, base: np.ndarray) -> float:
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=300) as http:
        http.put("/v1/collections/glove", json={"dim": base.shape[1]}).raise_for_status()
        for start in range(0, len(base), 10_000):
            block = np.ascontiguousarray(base[start : start + 10_000], dtype="<f4")
            ids = ",".join(str(i) for i in range(start, start + len(block)))
            http.post(
                "/v1/collections/glove/records",
                content=block.tobytes(),
                headers={
                    "Content-Type": "application/octet-stream",
                    "X-Ids": ids,
                },
            ).raise_for_status()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0, help="per protocol per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--node-arg",
        action="append",
        default=[],
        help="extra ruvstream serve flag (repeatable): --node-arg=--max-batch=128",
    )
    args = parser.parse_args()
    base, queries = glove50(args.n, args.queries)
    truth = exact_top_k(base, queries, K)
    print(
        f"GloVe-50 {args.n} base vectors, {len(queries)} queries, k={K}, "
        f"defaults {CollectionSpec(dim=50)}, {args.clients} clients, {args.rounds} rounds"
    )
    index, build = build_raw(base)
    print(f"raw index built in {build:.1f}s")
    requests = encoded_requests(queries)
    rows: list[tuple[str, dict[str, float]]] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_node(Path(tmp) / "node", args=args.node_arg) as node,
    ):
        print(f"node loaded in {load(node.url, base):.1f}s over HTTP (binary float32 bodies)")
        for round_no in range(1, args.rounds + 1):
            rows.extend(one_round(round_no, index, node.port, queries, truth, requests, args))
    report(rows)
    return 0


def one_round(
    round_no: int,
    index: HnswIndex,
    port: int,
    queries: np.ndarray,
    truth: np.ndarray,
    requests: dict[str, list[bytes]],
    args: argparse.Namespace,
) -> list[tuple[str, dict[str, float]]]:
    """Raw, then each protocol, back to back: the ratios compare neighbours in time."""
    raw = raw_rates(index, queries, truth)
    print(
        f"round {round_no}  raw batched {raw['batched_qps']:,.0f} QPS  "
        f"single {raw['single_qps']:,.0f} QPS  recall@10 {raw['recall']:.3f}"
    )
    rows = []
    for protocol, encoded in requests.items():
        run = uvloop.run(served(port, protocol, encoded, args.clients, args.seconds))
        s = run.summary(truth)
        row = dict(s)
        row["vs_batched"] = s["qps"] / raw["batched_qps"]
        row["vs_single"] = s["qps"] / raw["single_qps"]
        rows.append((protocol, row))
        print(
            f"round {round_no}  {protocol:<9} {s['qps']:,.0f} QPS  p50 {s['p50_ms']:.1f} ms  "
            f"p99 {s['p99_ms']:.1f} ms  recall@10 {s['recall']:.3f}  errors {s['errors']:.0f}  "
            f"served/raw batched {row['vs_batched']:.2f}  single {row['vs_single']:.2f}"
        )
    return rows


def report(rows: list[tuple[str, dict[str, float]]]) -> None:
    print("\nmedian over rounds:")
    for protocol in ("http", "websocket"):
        mine = [row for name, row in rows if name == protocol]
        m = {key: statistics.median(row[key] for row in mine) for key in mine[0]}
        print(
            f"served {protocol:<9} {m['qps']:,.0f} QPS  p50 {m['p50_ms']:.1f} ms  "
            f"p99 {m['p99_ms']:.1f} ms  recall@10 {m['recall']:.3f}  "
            f"served/raw batched {m['vs_batched']:.2f}  served/raw single {m['vs_single']:.2f}"
        )


if __name__ == "__main__":
    sys.exit(main())
