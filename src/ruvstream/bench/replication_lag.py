"""``ruvstream bench replication``: replication lag under a sustained write load.

One node per region in this process, each with its own bus connection (NATS
JetStream on 127.0.0.1:4222, or the embedded bus). An open-loop writer sends
upserts to the first region at a fixed rate (each op scheduled at its
intended time, never waiting for the previous one, so a slow replica cannot
slow the load down and hide its own lag). For every op and every other
region, lag = the moment the op was applied (durable) there minus the moment
it was submitted at its origin (so it includes the origin's own WAL write),
recorded in an HDR histogram.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import click
import numpy as np
from hdrh.histogram import HdrHistogram

from ruvstream.bench.glove import glove50, glove_available
from ruvstream.config import NodeSettings, ReplicationSettings, Settings, StorageSettings
from ruvstream.core.records import OpRecord, RecordData, vector_to_bytes
from ruvstream.core.spec import CollectionSpec
from ruvstream.engine.node import Node
from ruvstream.geo import region_names
from ruvstream.replication import EmbeddedBus, JetStreamBus, Replicator, open_bus

__all__ = ["replication_benchmark", "run_bench"]

DIM = 50


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
        **{
            f"p{p:g}_ms": round(hist.get_value_at_percentile(p) / 1000, 3)
            for p in (50, 90, 99, 99.9)
        },
        "max_ms": round(hist.get_max_value() / 1000, 3),
    }


async def run_bench(
    bus: str, regions: int, rate: float, seconds: float, nats_url: str
) -> dict[str, Any]:
    names = list(region_names()[:regions])
    stream = f"bench-{uuid.uuid4().hex[:8]}"
    settings = ReplicationSettings(bus=bus, nats_url=nats_url, stream=stream)
    total = int(rate * seconds)
    vectors = _vectors(total)
    with tempfile.TemporaryDirectory(prefix="ruvstream-repl-bench-") as scratch:
        nodes = [await _open(Path(scratch), name, settings) for name in names]
        origin = nodes[0].node
        submitted: dict[str, float] = {}
        hists = {r.node.region: HdrHistogram(1, 60_000_000, 3) for r in nodes[1:]}
        for replica in nodes[1:]:
            hist = hists[replica.node.region]

            def observe(op: OpRecord, _changed: bool, hist: HdrHistogram = hist) -> None:
                sent = submitted.get(op.records[0].id) if op.records else None
                if sent is not None:
                    hist.record_value(max(1, int((time.perf_counter() - sent) * 1e6)))

            replica.observers.append(observe)
        created = [asyncio.Event() for _ in nodes[1:]]
        for replica, event in zip(nodes[1:], created, strict=True):
            replica.observers.append(lambda op, _c, e=event: e.set())  # type: ignore[misc]
        await origin.create_collection("bench", CollectionSpec(dim=DIM, metric="cosine"))
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in created)), 30)
        max_lag = 0.0
        started = time.perf_counter()
        tasks = []
        for i in range(total):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            record = RecordData(f"r{i}", vector_to_bytes(vectors[i]), {"i": i})
            submitted[record.id] = time.perf_counter()
            tasks.append(asyncio.create_task(origin.upsert("bench", [record])))
            if i % max(1, int(rate / 4)) == 0:
                max_lag = max([max_lag, *[v for r in nodes[1:] for v in r.lag.lags().values()]])
        await asyncio.gather(*tasks)
        offered = time.perf_counter() - started
        deadline = time.perf_counter() + 120
        while any(hists[r.node.region].get_total_count() < total for r in nodes[1:]):
            if time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.05)
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
        "target_rate_ops_s": rate,
        "achieved_rate_ops_s": round(total / offered, 1),
        "ops": total,
        "max_heartbeat_lag_s": round(max_lag, 3),
        "lag_by_region": {region: _summary(h) for region, h in hists.items()},
    }


@click.command("replication")
@click.option("--bus", type=click.Choice(["nats", "embedded"]), default="nats", show_default=True)
@click.option("--regions", type=click.IntRange(2, 15), default=3, show_default=True)
@click.option("--rate", type=float, default=500.0, show_default=True, help="Upserts per second.")
@click.option("--seconds", type=float, default=10.0, show_default=True)
@click.option("--nats-url", default="nats://127.0.0.1:4222", show_default=True)
def replication_benchmark(
    bus: str, regions: int, rate: float, seconds: float, nats_url: str
) -> None:
    """Replication lag p50/p99 under a sustained write load on loopback."""
    result = asyncio.run(run_bench(bus, regions, rate, seconds, nats_url))
    click.echo(json.dumps(result, indent=2))
