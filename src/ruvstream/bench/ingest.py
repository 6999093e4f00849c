"""The streaming-ingest case: search quality and speed while rows arrive at a fixed rate.

Modelled on VectorDBBench's streaming case. Rows of a real dataset go into
an empty collection in dataset order, open loop at ``rate`` rows/s (each
write is due at ``i / rate``, so a slow engine builds a backlog that the
write latencies show: they run from the due time, not from the send, and so
carry no coordinated omission; rows go ``batch`` to a request, as
VectorDBBench's inserts do, and a latency is a request's). Meanwhile
``clients`` closed-loop searchers run throughout. When 50, 80 and 100 % of
the rows are acknowledged, a stage measures serial recall and latency (one
query at a time) and then the searchers' QPS and failure rate over a window.

Serial recall is exact: each query's truth is the top-k over the rows
acknowledged when it was sent (a prefix, since rows are acknowledged in
order up to a pointer); ids beyond that prefix in an answer are left out.
A row written but not yet acknowledged that outranks a true neighbour
lowers recall by one hit: with tens of rows in flight among tens of
thousands the effect is in the fourth decimal.

Searchable-after-insert: every ``probe_every``-th row, once acknowledged,
is searched for with its own vector until its id comes back; the latency is
from its acknowledgement until then (``probe_deadline`` gives up, counted
as not found).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from hdrh.histogram import HdrHistogram

from ruvstream.bench.histograms import new_histogram, summarize
from ruvstream.bench.peers.base import StreamingEngine
from ruvstream.bench.peers.pinning import cpu_seconds
from ruvstream.bench.transports import RequestFailed, Transport

__all__ = ["IngestConfig", "prefix_recall", "run_case"]

Matrix = npt.NDArray[np.float32]


@dataclass(frozen=True)
class IngestConfig:
    rate: float = 500.0
    batch: int = 10
    clients: int = 8
    k: int = 10
    ef: int = 64
    serial_queries: int = 100
    window_seconds: float = 5.0
    stages: tuple[float, ...] = (0.5, 0.8, 1.0)
    probe_every: int = 50
    probe_deadline: float = 30.0
    max_in_flight: int = 256
    seed: int = 1


@dataclass
class _Tally:
    ok: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def fail(self, code: str) -> None:
        self.failed += 1
        self.errors[code] = self.errors.get(code, 0) + 1


@dataclass
class _State:
    rows: int
    done: bytearray
    prefix: int = 0
    writes: _Tally = field(default_factory=_Tally)
    write_hist: HdrHistogram = field(default_factory=new_histogram)
    searches: _Tally = field(default_factory=_Tally)
    search_hist: HdrHistogram = field(default_factory=new_histogram)
    probe_hist: HdrHistogram = field(default_factory=new_histogram)
    probes_lost: int = 0
    probes: list[asyncio.Task[None]] = field(default_factory=list)
    stopping: bool = False
    last_ack: float = 0.0
    moved: asyncio.Event = field(default_factory=asyncio.Event)

    def finish(self, row: int) -> None:
        """Mark ``row`` done (acknowledged or failed) and move the contiguous prefix on."""
        self.done[row] = 1
        while self.prefix < self.rows and self.done[self.prefix]:
            self.prefix += 1
        self.moved.set()

    async def reach(self, rows: int) -> None:
        while self.prefix < rows:
            self.moved.clear()
            await self.moved.wait()


def _record(hist: HdrHistogram, seconds: float) -> None:
    hist.record_value(max(1, min(3_600_000_000, round(seconds * 1e6))))


def prefix_recall(
    base: Matrix, queries: Matrix, answers: list[tuple[int, int, list[str]]], k: int
) -> float:
    """Mean recall@k of ``(query row, prefix, ids)``: truth is the top-k of ``base[:prefix]``.

    Vectors are L2-normalised, so the inner product ranks as cosine does.
    Ids at or past the prefix are not counted (they were in flight).
    """
    if not answers:
        return 0.0
    hits = 0
    for row, prefix, ids in answers:
        scores = base[:prefix] @ queries[row]
        top = min(k, prefix)
        truth = np.argpartition(-scores, top - 1)[:top] if top else np.empty(0, np.int64)
        seen = {int(i) for i in ids[:k] if i.isdigit() and int(i) < prefix}
        hits += len(seen & {int(t) for t in truth.tolist()})
    return hits / (k * len(answers))


async def _upsert(transport: Transport, rows: range, base: Matrix) -> None:
    """One write of ``rows``: in one request where the transport takes batches."""
    ids, vectors = [str(r) for r in rows], base[rows.start : rows.stop].tolist()
    many = getattr(transport, "upsert_many", None)
    if many is not None:
        await many("bench", ids, vectors)
        return
    for rid, vector in zip(ids, vectors, strict=True):
        await transport.upsert("bench", rid, vector)


async def _writer(
    transport: Transport, base: Matrix, state: _State, config: IngestConfig, probe: Transport
) -> None:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(config.max_in_flight)
    started = loop.time()

    async def write(rows: range, due: float) -> None:
        try:
            await _upsert(transport, rows, base)
        except Exception as exc:  # RequestFailed or a peer client's own error: a failed write
            code = getattr(exc, "code", type(exc).__name__.lower())
            for _ in rows:
                state.writes.fail(code)
        else:
            state.writes.ok += len(rows)
            acked = loop.time()
            _record(state.write_hist, acked - due)
            for row in rows:
                if config.probe_every and row % config.probe_every == 0:
                    state.probes.append(
                        asyncio.create_task(_probe(probe, base, row, acked, state, config))
                    )
        finally:
            for row in rows:
                state.finish(row)
            state.last_ack = loop.time()
            gate.release()

    tasks = []
    for first in range(0, state.rows, config.batch):
        due = started + first / config.rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await gate.acquire()
        rows = range(first, min(first + config.batch, state.rows))
        tasks.append(asyncio.create_task(write(rows, due)))
    await asyncio.gather(*tasks)


async def _probe(
    transport: Transport, base: Matrix, row: int, acked: float, state: _State, config: IngestConfig
) -> None:
    loop = asyncio.get_running_loop()
    vector, rid = base[row].tolist(), str(row)
    while loop.time() - acked < config.probe_deadline:
        try:
            if rid in await transport.search("bench", vector, config.k):
                _record(state.probe_hist, loop.time() - acked)
                return
        except RequestFailed:
            pass
        await asyncio.sleep(0.002)
    state.probes_lost += 1


async def _searcher(
    transport: Transport, queries: Matrix, state: _State, config: IngestConfig, seed: int
) -> None:
    loop = asyncio.get_running_loop()
    pick = random.Random(seed)
    while not state.stopping:
        vector = queries[pick.randrange(len(queries))].tolist()
        sent = loop.time()
        try:
            await transport.search("bench", vector, config.k)
        except Exception as exc:  # RequestFailed or a peer client's own error
            state.searches.fail(getattr(exc, "code", type(exc).__name__.lower()))
            await asyncio.sleep(0.01)  # an engine refusing at once must not spin the loop
        else:
            state.searches.ok += 1
            _record(state.search_hist, loop.time() - sent)


async def _stage(
    target: float,
    serial: Transport,
    data: tuple[Matrix, Matrix],
    state: _State,
    config: IngestConfig,
) -> dict[str, Any]:
    """Serial recall and latency at this point of the ingest, then the searchers' QPS."""
    loop = asyncio.get_running_loop()
    base, queries = data
    reached = state.prefix
    answers: list[tuple[int, int, list[str]]] = []
    latency, failed = new_histogram(), 0
    for n in range(config.serial_queries):
        row, prefix, sent = n % len(queries), state.prefix, loop.time()
        try:
            ids = await serial.search("bench", queries[row].tolist(), config.k)
        except RequestFailed:
            failed += 1
            continue
        _record(latency, loop.time() - sent)
        answers.append((row, prefix, ids))
    before, started = (state.searches.ok, state.searches.failed), loop.time()
    await asyncio.sleep(config.window_seconds)
    ok, bad = state.searches.ok - before[0], state.searches.failed - before[1]
    seconds = loop.time() - started
    return {
        "target": target,
        "inserted": reached,
        "serial": {
            "queries": config.serial_queries,
            "answered": len(answers),
            "failed": failed,
            "recall": prefix_recall(base, queries, answers, config.k),
            "latency": summarize(latency),
        },
        "concurrent": {
            "clients": config.clients,
            "seconds": seconds,
            "ok": ok,
            "failed": bad,
            "qps": ok / seconds if seconds else 0.0,
            "failure_rate": bad / (ok + bad) if ok + bad else 0.0,
            "inserted_at_end": state.prefix,
        },
    }


