"""``ruvstream bench replication``: replication lag under a sustained write load.

One node per region, each with its own bus connection: over NATS JetStream
(127.0.0.1:4222) every node runs in a process of its own
(``replication_member``; ``--in-process`` puts them all in this one), on the
embedded bus all share this process. For each rate in turn (200, 500, 1,000
and 2,000 upserts/s by default, all regions together) every region writes
its share of single-record upserts open-loop (each op scheduled at its
intended time, never waiting for the previous one, so a slow replica cannot
slow the load down and hide its own lag). For every op and every other
region, lag = the moment the op was applied (durable) there minus the moment
it was submitted at its origin (so it includes the origin's own WAL write),
recorded in an HDR histogram per source region. Each step also reports the
mean publish and apply batch sizes per node (from the nodes' metrics) and
CPU: of each node process and of the nats-server (of the one shared process
when in-process).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import click
import numpy as np
import psutil
from hdrh.histogram import HdrHistogram

from ruvstream.bench.glove import glove50, glove_available
from ruvstream.bench.replication_member import member_main
from ruvstream.config import NodeSettings, ReplicationSettings, Settings, StorageSettings
from ruvstream.core.records import OpRecord, RecordData, vector_to_bytes
from ruvstream.core.spec import CollectionSpec
from ruvstream.engine.node import Node
from ruvstream.geo import region_names
from ruvstream.replication import EmbeddedBus, JetStreamBus, Replicator, open_bus

__all__ = ["replication_benchmark", "run_bench", "run_processes"]

DIM = 50
DRAIN_SECONDS = 60.0
START_SECONDS = 60.0
MAX_LAG_US = 3_600_000_000
"""The histograms' range: a lag past it would be dropped, not counted."""
"""How long a step waits for its last ops to reach every region."""


def _vectors(n: int) -> np.ndarray[Any, np.dtype[np.float32]]:
    if glove_available():
        return glove50(n, queries=1)[0]
    return np.random.default_rng(7).standard_normal((n, DIM)).astype(np.float32)


async def _open(base: Path, region: str, settings: ReplicationSettings) -> Replicator[Node]:
    node = await Node.open(
        Settings(
            node=NodeSettings(region=region, node_id=f"bench-{region}"),
            storage=StorageSettings(data_dir=base / region),
            replication=settings,
        )
    )
    replicator = Replicator(node, await open_bus(settings), owns_bus=settings.bus == "nats")
    await replicator.start()
    return replicator


def _summary(hist: HdrHistogram) -> dict[str, float]:
    return {
        "count": hist.get_total_count(),
        **{f"p{p:g}_ms": round(hist.get_value_at_percentile(p) / 1000, 3) for p in (50, 99)},
        "max_ms": round(hist.get_max_value() / 1000, 3),
    }


@dataclass
class _Step:
    """What the observers fill while one rate runs."""

    submitted: dict[str, tuple[float, str]] = field(default_factory=dict)
    hists: dict[str, HdrHistogram] = field(default_factory=dict)
    applied: int = 0
    expected: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)


def _nats_process(nats_url: str) -> psutil.Process | None:
    """The local nats-server listening at ``nats_url``'s port, if this user may see it."""
    port = int(nats_url.rsplit(":", 1)[-1])
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                return psutil.Process(conn.pid) if conn.pid else None
    except (psutil.AccessDenied, psutil.NoSuchProcess, ValueError):
        return None
    return None


def _cpu_seconds(process: psutil.Process | None) -> float | None:
    if process is None:
        return None
    try:
        times = process.cpu_times()
    except psutil.Error:
        return None
    return float(times.user + times.system)


def _batch_sums(nodes: Sequence[Replicator[Node]]) -> dict[str, list[float]]:
    """Per node: [publish batches, ops in them, apply batches, ops in them]."""
    sums = {}
    for member in nodes:
        registry = member.node.metrics_registry
        values = []
        for name in ("publish_batch", "apply_batch"):
            for part in ("count", "sum"):
                value = registry.get_sample_value(f"ruvstream_replication_{name}_ops_{part}")
                values.append(value or 0.0)
        sums[member.node.region] = values
    return sums


def _batch_means(before: dict[str, list[float]], after: dict[str, list[float]]) -> dict[str, Any]:
    means: dict[str, Any] = {}
    for region, values in after.items():
        delta = [a - b for a, b in zip(values, before[region], strict=True)]
        means[region] = {
            "publish_batches": int(delta[0]),
            "publish_batch_mean_ops": round(delta[1] / delta[0], 1) if delta[0] else 0.0,
            "apply_batches": int(delta[2]),
            "apply_batch_mean_ops": round(delta[3] / delta[2], 1) if delta[2] else 0.0,
        }
    return means


