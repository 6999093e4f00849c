"""``ruvstream bench router``: the router's added latency and throughput against the node alone.

    ruvstream bench router [--requests 2000] [--clients 32] [--seconds 5]

Starts one real node and one real router (``ruvstream router`` in its own
process) on loopback, seeds a collection, then measures the same search
request sent straight to the node and through the router:

* latency: one request at a time (no queueing), p50 and p99 of each path, and
  the router's added latency as the difference of the two;
* throughput: ``--clients`` closed-loop clients for ``--seconds`` each.

Node, router and load generator share this machine's cores, as they do on one
host; the figures are for loopback and say nothing about a network.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import click
import numpy as np
import orjson

from ruvstream.devstack import RouterProcess, running_node

__all__ = ["RouterRun", "measure_router", "router_benchmark"]

DIM = 50


@dataclass(frozen=True)
class RouterRun:
    requests: int = 2000
    clients: int = 32
    seconds: float = 5.0


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * q))]


@contextmanager
def _router(node_url: str, workdir: Path) -> Iterator[str]:
    router = RouterProcess(
        workdir / "router",
        [("local", node_url, "local")],
        "local",
        args=("--max-inflight", "100000"),
    )
    router.start()
    try:
        yield router.url
    finally:
        router.stop()


async def _seed(session: aiohttp.ClientSession, url: str, rng: np.random.Generator) -> None:
    await session.put(url + "/v1/collections/bench", json={"dim": DIM})
    vectors = rng.standard_normal((2000, DIM)).astype("<f4")
    # The node's binary upsert: a quarter of the JSON's size, under aiohttp's
    # large-body warning.
    ids = ",".join(str(i) for i in range(len(vectors)))
    headers = {"Content-Type": "application/octet-stream", "X-Ids": ids}
    target = url + "/v1/collections/bench/records"
    async with session.post(target, data=vectors.tobytes(), headers=headers) as r:
        r.raise_for_status()


async def _latency(session: aiohttp.ClientSession, url: str, bodies: list[bytes]) -> list[float]:
    samples: list[float] = []
    target = url + "/v1/collections/bench/search"
    headers = {"content-type": "application/json"}
    for body in bodies:
        started = time.perf_counter()
        async with session.post(target, data=body, headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"search answered {response.status}")
        samples.append(time.perf_counter() - started)
    return samples


async def _throughput(
    url: str, bodies: list[bytes], clients: int, seconds: float
) -> tuple[float, int]:
    target = url + "/v1/collections/bench/search"
    headers = {"content-type": "application/json"}
    done = errors = 0
    stop_at = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(offset: int) -> None:
            nonlocal done, errors
            i = offset
            while time.perf_counter() < stop_at:
                async with session.post(target, data=bodies[i % len(bodies)], headers=headers) as r:
                    await r.read()
                    done += r.status == 200
                    errors += r.status != 200
                i += clients

        started = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in range(clients)))
        return done / (time.perf_counter() - started), errors


async def _run(node_url: str, router_url: str, args: RouterRun) -> dict[str, float]:
    rng = np.random.default_rng(7)
    queries = rng.standard_normal((256, DIM)).astype("float32")
    bodies = [orjson.dumps({"vector": q.tolist(), "k": 10}) for q in queries]
    bodies = [bodies[i % len(bodies)] for i in range(args.requests)]
    async with aiohttp.ClientSession() as session:
        await _seed(session, node_url, rng)
        await _latency(session, node_url, bodies[:200])  # warm both paths
        await _latency(session, router_url, bodies[:200])
        direct = await _latency(session, node_url, bodies)
        routed = await _latency(session, router_url, bodies)
    direct_qps, direct_err = await _throughput(node_url, bodies, args.clients, args.seconds)
    routed_qps, routed_err = await _throughput(router_url, bodies, args.clients, args.seconds)
    return {
        "direct_p50_ms": _percentile(direct, 0.50),
        "direct_p99_ms": _percentile(direct, 0.99),
        "router_p50_ms": _percentile(routed, 0.50),
        "router_p99_ms": _percentile(routed, 0.99),
        "added_p50_ms": _percentile(routed, 0.50) - _percentile(direct, 0.50),
        "added_p99_ms": _percentile(routed, 0.99) - _percentile(direct, 0.99),
        "direct_qps": direct_qps,
        "router_qps": routed_qps,
        "router_over_direct": routed_qps / direct_qps,
        "errors": float(direct_err + routed_err),
    }


def measure_router(args: RouterRun) -> dict[str, float]:
    """Start a node and a router here, measure both paths, stop them; the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with (
            running_node(work / "node", region="local", node_id="bench") as node,
            _router(node.url, work) as router_url,
        ):
            return asyncio.run(_run(node.url, router_url, args))


@click.command("router")
@click.option("--requests", type=int, default=2000, show_default=True)
@click.option("--clients", type=int, default=32, show_default=True)
@click.option("--seconds", type=float, default=5.0, show_default=True)
def router_benchmark(requests: int, clients: int, seconds: float) -> None:
    """Added latency (p50/p99) and throughput through the router against the node alone."""
    result = measure_router(RouterRun(requests, clients, seconds))
    click.echo(f"requests={requests} clients={clients} seconds={seconds}")
    for name, value in result.items():
        click.echo(f"{name:>20} {value:10.3f}")
