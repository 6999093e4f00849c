"""``ruvstream bench standing``: ingest rate and time-to-notify with many standing queries.

One node process; per count of standing queries a fresh 384-d cosine
collection, preloaded so top-k sets start full, then the queries (half
top-10, half ``min_score``) spread over many WebSockets. Two phases:

- closed loop: one writer sends batches of 100 records over HTTP (binary
  bodies), each after the last is acknowledged: records/s acknowledged,
  and the ratio to the rate with no standing queries;
- paced at ``--rate`` rows/s: time-to-notify, the moment a write was
  acknowledged to the moment each of its matches was received, on an
  HDR histogram. A frame can beat the acknowledgement (matches are queued
  before the answer), which counts as 0.

The subscribers run in a process of their own, which only stamps frames as
they arrive and reads them after the run, so the figures are the node's,
not the cost of this client's parsing sharing a core with its writer.
(Both use the system-wide monotonic clock.)

Each batch carries ``--near`` records close to a random query's vector, so
every count sees matches; the rest are random, or with ``--dataset`` the
set's rows in order: its queries then its base rows become the standing
queries, then the preload, then the written records (cycling through the
set if a run needs more rows than it has).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import click
import httpx
import numpy as np
import orjson
import websockets

from ruvstream.bench import datasets
from ruvstream.bench.histograms import new_histogram, summarize
from ruvstream.bench.target import spawned_node

__all__ = ["StandingRow", "standing_benchmark"]

DIM = 384
BATCH = 100
MIN_SCORE = 0.6
"""Random 384-d unit vectors score about 0 +- 0.05 with each other: only near ones match."""
_WINDOW = 200
"""Subscribe frames in flight per socket (below the node's per-connection limit)."""


@dataclass
class StandingRow:
    subscriptions: int
    records_per_s: float
    ratio: float
    notify: dict[str, float]
    matches: int
    paced_rate: float


@dataclass
class _Receipts:
    """Frames as they arrive, stamped (monotonic) and parsed later; subscribe
    answers, while some are awaited, at once."""

    arrived: list[tuple[float, str | bytes]] = field(default_factory=list)
    acks: dict[str, asyncio.Future[Any]] = field(default_factory=dict)

    def frame(self, raw: str | bytes) -> None:
        if not self.acks:
            self.arrived.append((time.monotonic(), raw))
            return
        message = orjson.loads(raw)
        if (future := self.acks.pop(str(message.get("id")), None)) is not None:
            future.set_result(message)
        else:
            self.arrived.append((time.monotonic(), raw))

    def times(self) -> dict[str, list[float]]:
        """Record id to the times its matches arrived."""
        out: dict[str, list[float]] = {}
        for at, raw in self.arrived:
            message = orjson.loads(raw)
            if message["type"] == "matches":
                for entry in message["matches"]:
                    out.setdefault(entry["record"]["id"], []).append(at)
        return out


def _unit(rows: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    out: np.ndarray[Any, Any] = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype("<f4")
    return out


async def _post(
    http: httpx.AsyncClient, name: str, ids: list[str], rows: np.ndarray[Any, Any]
) -> None:
    response = await http.post(
        f"/v1/collections/{name}/records",
        content=np.ascontiguousarray(rows, dtype="<f4").tobytes(),
        headers={"Content-Type": "application/octet-stream", "X-Ids": ",".join(ids)},
    )
    response.raise_for_status()


async def _subscribe(
    sockets: list[websockets.ClientConnection],
    receipts: _Receipts,
    name: str,
    queries: np.ndarray[Any, Any],
) -> None:
    loop = asyncio.get_running_loop()

    async def on_socket(s: int) -> None:
        mine = list(range(s, len(queries), len(sockets)))
        for start in range(0, len(mine), _WINDOW):
            waiting = []
            for q in mine[start : start + _WINDOW]:
                frame: dict[str, Any] = {"id": f"s{q}", "op": "subscribe", "collection": name}
                frame["vector"] = queries[q].tolist()
                frame.update({"k": 10} if q % 2 == 0 else {"min_score": MIN_SCORE})
                receipts.acks[f"s{q}"] = future = loop.create_future()
                waiting.append(future)
                await sockets[s].send(orjson.dumps(frame).decode())
            for answer in await asyncio.gather(*waiting):
                assert answer["type"] == "subscribed", answer

    await asyncio.gather(*(on_socket(s) for s in range(len(sockets))))


class _Rows:
    """The vectors of one count, drawn in turn: random unit rows, or a set's rows in order."""

    def __init__(self, rng: np.random.Generator, pool: np.ndarray[Any, Any] | None) -> None:
        self.rng, self.pool, self.at = rng, pool, 0
        self.dim = DIM if pool is None else int(pool.shape[1])

    def take(self, n: int) -> np.ndarray[Any, Any]:
        if self.pool is None:
            return _unit(self.rng.standard_normal((n, DIM)))
        picks = (self.at + np.arange(n)) % len(self.pool)
        self.at += n
        taken: np.ndarray[Any, Any] = self.pool[picks]
        return taken


def _batch(
    source: _Rows, queries: np.ndarray[Any, Any], near: int, tag: str
) -> tuple[list[str], np.ndarray[Any, Any]]:
    rows = source.take(BATCH).astype(np.float32)
    if len(queries) and near:
        picks = source.rng.integers(0, len(queries), near)
        rows[:near] = queries[picks] * 40.0 + source.rng.standard_normal((near, source.dim))
    return [f"{tag}-{i}" for i in range(BATCH)], _unit(rows)


def _subscriber(
    ws_url: str, name: str, queries: np.ndarray[Any, Any], sockets: int, pipe: Connection
) -> None:
    """The subscribing process: says ``ready``, reads until told to stop, sends the times."""
    try:
        asyncio.run(_subscribe_and_read(ws_url, name, queries, sockets, pipe))
    except BaseException as exc:
        pipe.send(("failed", repr(exc)))
        raise


async def _subscribe_and_read(
    ws_url: str, name: str, queries: np.ndarray[Any, Any], sockets: int, pipe: Connection
) -> None:
    receipts = _Receipts()
    conns = [await websockets.connect(ws_url, max_size=None) for _ in range(sockets)]
    readers = [asyncio.create_task(_read(c, receipts)) for c in conns]
    try:
        await _subscribe(conns, receipts, name, queries)
        pipe.send(("ready", None))
        await asyncio.to_thread(pipe.recv)
        await asyncio.sleep(1.0)  # the last frames on their way
    finally:
        for c in conns:
            await c.close()
        for r in readers:
            r.cancel()
    pipe.send(("times", receipts.times()))


async def _from_subscriber(pipe: Connection, expect: str) -> Any:
    kind, body = await asyncio.to_thread(pipe.recv)
    if kind != expect:
        raise RuntimeError(f"the subscribing process failed: {body}")
    return body


async def _one_count(
    url: str,
    count: int,
    *,
    sockets: int,
    seconds: float,
    rate: float,
    near: int,
    preload: int,
    pool: np.ndarray[Any, Any] | None = None,
) -> tuple[float, dict[str, float], int]:
    source = _Rows(np.random.default_rng(count), pool)
    name = f"standing{count}"
    queries = source.take(count)
    context = multiprocessing.get_context("spawn")
    mine, theirs = context.Pipe()
    ws_url = url.replace("http://", "ws://") + "/v1/ws"
    async with httpx.AsyncClient(base_url=url, timeout=120.0) as http:
        (await http.put(f"/v1/collections/{name}", json={"dim": source.dim})).raise_for_status()
        for start in range(0, preload, 1000):
            ids = [f"p{i}" for i in range(start, min(preload, start + 1000))]
            await _post(http, name, ids, source.take(len(ids)))
        process = context.Process(
            target=_subscriber, args=(ws_url, name, queries, sockets, theirs), daemon=True
        )
        process.start()
        try:
            await _from_subscriber(mine, "ready")
            written = 0
            started = time.monotonic()
            while time.monotonic() - started < seconds:
                ids, rows = _batch(source, queries, near, f"c{written}")
                await _post(http, name, ids, rows)
                written += BATCH
            closed_rate = written / (time.monotonic() - started)
            acked: dict[str, float] = {}
            interval = BATCH / rate
            next_at = time.monotonic()
            for n in range(max(1, int(seconds * rate / BATCH))):
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
                ids, rows = _batch(source, queries, near, f"r{n}")
                await _post(http, name, ids, rows)
                at = time.monotonic()
                acked.update((i, at) for i in ids)
            mine.send("stop")
            times: dict[str, list[float]] = await _from_subscriber(mine, "times")
        finally:
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
        (await http.delete(f"/v1/collections/{name}")).raise_for_status()
    hist = new_histogram()
    matches = 0
    for record_id, ack in acked.items():
        for received in times.get(record_id, ()):
            hist.record_value(max(1, int((received - ack) * 1_000_000)))
            matches += 1
    return closed_rate, summarize(hist), matches


async def _read(conn: websockets.ClientConnection, receipts: _Receipts) -> None:
    try:
        async for raw in conn:
            receipts.frame(raw)
    except websockets.ConnectionClosed:
        return


def _pool(dataset: str | None) -> np.ndarray[Any, Any] | None:
    """Every row of the set, queries first; None for random vectors."""
    if dataset is None:
        return None
    try:
        base, queries = datasets.vectors(dataset, queries=10_000)
    except datasets.DatasetUnavailableError as exc:
        raise click.ClickException(str(exc)) from exc
    return np.vstack([queries, base]).astype("<f4")


def run_standing(url: str, counts: list[int], **options: Any) -> list[StandingRow]:
    rows: list[StandingRow] = []
    base: float | None = None
    for count in counts:
        rate, notify, matches = asyncio.run(_one_count(url, count, **options))
        base = rate if base is None or count == 0 else base
        rows.append(StandingRow(count, rate, rate / base, notify, matches, options["rate"]))
        click.echo(_line(rows[-1]), err=True)
    return rows


def _line(row: StandingRow) -> str:
    return (
        f"{row.subscriptions:>8}  {row.records_per_s:>9.0f}  {row.ratio:>5.2f}  "
        f"{row.notify['p50']:>8.1f}  {row.notify['p99']:>8.1f}  {row.matches:>8}"
    )


@click.command("standing")
@click.option("--counts", default="0,1000,10000", show_default=True, help="Standing queries.")
@click.option("--sockets", type=int, default=20, show_default=True)
@click.option("--seconds", type=float, default=10.0, show_default=True, help="Per phase.")
@click.option("--rate", type=float, default=500.0, show_default=True, help="Paced rows/s.")
@click.option("--near", type=int, default=2, show_default=True, help="Near records a batch.")
@click.option("--preload", type=int, default=10_000, show_default=True)
@click.option("--url", default=None, help="A running node; default: start one here.")
@click.option(
    "--dataset",
    type=click.Choice(datasets.NAMES),
    default=None,
    help="Queries and records from this set (minilm-384: 384-d); default: random 384-d.",
)
@click.option("--json", "as_json", is_flag=True)
def standing_benchmark(
    counts: str,
    sockets: int,
    seconds: float,
    rate: float,
    near: int,
    preload: int,
    url: str | None,
    dataset: str | None,
    as_json: bool,
) -> None:
    """Records/s and time-to-notify at each count of standing queries."""
    numbers = [int(c) for c in counts.split(",") if c.strip()]
    options: dict[str, Any] = {
        "sockets": sockets,
        "seconds": seconds,
        "rate": rate,
        "near": near,
        "preload": preload,
        "pool": _pool(dataset),
    }
    click.echo(
        f"{'queries':>8}  {'records/s':>9}  {'ratio':>5}  {'p50 ms':>8}  "
        f"{'p99 ms':>8}  {'matches':>8}",
        err=True,
    )
    if url is None:
        with tempfile.TemporaryDirectory() as tmp, spawned_node(Path(tmp)) as spawned:
            rows = run_standing(spawned, numbers, **options)
    else:
        rows = run_standing(url, numbers, **options)
    if as_json:
        click.echo(orjson.dumps([row.__dict__ for row in rows]).decode())
