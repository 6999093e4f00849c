"""``ruvstream bench router``: the router's added latency and throughput against the node alone.

    ruvstream bench router [--requests 2000] [--clients 32] [--seconds 5] [--rounds 3]
        [--modes fast,standard] [--router-cpus 0 --node-cpus 1 --client-cpus 1]

Starts one real node and one real router per ``--modes`` entry (``ruvstream
router --proxy-mode MODE``, each in its own process) on loopback, seeds a
collection, then measures the same search request sent straight to the node
and through each router, in ``--rounds`` rounds (one path after another in
each round, so a busy machine weighs on all of them alike):

* latency: one request at a time (no queueing), p50 and p99 of each path, and
  each router's added latency as the difference from the node's;
* throughput: ``--clients`` closed-loop clients for ``--seconds`` each, and
  each router's share of the node's own.

The medians over the rounds come last. ``--router-cpus``, ``--node-cpus`` and
``--client-cpus`` pin each process (all its threads) to those cores, e.g. the
router on one core and node and load generator on the other; unpinned, they
share the machine's cores. The figures are for loopback and say nothing
about a network.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import click
import numpy as np
import orjson

from ruvstream.devstack import RouterProcess, running_node
from ruvstream.routing.config import PROXY_MODES

from .pinning import parse_cpus, pin_process, pinned_thread

__all__ = ["RouterRun", "measure_router", "router_benchmark"]

DIM = 50
Figures = dict[str, float]


@dataclass(frozen=True)
class RouterRun:
    requests: int = 2000
    clients: int = 32
    seconds: float = 5.0
    rounds: int = 3
    modes: tuple[str, ...] = PROXY_MODES
    router_cpus: frozenset[int] | None = None
    node_cpus: frozenset[int] | None = None
    client_cpus: frozenset[int] | None = None


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * q))]


@contextmanager
def _router(node_url: str, workdir: Path, mode: str) -> Iterator[str]:
    router = RouterProcess(
        workdir / f"router-{mode}",
        [("local", node_url, "local")],
        "local",
        args=("--max-inflight", "100000", "--proxy-mode", mode),
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


async def _round(
    direct: str, routers: dict[str, str], bodies: list[bytes], args: RouterRun
) -> Figures:
    figures: Figures = {}
    paths = {"direct": direct, **routers}
    async with aiohttp.ClientSession() as session:
        for url in paths.values():
            await _latency(session, url, bodies[:200])  # warm every path
        for name, url in paths.items():
            samples = await _latency(session, url, bodies)
            figures[f"{name}_p50_ms"] = _percentile(samples, 0.50)
            figures[f"{name}_p99_ms"] = _percentile(samples, 0.99)
    errors = 0
    for name, url in paths.items():
        figures[f"{name}_qps"], failed = await _throughput(url, bodies, args.clients, args.seconds)
        errors += failed
    for mode in routers:
        figures[f"{mode}_added_p50_ms"] = figures[f"{mode}_p50_ms"] - figures["direct_p50_ms"]
        figures[f"{mode}_added_p99_ms"] = figures[f"{mode}_p99_ms"] - figures["direct_p99_ms"]
        figures[f"{mode}_over_direct"] = figures[f"{mode}_qps"] / figures["direct_qps"]
    figures["errors"] = float(errors)
    return figures


async def _run(direct: str, routers: dict[str, str], args: RouterRun) -> list[Figures]:
    rng = np.random.default_rng(7)
    queries = rng.standard_normal((256, DIM)).astype("float32")
    bodies = [orjson.dumps({"vector": q.tolist(), "k": 10}) for q in queries]
    bodies = [bodies[i % len(bodies)] for i in range(args.requests)]
    async with aiohttp.ClientSession() as session:
        await _seed(session, direct, rng)
    return [await _round(direct, routers, bodies, args) for _ in range(args.rounds)]


def median(rounds: list[Figures]) -> Figures:
    return {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}


def measure_router(args: RouterRun) -> list[Figures]:
    """Start a node and the routers here (pinned as asked), measure each path; per round."""
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        work = Path(tmp)
        with pinned_thread(args.node_cpus):
            node = stack.enter_context(running_node(work / "node", region="local", node_id="bench"))
        pin_process(node.pid, args.node_cpus)
        routers: dict[str, str] = {}
        for mode in args.modes:
            with pinned_thread(args.router_cpus):
                routers[mode] = stack.enter_context(_router(node.url, work, mode))
        with pinned_thread(args.client_cpus):  # the load runs on this thread; unpinned after
            return asyncio.run(_run(node.url, routers, args))


def _cpus(_ctx: click.Context, _param: click.Parameter, value: str | None) -> frozenset[int] | None:
    try:
        return parse_cpus(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.command("router")
@click.option("--requests", type=int, default=2000, show_default=True)
@click.option("--clients", type=int, default=32, show_default=True)
@click.option("--seconds", type=float, default=5.0, show_default=True)
@click.option("--rounds", type=click.IntRange(1), default=3, show_default=True)
@click.option(
    "--modes",
    default=",".join(PROXY_MODES),
    show_default=True,
    help="Router proxy modes to measure side by side, one router process each.",
)
@click.option(
    "--router-cpus", callback=_cpus, help="Pin the routers here (e.g. 0); default unpinned."
)
@click.option("--node-cpus", callback=_cpus, help="Pin the node here (e.g. 1).")
@click.option("--client-cpus", callback=_cpus, help="Pin the load generator here (e.g. 1).")
def router_benchmark(
    requests: int,
    clients: int,
    seconds: float,
    rounds: int,
    modes: str,
    router_cpus: frozenset[int] | None,
    node_cpus: frozenset[int] | None,
    client_cpus: frozenset[int] | None,
) -> None:
    """Added latency (p50/p99) and throughput through the router against the node alone."""
    chosen = tuple(m.strip() for m in modes.split(",") if m.strip())
    unknown = set(chosen) - set(PROXY_MODES)
    if unknown or not chosen:
        raise click.BadParameter(f"modes are among {', '.join(PROXY_MODES)}", param_hint="--modes")
    run = RouterRun(requests, clients, seconds, rounds, chosen, router_cpus, node_cpus, client_cpus)
    results = measure_router(run)
    pins = {"router": router_cpus, "node": node_cpus, "client": client_cpus}
    where = " ".join(
        f"{k}_cpus={','.join(map(str, sorted(v))) if v else 'all'}" for k, v in pins.items()
    )
    click.echo(f"requests={requests} clients={clients} seconds={seconds} rounds={rounds} {where}")
    names = list(results[0])
    click.echo(
        f"{'':>24}"
        + "".join(f"{'round ' + str(i + 1):>10}" for i in range(rounds))
        + f"{'median':>10}"
    )
    summary = median(results)
    for name in names:
        row = "".join(f"{r[name]:10.3f}" for r in results)
        click.echo(f"{name:>24}{row}{summary[name]:10.3f}")
