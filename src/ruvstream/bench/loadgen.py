"""The load generator: open loop by default, closed loop as an option.

Open loop: intended send times come from the arrival schedule alone
(``patterns.arrivals``); each request is launched at its intended time and
its latency is measured from that intended time to the answer, so a server
that stalls shows up as latency on every request it delayed, not as
missing samples (no coordinated omission). If the generator itself falls
behind, late launches still count from the intended time; requests beyond
``max_inflight`` are counted as ``dropped`` rather than silently skipped.

Closed loop: ``workers`` clients each send, wait for the answer, and send
again; latency is measured from the actual send.

Both are bounded in time and in count. Held streams follow the plan's
stream level in a control task that ticks every ``tick`` seconds.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt
from hdrh.histogram import HdrHistogram

from ruvstream.bench.histograms import LatencyBook, Timeline, new_histogram
from ruvstream.bench.patterns import QueryPicker, arrivals
from ruvstream.bench.streams import StreamPool
from ruvstream.bench.transports import RequestFailed, Transport

__all__ = ["LoadGenerator", "LoadResult", "Plan", "SteadyPlan", "Workload"]


class Plan(Protocol):
    """A load shape in local seconds (``scenarios.LocalShape`` is one)."""

    @property
    def seconds(self) -> float: ...

    def rate_at(self, t: float) -> float: ...

    def streams_at(self, t: float) -> int: ...

    def in_burst(self, t: float) -> bool: ...


@dataclass(frozen=True)
class SteadyPlan:
    """A flat load: ``rate`` q/s (open loop) for ``seconds``, no held streams."""

    seconds: float
    rate: float = 0.0

    def rate_at(self, t: float) -> float:
        return self.rate

    def streams_at(self, t: float) -> int:
        return 0

    def in_burst(self, t: float) -> bool:
        return False


@dataclass
class Workload:
    collection: str
    queries: npt.NDArray[np.float32]
    base: npt.NDArray[np.float32]
    k: int = 10
    read_ratio: float = 1.0
    pattern: str = "uniform"
    region: str = "local"
    seed: int = 0


@dataclass
class LoadResult:
    book: LatencyBook
    timeline: Timeline
    scheduled: int = 0
    dropped: int = 0
    answers: dict[int, list[str]] = field(default_factory=dict)
    seconds: float = 0.0
    streams_peak: int = 0
    stream_failures: dict[str, int] = field(default_factory=dict)
    mode: str = "open"
    loop_lag: HdrHistogram = field(default_factory=new_histogram)


Progress = Callable[[float, LoadResult], None]


async def _follow(pool: StreamPool, target: list[int], step: int = 500) -> None:
    """Move the pool toward ``target[0]`` in steps, off the control loop's path.

    Steps bound how long one resize takes, so a falling target (ramp-down)
    is seen within one step even while thousands of streams are opening.
    After each step the long-lived stream objects are moved out of the
    collector's sight (``gc.freeze``): with tens of thousands of streams a
    full collection otherwise stalls the generator's loop for a second.
    """
    while True:
        gap = target[0] - pool.size
        if gap:
            await pool.resize(pool.size + max(-step, min(step, gap)))
            gc.freeze()
        else:
            await asyncio.sleep(0.05)


class LoadGenerator:
    def __init__(
        self,
        transport: Transport,
        workload: Workload,
        *,
        timeout: float = 10.0,
        max_inflight: int = 20_000,
        window: float = 1.0,
    ) -> None:
        self.transport = transport
        self.workload = workload
        self.timeout = timeout
        self.max_inflight = max_inflight
        self.result = LoadResult(LatencyBook(), Timeline(window))
        self._queries = workload.queries.tolist()
        self._picker = QueryPicker(len(self._queries), workload.pattern, workload.seed)
        self._rng = np.random.default_rng(workload.seed + 1)
        self._inflight: set[asyncio.Task[None]] = set()

    def _choose(self, in_burst: bool) -> tuple[str, int]:
        if self._rng.random() < self.workload.read_ratio:
            return "search", self._picker.pick(in_burst)
        return "upsert", int(self._rng.integers(len(self.workload.base)))

    async def _one(self, op: str, row: int, intended: float, t: float) -> None:
        """Send one request; latency runs from ``intended`` (perf_counter seconds)."""
        w = self.workload
        try:
            async with asyncio.timeout(self.timeout):
                if op == "search":
                    ids = await self.transport.search(w.collection, self._queries[row], w.k)
                    self.result.answers[row] = ids
                else:
                    await self.transport.upsert(w.collection, str(row), w.base[row].tolist())
        except Exception as exc:  # every request ends as a sample: ok or an error by type
            if isinstance(exc, RequestFailed):
                code = exc.code
            else:
                code = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__.lower()
            latency = time.perf_counter() - intended
            self.result.book.record_error(code, latency)
            self.result.timeline.record(t, latency, ok=False)
            return
        latency = time.perf_counter() - intended
        self.result.book.record(op, self.transport.protocol, w.region, latency)
        self.result.timeline.record(t, latency, ok=True)

    def _launch(self, op: str, row: int, intended: float, t: float) -> None:
        task = asyncio.create_task(self._one(op, row, intended, t))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def open_loop(
        self, plan: Plan, *, poisson: bool = False, max_count: int | None = None
    ) -> None:
        start = time.perf_counter()
        for offset in arrivals(
            plan.rate_at,
            plan.seconds,
            poisson=poisson,
            seed=self.workload.seed,
            max_count=max_count,
        ):
            delay = start + offset - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            self.result.scheduled += 1
            self.result.timeline.sent(offset)
            if len(self._inflight) >= self.max_inflight:
                self.result.dropped += 1
                continue
            op, row = self._choose(plan.in_burst(offset))
            self._launch(op, row, start + offset, offset)
        await self._drain()

    async def closed_loop(
        self, plan: Plan, workers: int, *, max_count: int | None = None, think: float = 0.0
    ) -> None:
        self.result.mode = "closed"
        start = time.perf_counter()
        budget = [max_count if max_count is not None else -1]

        async def worker() -> None:
            while (t := time.perf_counter() - start) < plan.seconds and budget[0] != 0:
                budget[0] -= 1
                self.result.scheduled += 1
                self.result.timeline.sent(t)
                op, row = self._choose(plan.in_burst(t))
                await self._one(op, row, time.perf_counter(), t)
                if think:
                    await asyncio.sleep(think)

        await asyncio.gather(*(worker() for _ in range(workers)))

    async def _drain(self) -> None:
        while self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)

    async def run(
        self,
        plan: Plan,
        *,
        pool: StreamPool | None = None,
        closed_workers: int = 0,
        poisson: bool = False,
        max_count: int | None = None,
        progress: Progress | None = None,
        tick: float = 0.25,
    ) -> LoadResult:
        """Drive the plan to its end (or ``max_count``); streams follow the plan's level."""
        started = time.perf_counter()
        if closed_workers:
            load = self.closed_loop(plan, closed_workers, max_count=max_count)
        else:
            load = self.open_loop(plan, poisson=poisson, max_count=max_count)
        task = asyncio.create_task(load)
        target = [0]
        follower = asyncio.create_task(_follow(pool, target)) if pool is not None else None
        while not task.done():
            t = time.perf_counter() - started
            target[0] = plan.streams_at(t) if t < plan.seconds else 0
            if t < plan.seconds:
                held = pool.size if pool is not None else 0
                self.result.timeline.note(t, held, target[0], plan.rate_at(t))
            if progress is not None:
                progress(t, self.result)
            before = time.perf_counter()
            await asyncio.wait({task}, timeout=tick)
            if not task.done():  # a tick that overran measures this loop's own lag
                lag = time.perf_counter() - before - tick
                self.result.loop_lag.record_value(max(1, int(lag * 1_000_000)))
        await task
        self.result.seconds = time.perf_counter() - started
        if pool is not None and follower is not None:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
            self.result.streams_peak = pool.peak
            self.result.stream_failures = dict(pool.failures)
            await pool.aclose()
            gc.unfreeze()
        return self.result