async def _run_rate(
    nodes: Sequence[Replicator[Node]],
    step: _Step,
    rate: float,
    seconds: float,
    vectors: np.ndarray[Any, np.dtype[np.float32]],
    nats: psutil.Process | None,
) -> dict[str, Any]:
    total = int(rate * seconds)
    step.hists.update({r.node.region: HdrHistogram(1, MAX_LAG_US, 3) for r in nodes})
    expected = step.expected = total * (len(nodes) - 1)
    step.done.clear()
    me = psutil.Process()
    cpu_before, nats_before, batches_before = (
        _cpu_seconds(me),
        _cpu_seconds(nats),
        _batch_sums(nodes),
    )
    started = time.perf_counter()
    tasks = []
    for i in range(total):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        origin = nodes[i % len(nodes)].node
        record = RecordData(f"{rate:g}-{i}", vector_to_bytes(vectors[i % len(vectors)]), {"i": i})
        step.submitted[record.id] = (time.perf_counter(), origin.region)
        tasks.append(asyncio.create_task(origin.upsert("bench", [record])))
    await asyncio.gather(*tasks)
    offered = time.perf_counter() - started
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(step.done.wait(), DRAIN_SECONDS)
    wall = time.perf_counter() - started
    cpu_after, nats_after = _cpu_seconds(me), _cpu_seconds(nats)

    def percent(before: float | None, after: float | None) -> float | None:
        return None if before is None or after is None else round(100 * (after - before) / wall, 1)

    result = {
        "target_rate_ops_s": rate,
        "achieved_rate_ops_s": round(total / offered, 1),
        "ops": total,
        "delivered": f"{step.applied}/{expected}",
        "lag_by_source_region": {region: _summary(h) for region, h in step.hists.items()},
        "batches_by_node": _batch_means(batches_before, _batch_sums(nodes)),
        "cpu_percent_of_one_core": {
            "nodes_and_writer_process": percent(cpu_before, cpu_after),
            "nats_server": percent(nats_before, nats_after),
        },
    }
    step.submitted.clear()
    step.applied = 0
    return result


def _observe(step: _Step, replica: Replicator[Node]) -> None:
    def observe(op: OpRecord, _changed: bool) -> None:
        sent = step.submitted.get(op.records[0].id) if op.records else None
        if sent is not None:
            submitted_at, source = sent
            step.hists[source].record_value(max(1, int((time.perf_counter() - submitted_at) * 1e6)))
            step.applied += 1
            if step.applied >= step.expected:
                step.done.set()

    replica.observers.append(observe)


async def run_bench(
    bus: str, regions: int, rates: Sequence[float], seconds: float, nats_url: str
) -> dict[str, Any]:
    names = list(region_names()[:regions])
    stream = f"bench-{uuid.uuid4().hex[:8]}"
    settings = ReplicationSettings(bus=bus, nats_url=nats_url, stream=stream)
    vectors = _vectors(int(max(rates) * seconds))
    nats = _nats_process(nats_url) if bus == "nats" else None
    with tempfile.TemporaryDirectory(prefix="ruvstream-repl-bench-") as scratch:
        nodes = [await _open(Path(scratch), name, settings) for name in names]
        step = _Step()
        created = [asyncio.Event() for _ in nodes[1:]]
        for replica, event in zip(nodes[1:], created, strict=True):
            replica.observers.append(lambda op, _c, e=event: e.set())  # type: ignore[misc]
        for replica in nodes:
            _observe(step, replica)
        await nodes[0].node.create_collection("bench", CollectionSpec(dim=DIM, metric="cosine"))
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in created)), 30)
        steps = [await _run_rate(nodes, step, rate, seconds, vectors, nats) for rate in rates]
        for replica in nodes:
            await replica.close()
            await replica.node.close(snapshot=False)
        if bus == "nats":
            cleanup = await JetStreamBus.connect(nats_url, stream)
            await cleanup.delete_stream()
            await cleanup.close()
        else:
            EmbeddedBus.discard(stream)
    return {
        "bus": bus,
        "regions": names,
        "seconds_per_rate": seconds,
        "cpu_count": psutil.cpu_count(),
        "steps": steps,
    }


def _ask(conns: Sequence[Connection], *command: Any) -> list[Any]:
    for conn in conns:
        conn.send(command)
    return [conn.recv() for conn in conns]


