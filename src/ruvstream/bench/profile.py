"""``ruvstream bench profile``: measure one node and write the simulator's node profile.

    ruvstream bench profile [--n 20000] [--seconds 3] [--streams 400] --out node-profile.json

On this machine, against a real ``ruvstream serve`` process:

- start-up: process start to ``/ready`` with an empty data dir (the quicker of
  two starts, so both figures are taken with warm caches);
- index load: after loading ``n`` GloVe-50 vectors and a clean stop, start-up
  again from the same data dir, less the empty start-up;
- p99 against load: closed-loop HTTP searches at 1, 2, 4, 8 and 16 clients;
  the highest QPS is full load, each level's share of it is its load;
  ``qps_per_core`` is full load over the machine's cores (the load
  generator shares them, so the figure is a floor);
- recall@10 of those searches against the exact oracle;
- streams per GB: ``streams`` idle WebSocket connections held open, over the
  node's resident memory they add.

The result is the JSON ``ruvstream.sim.NodeProfile`` reads.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import numpy as np
import psutil
import uvloop
import websockets

from ruvstream.bench.closed_loop import K, encoded_requests, served
from ruvstream.bench.glove import exact_top_k, glove50
from ruvstream.bench.node_vs_raw import _load
from ruvstream.devstack import NodeProcess

__all__ = ["measure_profile", "p99_curve", "profile"]

LOAD_LEVELS = (1, 2, 4, 8, 16)


def _timed_start(node: NodeProcess) -> float:
    started = time.perf_counter()
    node.start()
    return time.perf_counter() - started


def _curve(
    port: int, queries: np.ndarray, truth: np.ndarray, seconds: float
) -> tuple[list[dict[str, float]], float]:
    http = encoded_requests(queries)["http"]
    rows = []
    for clients in LOAD_LEVELS:
        s = uvloop.run(served(port, "http", http, clients, seconds)).summary(truth)
        rows.append({"clients": clients, **s})
    full = max(r["qps"] for r in rows)
    recall = float(np.median([r["recall"] for r in rows]))
    return [dict(r, load=r["qps"] / full) for r in rows], recall


def p99_curve(rows: list[dict[str, float]]) -> list[list[float]]:
    """(load, p99) rising in both: past saturation more clients add queueing, not
    throughput, so a level's load is the highest reached so far and its p99 the
    highest seen so far (a busy machine's noise cannot make the curve fall)."""
    curve: dict[float, float] = {}
    load = p99 = 0.0
    for r in sorted(rows, key=lambda r: r["clients"]):
        load, p99 = max(load, r["load"]), max(p99, r["p99_ms"])
        curve[round(load, 4)] = p99
    return [[a, b] for a, b in sorted(curve.items())]


async def _hold_streams(url: str, n: int, pid: int) -> float:
    """Resident bytes the node adds per open stream (idle WebSocket connections)."""
    proc = psutil.Process(pid)
    before = proc.memory_info().rss
    sockets = [await websockets.connect(url, max_size=2**20) for _ in range(n)]
    try:
        await asyncio.sleep(1.0)
        after = proc.memory_info().rss
    finally:
        await asyncio.gather(*(s.close() for s in sockets))
    return max(1.0, float(after - before) / n)


def measure_profile(n: int, seconds: float, streams: int) -> dict[str, Any]:
    base, queries = glove50(n, 500)
    truth = exact_top_k(base, queries, K)
    cores = float(os.cpu_count() or 1)
    with tempfile.TemporaryDirectory() as tmp:
        node = NodeProcess(Path(tmp) / "node")
        try:
            empty = _timed_start(node)
            node.stop()
            spare = NodeProcess(Path(tmp) / "spare")
            empty = min(empty, _timed_start(spare))  # the second start has warm caches
            spare.stop()
            node.start()
            _load(node.url, base)
            rows, recall = _curve(node.port, queries, truth, seconds)
            per_stream = asyncio.run(_hold_streams(node.ws_url, streams, node.pid))
            node.stop()
            loaded = _timed_start(node)
        finally:
            node.stop()
    full = max(r["qps"] for r in rows)
    return {
        "version": 1,
        "qps_per_core": full / cores,
        "recall_at_10": recall,
        "p99_ms_by_load": p99_curve(rows),
        "streams_per_gb": 1e9 / per_stream,
        "startup_seconds": empty,
        "index_load_seconds": max(0.0, loaded - empty),
        "cores": cores,
        "vectors": n,
        "dim": int(base.shape[1]),
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "ruvstream bench profile " + shlex.join(sys.argv[3:]),
        "levels": rows,
    }


@click.command("profile")
@click.option("--n", type=int, default=20_000, show_default=True, help="Base vectors.")
@click.option("--seconds", type=float, default=3.0, show_default=True, help="Per load level.")
@click.option(
    "--streams",
    type=int,
    default=400,
    show_default=True,
    help="Idle WebSocket streams held to measure memory per stream.",
)
@click.option("--out", type=click.Path(path_type=Path), required=True)
def profile(n: int, seconds: float, streams: int, out: Path) -> None:
    """Measure this node (start-up, index load, p99 vs load, streams per GB) for ``sim``."""
    import json

    doc = measure_profile(n, seconds, streams)
    out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    click.echo(
        f"{doc['qps_per_core']:,.0f} QPS per core at recall@10 {doc['recall_at_10']:.3f}, "
        f"{doc['streams_per_gb']:,.0f} streams per GB, start-up {doc['startup_seconds']:.1f} s, "
        f"index load {doc['index_load_seconds']:.1f} s ({n} vectors) -> {out}"
    )
