"""Single-node benchmark: raw index vs served over HTTP and WebSocket, one run.

    .venv/bin/python scripts/bench_node.py [--n 100000] [--clients 32] [--rounds 3]

Measures raw faiss-HNSW QPS (single-query and batched) at the node's default
parameters, then served QPS, p50/p99 latency and recall@10 over HTTP and over
WebSocket with N concurrent closed-loop clients, and the served/raw ratios.
This machine's speed drifts by tens of percent within minutes, so each round
measures raw, HTTP and WebSocket back to back and the ratios are taken within
a round; the summary is the median round.
The load generator runs in this process (uvloop, pre-encoded requests, raw
keep-alive HTTP/1.1) and the node in another, so they share the machine's
cores as any client and server on one host do.
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

import httpx
import numpy as np
import orjson
import uvloop

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


async def _http_client(
    port: int, bodies: list[bytes], order: itertools.count[int], run: Run, deadline: float
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            row = next(order) % len(bodies)
            body = bodies[row]
            request = (
                b"POST /v1/collections/glove/search HTTP/1.1\r\nHost: bench\r\n"
                b"Content-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            payload = await reader.readexactly(length)
            run.latencies.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 200"):
                run.errors += 1
                continue
            run.answers.setdefault(row, [int(h["id"]) for h in orjson.loads(payload)["hits"]])
    finally:
        writer.close()


def masked_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """A client-to-server WebSocket frame (RFC 6455 5.2), masked with a fresh key."""
    key = os.urandom(4)
    mask = np.frombuffer((key * (len(payload) // 4 + 1))[: len(payload)], dtype=np.uint8)
    body = (np.frombuffer(payload, dtype=np.uint8) ^ mask).tobytes()
    size = len(payload)
    if size < 126:
        head = bytes([0x80 | opcode, 0x80 | size])
    elif size < 1 << 16:
        head = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack("!H", size)
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack("!Q", size)
    return head + key + body


async def _read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, second = await reader.readexactly(2)
    size = second & 0x7F
    if size == 126:
        (size,) = struct.unpack("!H", await reader.readexactly(2))
    elif size == 127:
        (size,) = struct.unpack("!Q", await reader.readexactly(8))
    return first & 0x0F, await reader.readexactly(size)


async def _ws_client(
    port: int, frames: list[bytes], order: itertools.count[int], run: Run, deadline: float
) -> None:
    """A lean WebSocket client (pre-masked frames), as the HTTP one is a lean HTTP client."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        key = base64.b64encode(os.urandom(16))
        writer.write(
            b"GET /v1/ws HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
            + key
            + b"\r\n\r\n"
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(f"WebSocket upgrade refused: {head[:80]!r}")
        while time.perf_counter() < deadline:
            row = next(order) % len(frames)
            started = time.perf_counter()
            writer.write(frames[row])
            opcode, payload = await _read_frame(reader)
            while opcode != 0x1:  # answer the server's heartbeat pings, skip the rest
                if opcode == 0x9:
                    writer.write(masked_frame(payload, opcode=0xA))
                opcode, payload = await _read_frame(reader)
            run.latencies.append(time.perf_counter() - started)
            reply = orjson.loads(payload)
            if reply.get("type") != "result":
                run.errors += 1
                continue
            run.answers.setdefault(row, [int(h["id"]) for h in reply["hits"]])
    finally:
        writer.close()


async def served(
    port: int, protocol: str, requests: list[bytes], clients: int, seconds: float
) -> Run:
    run = Run()
    order = itertools.count()
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    if protocol == "http":
        workers = [_http_client(port, requests, order, run, deadline) for _ in range(clients)]
    else:
        workers = [_ws_client(port, requests, order, run, deadline) for _ in range(clients)]
    await asyncio.gather(*workers)
    run.seconds = time.perf_counter() - started
    return run


def encoded_requests(queries: np.ndarray) -> dict[str, list[bytes]]:
    return {
        "http": [orjson.dumps({"vector": q.tolist(), "k": K}) for q in queries],
        "websocket": [
            masked_frame(
                orjson.dumps(
                    {"id": "b", "op": "search", "collection": "glove", "vector": q.tolist(), "k": K}
                )
            )
            for q in queries
        ],
    }


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
