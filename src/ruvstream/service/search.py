"""A search in flight: queued on its collection's batcher, answered without a task.

The node HTTP protocol and the WebSocket answer a search from the batcher
future's own callback, because a task per search costs the event loop more
than the search's parsing and answer do. ``PendingSearch`` keeps that:
``then`` calls back from the future's done-callback, on the loop, in the
same pass; REST awaits it instead. Timing and ``observe_search`` happen here
once, for every transport: a search counts when its hits are read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Generator
from typing import Any

from ruvstream.engine import Collection, Hit
from ruvstream.engine.collection import FoundSlots
from ruvstream.service.answers import search_answer
from ruvstream.telemetry import NodeMetrics

__all__ = ["PendingSearch"]


class PendingSearch:
    __slots__ = ("_collection", "_metrics", "_name", "future", "started")

    def __init__(
        self,
        name: str,
        collection: Collection,
        future: asyncio.Future[FoundSlots],
        metrics: NodeMetrics,
    ) -> None:
        self.future = future
        """The batcher's future: for in-flight sets, cancelling and waiting."""
        self._name = name
        self._collection = collection
        self._metrics = metrics
        self.started = time.perf_counter()
        """When the search was queued (``time.perf_counter``)."""

    def then(self, callback: Callable[[PendingSearch], object]) -> None:
        """Call ``callback(self)`` once the search is done, failed or cancelled."""
        self.future.add_done_callback(lambda _: callback(self))

    def held_in(
        self, inflight: set[asyncio.Future[Any]], callback: Callable[[PendingSearch], object]
    ) -> None:
        """Keep the search in a session's ``inflight`` set until it is done, then
        call ``callback(self)`` unless it was cancelled (the session is closing)."""
        inflight.add(self.future)

        def done(_: object) -> None:
            inflight.discard(self.future)
            if not self.future.cancelled():
                callback(self)

        self.future.add_done_callback(done)

    def cancelled(self) -> bool:
        return self.future.cancelled()

    def hits(self) -> list[Hit]:
        """The hits, once done; raises the search's error (or ``CancelledError``)."""
        hits = self.future.result().hits()
        self._metrics.observe_search(self._name, time.perf_counter() - self.started)
        return hits

    def answer(self) -> dict[str, Any]:
        """The answer body ``{"hits", "version"}``, once done; raises as ``hits`` does."""
        return search_answer(self.hits(), self._collection.change_count)

    def __await__(self) -> Generator[Any, None, dict[str, Any]]:
        yield from self.future.__await__()
        return self.answer()
