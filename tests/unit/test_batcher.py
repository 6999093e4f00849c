"""The micro-batcher: coalescing, batch bounds and error delivery."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from ruvstream.index.batcher import MicroBatcher


class Recorder:
    """A batch function that records batch sizes and can be held closed."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, batch: Sequence[int]) -> list[int | BaseException]:
        self.gate.wait(timeout=10)
        self.sizes.append(len(batch))
        return [ValueError(f"bad {x}") if x < 0 else x * 10 for x in batch]


async def test_concurrent_submits_coalesce() -> None:
    recorder = Recorder()
    batcher: MicroBatcher[int, int] = MicroBatcher(recorder, window=0.005, max_batch=64)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(200)))
    await batcher.close()
    assert results == [i * 10 for i in range(200)], "each caller gets its own answer"
    assert sum(recorder.sizes) == 200
    assert len(recorder.sizes) < 200, "fewer calls than requests"
    assert max(recorder.sizes) <= 64


async def test_max_batch_is_respected_while_work_queues() -> None:
    recorder = Recorder()
    recorder.gate.clear()  # hold the first batch so the rest pile up behind it
    batcher: MicroBatcher[int, int] = MicroBatcher(recorder, window=0.0, max_batch=7)
    first = asyncio.ensure_future(batcher.submit(0))
    await asyncio.sleep(0.05)
    rest = [asyncio.ensure_future(batcher.submit(i)) for i in range(1, 50)]
    await asyncio.sleep(0.05)
    recorder.gate.set()
    assert await first == 0
    assert await asyncio.gather(*rest) == [i * 10 for i in range(1, 50)]
    await batcher.close()
    assert recorder.sizes[0] == 1
    assert all(size <= 7 for size in recorder.sizes)
    assert recorder.sizes[1] == 7, "queued requests form full batches"


async def test_failed_batch_reaches_every_caller() -> None:
    calls: list[int] = []

    def explode(batch: Sequence[int]) -> list[int | BaseException]:
        calls.append(len(batch))
        if min(batch) < 100:
            raise RuntimeError("index unavailable")
        return list(batch)

    batcher: MicroBatcher[int, int] = MicroBatcher(explode, window=0.005)
    outcomes = await asyncio.gather(*(batcher.submit(i) for i in range(10)), return_exceptions=True)
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    assert sum(calls) == 10
    assert await batcher.submit(123) == 123, "the worker survives a failed batch"
    await batcher.close()


async def test_per_item_errors_reach_only_their_caller() -> None:
    batcher: MicroBatcher[int, int] = MicroBatcher(Recorder(), window=0.005)
    outcomes = await asyncio.gather(
        *(batcher.submit(i) for i in (1, -2, 3, -4)), return_exceptions=True
    )
    await batcher.close()
    assert outcomes[0] == 10 and outcomes[2] == 30
    assert isinstance(outcomes[1], ValueError) and str(outcomes[1]) == "bad -2"
    assert isinstance(outcomes[3], ValueError) and str(outcomes[3]) == "bad -4"


async def test_on_batch_reports_sizes_and_worker_recovers_after_error() -> None:
    seen: list[int] = []
    recorder = Recorder()
    batcher: MicroBatcher[int, int] = MicroBatcher(recorder, window=0.005, on_batch=seen.append)
    await asyncio.gather(*(batcher.submit(i) for i in range(5)))
    with pytest.raises(ValueError):
        await batcher.submit(-1)
    assert await batcher.submit(2) == 20
    await batcher.close()
    assert seen == recorder.sizes


async def test_a_batch_leaves_part_of_a_backlog_for_the_next_call() -> None:
    """Taking half the queue keeps the index busy while the loop answers the last batch."""
    recorder = Recorder()
    recorder.gate.clear()
    batcher: MicroBatcher[int, int] = MicroBatcher(recorder, window=0.0, max_batch=64)
    first = asyncio.ensure_future(batcher.submit(0))
    await asyncio.sleep(0.05)
    rest = [asyncio.ensure_future(batcher.submit(i)) for i in range(1, 21)]
    await asyncio.sleep(0.05)
    recorder.gate.set()
    assert await first == 0
    assert await asyncio.gather(*rest) == [i * 10 for i in range(1, 21)]
    await batcher.close()
    assert recorder.sizes[:3] == [1, 10, 5], "half of 20 queued, then half of the 10 left"
    assert sum(recorder.sizes) == 21


async def test_several_workers_each_get_a_share() -> None:
    lock = threading.Lock()
    active = [0, 0]  # now, most at once

    def slow(batch: Sequence[int]) -> list[int | BaseException]:
        with lock:
            active[0] += 1
            active[1] = max(active)
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return [x * 10 for x in batch]

    pool = ThreadPoolExecutor(2)
    batcher: MicroBatcher[int, int] = MicroBatcher(
        slow, window=0.01, max_batch=64, executor=pool, concurrency=2
    )
    results = await asyncio.gather(*(batcher.submit(i) for i in range(12)))
    await batcher.close()
    pool.shutdown()
    assert results == [i * 10 for i in range(12)]
    assert active[1] == 2, "a backlog is split between the workers, not taken by one"


async def test_a_caller_that_gave_up_costs_no_index_time() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    batcher: MicroBatcher[int, int] = MicroBatcher(recorder, window=0.0, max_batch=64)
    first = asyncio.ensure_future(batcher.submit(0))
    await asyncio.sleep(0.05)
    abandoned = batcher.submit_nowait(1)
    kept = batcher.submit_nowait(2)
    abandoned.cancel()
    recorder.gate.set()
    assert await first == 0 and await kept == 20
    await batcher.close()
    assert sum(recorder.sizes) == 2, "the cancelled request never reached the batch function"
