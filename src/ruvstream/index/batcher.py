"""Micro-batching: concurrent requests coalesce into one call off the event loop.

Requests wait in a queue shared with up to ``concurrency`` drain workers
running in the executor. A worker takes a share of the queue (half of it
with one worker, never more than ``max_batch``), runs it as one call, posts
the results back to the loop and takes the next share straight away. So
under load the index threads never wait for the event loop to hand them
work, and while one share is searched the loop answers the previous one.
A worker started on an idle batcher first waits ``window`` seconds for
stragglers; that is the most an idle request waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
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
        self._concurrency = max(1, concurrency)
        self._lock = threading.Lock()  # guards _queue and _workers across threads
        self._queue: deque[tuple[Req, asyncio.Future[Res]]] = deque()
        self._workers = 0
        self._running: set[asyncio.Future[None]] = set()
        self._closed = False

    async def submit(self, request: Req) -> Res:
        return await self.submit_nowait(request)

    def submit_nowait(self, request: Req) -> asyncio.Future[Res]:
        """Queue a request; the future resolves when its batch has run."""
        if self._closed:
            raise RuntimeError("the batcher is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Res] = loop.create_future()
        with self._lock:
            self._queue.append((request, future))
            start = self._workers < self._concurrency
            if start:
                self._workers += 1
        if start:
            worker = loop.run_in_executor(self._executor, self._drain, loop)
            self._running.add(worker)
            worker.add_done_callback(self._running.discard)
        return future

    async def close(self) -> None:
        self._closed = True
        with self._lock:
            abandoned = list(self._queue)
            self._queue.clear()
        for _, future in abandoned:
            future.cancel()
        if self._running:
            with contextlib.suppress(Exception):
                await asyncio.gather(*self._running, return_exceptions=True)

    def _take(self) -> list[tuple[Req, asyncio.Future[Res]]]:
        """Up to ``max_batch`` live requests; an empty list retires this worker."""
        with self._lock:
            # Leave a share of the queue for the next call: while this batch runs,
            # the loop answers the last one and its clients' next requests join
            # what was left, so the index never waits for a whole cohort to turn
            # around. With several workers this also gives each one work.
            share = min(self._max_batch, -(-len(self._queue) // (self._concurrency + 1)))
            batch: list[tuple[Req, asyncio.Future[Res]]] = []
            while self._queue and len(batch) < max(1, share):
                item = self._queue.popleft()
                if not item[1].done():  # a caller that gave up costs no index time
                    batch.append(item)
            if not batch:  # only when the queue is empty too
                self._workers -= 1
            return batch

    def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        """A worker (in the executor): run batches until the queue is empty."""
        if self._window > 0 and len(self._queue) < self._max_batch:
            time.sleep(self._window)  # started on an idle batcher: let stragglers join
        while batch := self._take():
            requests = [request for request, _ in batch]
            try:
                results: Sequence[Res | BaseException] = self._run_batch(requests)
            except Exception as exc:  # the whole call failed: every caller hears why
                results = [exc] * len(batch)
            try:
                loop.call_soon_threadsafe(self._deliver, batch, results)
            except RuntimeError:  # the loop has closed: nobody is waiting any more
                return

    def _deliver(
        self,
        batch: list[tuple[Req, asyncio.Future[Res]]],
        results: Sequence[Res | BaseException],
    ) -> None:
        if self._on_batch is not None:
            self._on_batch(len(batch))
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
