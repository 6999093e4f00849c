"""Micro-batching: concurrent requests coalesce into one call off the event loop.

A single worker per batcher drains whatever has queued, waits ``window``
seconds once for stragglers when the batch is not yet full, and hands the
batch to an executor. At most ``concurrency`` batches run at once (one per
index thread); while they run, new requests queue up and form the next
batch, so under load batches grow by themselves and an idle request waits at
most ``window``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Generic, TypeVar

__all__ = ["MicroBatcher"]

Req = TypeVar("Req")
Res = TypeVar("Res")


class MicroBatcher(Generic[Req, Res]):
    def __init__(
        self,
        run_batch: Callable[[Sequence[Req]], Sequence[Res | BaseException]],
        *,
        window: float = 0.0005,
        max_batch: int = 64,
        executor: Executor | None = None,
        on_batch: Callable[[int], None] | None = None,
        concurrency: int = 1,
    ) -> None:
        self._run_batch = run_batch
        self._window = window
        self._max_batch = max_batch
        self._executor = executor
        self._on_batch = on_batch
        self._queue: asyncio.Queue[tuple[Req, asyncio.Future[Res]]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._concurrency = max(1, concurrency)
        self._running: set[asyncio.Task[None]] = set()

    async def submit(self, request: Req) -> Res:
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work())
        future: asyncio.Future[Res] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((request, future))
        return await future

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        for task in list(self._running):
            task.cancel()
        while not self._queue.empty():
            _, future = self._queue.get_nowait()
            future.cancel()

    def _drain(self, batch: list[tuple[Req, asyncio.Future[Res]]]) -> None:
        while len(batch) < self._max_batch and not self._queue.empty():
            batch.append(self._queue.get_nowait())

    async def _work(self) -> None:
        slots = asyncio.Semaphore(self._concurrency)
        while True:
            await slots.acquire()
            batch = [await self._queue.get()]
            self._drain(batch)
            if len(batch) < self._max_batch and self._window > 0:
                await asyncio.sleep(self._window)
                self._drain(batch)
            live = [(req, fut) for req, fut in batch if not fut.done()]
            if not live:
                slots.release()
                continue
            if self._on_batch is not None:
                self._on_batch(len(live))
            task = asyncio.get_running_loop().create_task(self._run(live))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            task.add_done_callback(lambda _: slots.release())

    async def _run(self, live: list[tuple[Req, asyncio.Future[Res]]]) -> None:
        loop = asyncio.get_running_loop()
        try:
            results = await loop.run_in_executor(
                self._executor, self._run_batch, [req for req, _ in live]
            )
        except Exception as exc:  # the whole call failed: every caller hears why
            for _, future in live:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(live, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
