"""Single-node benchmark: raw index vs served over HTTP and WebSocket, one run.

    .venv/bin/python scripts/bench_node.py [--n 100000] [--clients 32] [--seconds 10]

Prints raw faiss-HNSW QPS (single-query and batched) at the node's default
parameters, then served QPS, p50/p99 latency and recall@10 over HTTP and over
WebSocket with N concurrent closed-loop clients, and the served/raw ratios.
The load generator runs in this process (uvloop, pre-encoded requests, raw
keep-alive HTTP/1.1) and the node in another, so they share the machine's
cores as any client and server on one host do.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import orjson
import websockets

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


def raw_index(base: np.ndarray, queries: np.ndarray, truth: np.ndarray) -> dict[str, float]:
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
    build = time.perf_counter() - started
    started = time.perf_counter()
    _, slots = index.search(queries, K)
    batched = len(queries) / (time.perf_counter() - started)
    single_n = min(500, len(queries))
    started = time.perf_counter()
    for query in queries[:single_n]:
        index.search(query[None, :], K)
    single = single_n / (time.perf_counter() - started)
    recall = recall_at_k([list(row) for row in slots.tolist()], truth, K)
    return {"build_s": build, "batched_qps": batched, "single_qps": single, "recall": recall}


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


async def _ws_client(
    url: str, frames: list[bytes], order: itertools.count[int], run: Run, deadline: float
) -> None:
    async with websockets.connect(url, max_size=None) as ws:
        while time.perf_counter() < deadline:
            row = next(order) % len(frames)
            started = time.perf_counter()
            await ws.send(frames[row].decode())
            reply = orjson.loads(await ws.recv())
            run.latencies.append(time.perf_counter() - started)
            if reply.get("type") != "result":
                run.errors += 1
                continue
            run.answers.setdefault(row, [int(h["id"]) for h in reply["hits"]])


async def served(port: int, queries: np.ndarray, clients: int, seconds: float) -> dict[str, Run]:
    bodies = [orjson.dumps({"vector": q.tolist(), "k": K}) for q in queries]
    frames = [
        orjson.dumps(
            {"id": "b", "op": "search", "collection": "glove", "vector": q.tolist(), "k": K}
        )
        for q in queries
    ]
    runs: dict[str, Run] = {}
    for name in ("http", "websocket"):
        run = Run()
        order = itertools.count()
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        if name == "http":
            workers = [_http_client(port, bodies, order, run, deadline) for _ in range(clients)]
        else:
            url = f"ws://127.0.0.1:{port}/v1/ws"
            workers = [_ws_client(url, frames, order, run, deadline) for _ in range(clients)]
        await asyncio.gather(*workers)
        run.seconds = time.perf_counter() - started
        runs[name] = run
    return runs


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
    parser.add_argument("--seconds", type=float, default=10.0)
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
        f"defaults {CollectionSpec(dim=50)}"
    )
    raw = raw_index(base, queries, truth)
    print(
        f"raw index   build {raw['build_s']:.1f}s  batched {raw['batched_qps']:,.0f} QPS  "
        f"single {raw['single_qps']:,.0f} QPS  recall@10 {raw['recall']:.3f}"
    )
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_node(Path(tmp) / "node", args=args.node_arg) as node,
    ):
        print(f"node load   {load(node.url, base):.1f}s over HTTP (binary float32 bodies)")
        import uvloop

        runs = uvloop.run(served(node.port, queries, args.clients, args.seconds))
    for name, run in runs.items():
        s = run.summary(truth)
        print(
            f"served {name:<9} {s['qps']:,.0f} QPS  p50 {s['p50_ms']:.1f} ms  "
            f"p99 {s['p99_ms']:.1f} ms  recall@10 {s['recall']:.3f}  errors {s['errors']:.0f}  "
            f"served/raw batched {s['qps'] / raw['batched_qps']:.2f}  "
            f"served/raw single {s['qps'] / raw['single_qps']:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