async def run_case(
    engine: StreamingEngine,
    base: Matrix,
    queries: Matrix,
    config: IngestConfig,
    on_stage: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """The whole case against a started engine; returns the report of one engine."""
    await engine.create(int(base.shape[1]), config.ef)
    writer, readers, serial, probe = [await engine.transport(config.ef) for _ in range(4)]
    state = _State(len(base), bytearray(len(base)))
    loop = asyncio.get_running_loop()
    pid = engine.server_pid
    cpu_before = cpu_seconds(pid) if pid else 0.0
    searchers = [
        asyncio.create_task(_searcher(readers, queries, state, config, config.seed + n))
        for n in range(config.clients)
    ]
    started = loop.time()
    writing = asyncio.create_task(_writer(writer, base, state, config, probe))
    stages = []
    try:
        for target in config.stages:
            reach = asyncio.create_task(state.reach(round(target * state.rows)))
            await asyncio.wait({reach, writing}, return_when=asyncio.FIRST_COMPLETED)
            if writing.done() and writing.exception() is not None:
                reach.cancel()
                await writing  # the writer itself failed: say why rather than wait
            await reach
            stages.append(await _stage(target, serial, (base, queries), state, config))
            if on_stage is not None:
                on_stage(stages[-1])
        await writing
        actual = state.last_ack - started  # the stages' windows after it do not count
        await asyncio.gather(*state.probes)
    finally:
        state.stopping = True
        writing.cancel()
        await asyncio.gather(*searchers, writing, return_exceptions=True)
        cpu = (cpu_seconds(pid) - cpu_before) if pid else None
        elapsed = loop.time() - started
        for transport in (writer, readers, serial, probe):
            await transport.aclose()
    ideal = len(base) / config.rate
    return {
        "engine": engine.name,
        "rows": len(base),
        "dim": int(base.shape[1]),
        "config": {**config.__dict__, "stages": list(config.stages)},
        "stages": stages,
        "ingest": {
            "ideal_seconds": ideal,
            "actual_seconds": actual,
            "ratio": actual / ideal if ideal else 0.0,
            "ok": state.writes.ok,
            "failed": state.writes.failed,
            "errors": state.writes.errors,
            "latency": summarize(state.write_hist),
        },
        "searchable_after_insert": {
            "probes": len(state.probes),
            "found": state.probe_hist.get_total_count(),
            "not_found": state.probes_lost,
            "latency": summarize(state.probe_hist),
        },
        "searches": {
            "ok": state.searches.ok,
            "failed": state.searches.failed,
            "failure_rate": state.searches.failed
            / max(1, state.searches.ok + state.searches.failed),
            "errors": state.searches.errors,
            "latency": summarize(state.search_hist),
        },
        "server_cpu_seconds": cpu,
        "elapsed_seconds": elapsed,
    }
