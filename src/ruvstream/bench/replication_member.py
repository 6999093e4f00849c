"""One region of ``bench replication`` over NATS, in a process of its own.

The parent drives every member through a pipe, one command at a time:

- ``("run", rate, seconds, start_at, tag)``: write this member's share of the
  load open-loop from ``start_at`` (a ``time.perf_counter`` instant: the
  system's monotonic clock, the same in every process on Linux), answer
  ``{id: submitted_at}``;
- ``("applied", tag)``: answer how many remote ops of step ``tag`` arrived;
- ``("collect", tag)``: answer ``{id: applied_at}`` of the step's remote
  ops, the member's CPU seconds and its batch counters;
- ``("close",)``: close the node and end.

Own processes give each node its own interpreter (no shared GIL) and its own
CPU figure, as separate nodes would have.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from ruvstream.config import NodeSettings, ReplicationSettings, Settings, StorageSettings
from ruvstream.core.records import OpRecord, RecordData, vector_to_bytes
from ruvstream.core.spec import CollectionSpec
from ruvstream.engine.node import Node
from ruvstream.replication import Replicator, open_bus

__all__ = ["COLLECTION", "DIM", "member_main"]

DIM = 50
COLLECTION = "bench"
_BATCHES = ("publish_batch", "apply_batch")


def _batch_counters(node: Node) -> list[float]:
    values = []
    for name in _BATCHES:
        for part in ("count", "sum"):
            sample = node.metrics_registry.get_sample_value(
                f"ruvstream_replication_{name}_ops_{part}"
            )
            values.append(sample or 0.0)
    return values


class _Member:
    def __init__(self, replicator: Replicator[Node], index: int) -> None:
        self.replicator = replicator
        self.node = replicator.node
        self.vectors = np.random.default_rng(index).standard_normal((4096, DIM))
        self.applied: dict[str, float] = {}
        self.arrived: dict[str, int] = {}
        """Distinct remote ops per step tag: polled often, so kept as they come
        rather than counted over every op applied so far on each poll."""
        replicator.observers.append(self._observe)

    def _observe(self, op: OpRecord, _changed: bool) -> None:
        if op.records:
            record_id = op.records[0].id
            if record_id not in self.applied:
                tag = record_id.split(":", 1)[0]
                self.arrived[tag] = self.arrived.get(tag, 0) + 1
            self.applied[record_id] = time.perf_counter()

    async def run(self, rate: float, seconds: float, start_at: float, tag: str) -> dict[str, float]:
        submitted: dict[str, float] = {}
        tasks = []
        for i in range(int(rate * seconds)):
            delay = start_at + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            vector = vector_to_bytes(self.vectors[i % len(self.vectors)].astype(np.float32))
            record = RecordData(f"{tag}:{self.node.region}:{i}", vector, {"i": i})
            submitted[record.id] = time.perf_counter()
            tasks.append(asyncio.create_task(self.node.upsert(COLLECTION, [record])))
        await asyncio.gather(*tasks)
        return submitted

    def of_step(self, tag: str) -> dict[str, float]:
        return {k: v for k, v in self.applied.items() if k.startswith(f"{tag}:")}


async def _serve(conn: Connection, region: str, index: int, settings: ReplicationSettings) -> None:
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory(prefix=f"ruvstream-repl-{region}-") as scratch:
        node = await Node.open(
            Settings(
                node=NodeSettings(region=region, node_id=f"bench-{region}"),
                storage=StorageSettings(data_dir=Path(scratch)),
                replication=settings,
            )
        )
        replicator = Replicator(node, await open_bus(settings))
        await replicator.start()
        member = _Member(replicator, index)
        if index == 0:
            await node.create_collection(COLLECTION, CollectionSpec(dim=DIM, metric="cosine"))
        conn.send("ready")
        me = psutil.Process()
        while True:
            command: tuple[Any, ...] = await loop.run_in_executor(None, conn.recv)
            if command[0] == "has_collection":
                conn.send(COLLECTION in node.catalog.collections)
            elif command[0] == "run":
                conn.send(await member.run(*command[1:]))
            elif command[0] == "applied":
                conn.send(member.arrived.get(command[1], 0))
            elif command[0] == "collect":
                times = me.cpu_times()
                conn.send(
                    {
                        "applied": member.of_step(command[1]),
                        "cpu_seconds": times.user + times.system,
                        "batches": _batch_counters(node),
                    }
                )
            elif command[0] == "close":
                await replicator.close()
                await node.close(snapshot=False)
                conn.send("closed")
                return


def member_main(conn: Connection, region: str, index: int, settings: ReplicationSettings) -> None:
    """The child process's entry point."""
    asyncio.run(_serve(conn, region, index, settings))
