"""``ruvstream bench node``: the raw index against the node serving it over HTTP and WebSocket.

    ruvstream bench node [--n 100000] [--clients 32] [--rounds 3]

Measures raw faiss-HNSW QPS (single-query and batched) at the node's default
parameters, then served QPS, p50/p99 latency and recall@10 over HTTP and over
WebSocket with N concurrent closed-loop clients, and the served/raw ratios.
This machine's speed drifts by tens of percent within minutes, so each round
measures raw, HTTP and WebSocket back to back and the ratios are taken within
a round; the summary is the median round.
The load generator runs in this process (uvloop, one bare asyncio protocol
per client, ``bench.closed_loop``) and the node in another, so they share
the machine's cores as any client and server on one host do.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import click
import httpx
import numpy as np
import uvloop

from ruvstream.bench.closed_loop import K, encoded_requests, served
from ruvstream.bench.glove import exact_top_k, glove50, recall_at_k
from ruvstream.core.spec import CollectionSpec
from ruvstream.devstack import running_node
from ruvstream.index.hnsw import HnswIndex

__all__ = ["build_raw", "node_benchmark", "raw_rates"]

Row = tuple[str, dict[str, float]]


@dataclass(frozen=True)
class _Options:
    clients: int
    seconds: float


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


def _load(url: str, base: np.ndarray) -> float:
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


@click.command("node")
@click.option("--n", type=int, default=100_000, show_default=True, help="Base vectors.")
@click.option("--queries", type=int, default=2000, show_default=True)
@click.option("--clients", type=int, default=32, show_default=True)
@click.option(
    "--seconds", type=float, default=8.0, show_default=True, help="Per protocol per round."
)
@click.option("--rounds", type=int, default=3, show_default=True)
@click.option(
    "--node-arg",
    "node_args",
    multiple=True,
    help="Extra ruvstream serve flag (repeatable): --node-arg=--max-batch=128",
)
def node_benchmark(
    n: int, queries: int, clients: int, seconds: float, rounds: int, node_args: tuple[str, ...]
) -> None:
    """Raw index QPS against served QPS over HTTP and WebSocket, and their ratios."""
    base, query_rows = glove50(n, queries)
    truth = exact_top_k(base, query_rows, K)
    click.echo(
        f"GloVe-50 {n} base vectors, {len(query_rows)} queries, k={K}, "
        f"defaults {CollectionSpec(dim=50)}, {clients} clients, {rounds} rounds"
    )
    index, build = build_raw(base)
    click.echo(f"raw index built in {build:.1f}s")
    requests = encoded_requests(query_rows)
    options = _Options(clients, seconds)
    rows: list[Row] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_node(Path(tmp) / "node", args=node_args) as node,
    ):
        click.echo(f"node loaded in {_load(node.url, base):.1f}s over HTTP (binary float32 bodies)")
        for round_no in range(1, rounds + 1):
            rows.extend(
                _one_round(round_no, index, node.port, query_rows, truth, requests, options)
            )
    _report(rows)


def _one_round(
    round_no: int,
    index: HnswIndex,
    port: int,
    queries: np.ndarray,
    truth: np.ndarray,
    requests: dict[str, list[bytes]],
    options: _Options,
) -> list[Row]:
    """Raw, then each protocol, back to back: the ratios compare neighbours in time."""
    raw = raw_rates(index, queries, truth)
    click.echo(
        f"round {round_no}  raw batched {raw['batched_qps']:,.0f} QPS  "
        f"single {raw['single_qps']:,.0f} QPS  recall@10 {raw['recall']:.3f}"
    )
    rows = []
    for protocol, encoded in requests.items():
        run = uvloop.run(served(port, protocol, encoded, options.clients, options.seconds))
        s = run.summary(truth)
        row = dict(s)
        row["vs_batched"] = s["qps"] / raw["batched_qps"]
        row["vs_single"] = s["qps"] / raw["single_qps"]
        rows.append((protocol, row))
        click.echo(
            f"round {round_no}  {protocol:<9} {s['qps']:,.0f} QPS  p50 {s['p50_ms']:.1f} ms  "
            f"p99 {s['p99_ms']:.1f} ms  recall@10 {s['recall']:.3f}  errors {s['errors']:.0f}  "
            f"served/raw batched {row['vs_batched']:.2f}  single {row['vs_single']:.2f}"
        )
    return rows


def _report(rows: list[Row]) -> None:
    click.echo("\nmedian over rounds:")
    for protocol in ("http", "websocket"):
        mine = [row for name, row in rows if name == protocol]
        m = {key: statistics.median(row[key] for row in mine) for key in mine[0]}
        click.echo(
            f"served {protocol:<9} {m['qps']:,.0f} QPS  p50 {m['p50_ms']:.1f} ms  "
            f"p99 {m['p99_ms']:.1f} ms  recall@10 {m['recall']:.3f}  "
            f"served/raw batched {m['vs_batched']:.2f}  served/raw single {m['vs_single']:.2f}"
        )
