"""Applying durable ops on the apply thread, many per trip, in the order queued.

Every trip to a thread costs a GIL hand-over, which on a busy event loop can
wait a whole switch interval (5 ms): one trip per single-record write caps a
node at a few hundred writes a second whatever the index costs. Ops queued
while a trip runs go together on the next one, so the trips per second stay
bounded under load while a lone write still goes at once.

Invariants:

- Ops are applied in the order ``apply`` was called (then in the order
  given), exactly as one FIFO executor would apply them one per trip.
- Each call gets its own ops' outcomes, or the first error among them; an
  op that fails does not fail the others of its trip.
- Runs of upserts into one collection share one index add (``apply_runs``).
- An op queued is applied even if its caller stops waiting: it is in the
  WAL already, and replay would apply it anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import Executor

from ruvstream.core.records import OpRecord
from ruvstream.engine.apply import Catalog, Outcome
from ruvstream.engine.apply_runs import Result, apply_each

__all__ = ["ApplyQueue"]


class ApplyQueue:
    def __init__(self, catalog: Catalog, executor: Executor) -> None:
        self._catalog = catalog
        self._executor = executor
        self._queue: list[tuple[Sequence[OpRecord], asyncio.Future[list[Outcome]]]] = []
        self._drainer: asyncio.Task[None] | None = None
        self.trips = 0
        """Executor trips taken so far (each applied every op queued before it)."""

    async def apply(self, ops: Sequence[OpRecord]) -> list[Outcome]:
        """Apply ``ops`` (durable already) after everything queued before them."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Outcome]] = loop.create_future()
        self._queue.append((ops, future))
        if self._drainer is None:
            self._drainer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queue:
                calls, self._queue = self._queue, []
                ops = [op for batch, _ in calls for op in batch]
                try:
                    results = await loop.run_in_executor(
                        self._executor, apply_each, self._catalog, ops
                    )
                except Exception as exc:  # the executor is shut down: nothing ran
                    results = [exc] * len(ops)
                self.trips += 1
                _settle(calls, results)
        finally:
            self._drainer = None


def _settle(
    calls: Sequence[tuple[Sequence[OpRecord], asyncio.Future[list[Outcome]]]],
    results: Sequence[Result],
) -> None:
    start = 0
    for batch, future in calls:
        part = results[start : start + len(batch)]
        start += len(batch)
        if future.done():
            continue
        error = next((r for r in part if isinstance(r, Exception)), None)
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result([r for r in part if isinstance(r, Outcome)])