def _process_step(
    conns: Sequence[Connection],
    names: Sequence[str],
    rate: float,
    seconds: float,
    nats: psutil.Process | None,
) -> dict[str, Any]:
    tag = f"r{rate:g}"
    share = rate / len(conns)
    before = _ask(conns, "collect", tag)
    nats_before = _cpu_seconds(nats)
    started = time.perf_counter()
    submitted_by = _ask(conns, "run", share, seconds, started + 0.2, tag)
    offered = time.perf_counter() - started - 0.2
    per_member = int(share * seconds)
    expected = per_member * (len(conns) - 1)
    deadline = time.perf_counter() + DRAIN_SECONDS
    while time.perf_counter() < deadline:
        if all(n >= expected for n in _ask(conns, "applied", tag)):
            break
        time.sleep(0.05)
    after = _ask(conns, "collect", tag)
    wall = time.perf_counter() - started
    nats_after = _cpu_seconds(nats)
    hists = {name: HdrHistogram(1, MAX_LAG_US, 3) for name in names}
    delivered = 0
    for member in after:
        for record_id, applied_at in member["applied"].items():
            source = record_id.split(":")[1]
            submitted_at = submitted_by[names.index(source)].get(record_id)
            if submitted_at is not None:
                hists[source].record_value(max(1, int((applied_at - submitted_at) * 1e6)))
                delivered += 1
    total = per_member * len(conns)
    batches = {name: b["batches"] for name, b in zip(names, after, strict=True)}
    return {
        "target_rate_ops_s": rate,
        "achieved_rate_ops_s": round(total / offered, 1) if offered > 0 else 0.0,
        "ops": total,
        "delivered": f"{delivered}/{expected * len(conns)}",
        "lag_by_source_region": {region: _summary(h) for region, h in hists.items()},
        "batches_by_node": _batch_means(
            {name: b["batches"] for name, b in zip(names, before, strict=True)}, batches
        ),
        "cpu_percent_of_one_core": {
            **{
                name: round(100 * (a["cpu_seconds"] - b["cpu_seconds"]) / wall, 1)
                for name, a, b in zip(names, after, before, strict=True)
            },
            "nats_server": None
            if nats_before is None or nats_after is None
            else round(100 * (nats_after - nats_before) / wall, 1),
        },
    }


def run_processes(
    regions: int, rates: Sequence[float], seconds: float, nats_url: str
) -> dict[str, Any]:
    """Every region's node in a process of its own (``replication_member``), over NATS."""
    names = list(region_names()[:regions])
    stream = f"bench-{uuid.uuid4().hex[:8]}"
    settings = ReplicationSettings(bus="nats", nats_url=nats_url, stream=stream)
    context = multiprocessing.get_context("spawn")
    conns, processes = [], []
    try:
        for index, name in enumerate(names):
            parent, child = context.Pipe()
            process = context.Process(
                target=member_main, args=(child, name, index, settings), daemon=True
            )
            process.start()
            conns.append(parent)
            processes.append(process)
        for conn in conns:
            if not conn.poll(START_SECONDS) or conn.recv() != "ready":
                raise RuntimeError("a benchmark member did not start")
        deadline = time.perf_counter() + START_SECONDS
        while not all(_ask(conns, "has_collection")):
            if time.perf_counter() > deadline:
                raise RuntimeError("the benchmark collection did not reach every region")
            time.sleep(0.05)
        nats = _nats_process(nats_url)
        steps = [_process_step(conns, names, rate, seconds, nats) for rate in rates]
        _ask(conns, "close")
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        asyncio.run(_delete_stream(nats_url, stream))
    return {
        "bus": "nats",
        "regions": names,
        "node_processes": True,
        "seconds_per_rate": seconds,
        "cpu_count": psutil.cpu_count(),
        "steps": steps,
    }


async def _delete_stream(nats_url: str, stream: str) -> None:
    cleanup = await JetStreamBus.connect(nats_url, stream)
    await cleanup.delete_stream()
    await cleanup.close()


def _rates(text: str) -> list[float]:
    try:
        rates = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a comma-separated list of rates") from None
    if not rates or any(rate <= 0 for rate in rates):
        raise click.BadParameter("rates must be positive")
    return rates


@click.command("replication")
@click.option("--bus", type=click.Choice(["nats", "embedded"]), default="nats", show_default=True)
@click.option("--regions", type=click.IntRange(2, 15), default=3, show_default=True)
@click.option(
    "--rates",
    default="200,500,1000,2000",
    show_default=True,
    help="Upserts per second (all regions together), one step each, in this order.",
)
@click.option("--seconds", type=float, default=10.0, show_default=True, help="Per rate.")
@click.option("--nats-url", default="nats://127.0.0.1:4222", show_default=True)
@click.option(
    "--in-process",
    is_flag=True,
    help="With NATS, every node in this one process (the embedded bus always is).",
)
def replication_benchmark(
    bus: str, regions: int, rates: str, seconds: float, nats_url: str, in_process: bool
) -> None:
    """Replication lag p50/p99/max per source region at each rate, batch sizes, CPU."""
    if bus == "nats" and not in_process:
        result = run_processes(regions, _rates(rates), seconds, nats_url)
    else:
        result = asyncio.run(run_bench(bus, regions, _rates(rates), seconds, nats_url))
    click.echo(json.dumps(result, indent=2))
