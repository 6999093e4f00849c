"""A standing query on a WebSocket session, delivered as an async iterator.

The subscription keeps the client-side request id it was created with; after
a reconnect the session subscribes again under that id and the node assigns a
new server id, so the iterator the caller holds never changes. Records that
arrive while the socket is down are not replayed (a standing query sees what
is upserted while it stands); ``resumed`` counts the re-subscriptions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from .models import Match

__all__ = ["Subscription"]

_END = object()


class Subscription:
    def __init__(
        self,
        request_id: str,
        frame: dict[str, Any],
        unsubscribe: Callable[[Subscription], Awaitable[None]],
    ) -> None:
        self.request_id = request_id
        self.frame = frame
        self.id: str | None = None
        self.resumed = 0
        self.closed = False
        self.active = asyncio.Event()
        self._unsubscribe = unsubscribe
        self._queue: asyncio.Queue[Any] = asyncio.Queue()

    @property
    def collection(self) -> str:
        return str(self.frame.get("collection"))

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Match:
        item = await self._queue.get()
        if item is _END:
            self._queue.put_nowait(_END)  # every later __anext__ ends too
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            self._queue.put_nowait(_END)
            raise item
        match: Match = item
        return match

    async def next(self, within: float | None = None) -> Match | None:
        """The next match, or None when the subscription ended (TimeoutError after ``within`` s)."""
        try:
            async with asyncio.timeout(within):
                return await self.__anext__()
        except StopAsyncIteration:
            return None

    async def wait_active(self, within: float | None = None) -> None:
        """Until the node confirms this subscription (again, after a reconnect)."""
        async with asyncio.timeout(within):
            await self.active.wait()

    async def close(self) -> None:
        if not self.closed:
            await self._unsubscribe(self)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # -- called by the session ------------------------------------------------------
    def activate(self, server_id: str) -> None:
        if self.id is not None and server_id != self.id:
            self.resumed += 1
        self.id = server_id
        self.active.set()

    def deliver(self, match: Match) -> None:
        if not self.closed:
            self._queue.put_nowait(match)

    def end(self, error: BaseException | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        self.active.clear()
        self._queue.put_nowait(_END if error is None else error)
