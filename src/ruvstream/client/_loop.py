"""A private event loop on a daemon thread: how the sync client reuses the async one.

Every coroutine of one sync ``Client`` runs on this one loop, so the pool,
the cache and the retry budget are touched from a single thread only.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

__all__ = ["LoopThread"]

T = TypeVar("T")


class LoopThread:
    def __init__(self, name: str = "ruvstream-client") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and wait; Ctrl-C cancels it there too."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("a sync client cannot be used from its own loop thread")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    def iterate(self, iterator: AsyncIterator[T]) -> Iterator[T]:
        """An async iterator as a blocking one; closing it closes the async one."""

        async def step() -> tuple[bool, T | None]:
            try:
                return True, await anext(iterator)
            except StopAsyncIteration:
                return False, None

        async def close() -> None:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()

        try:
            while True:
                more, item = self.run(step())
                if not more:
                    return
                yield item  # type: ignore[misc]
        finally:
            if self.loop.is_running():
                self.run(close())

    def close(self) -> None:
        if not self.loop.is_running():
            return

        async def drain() -> None:
            await self.loop.shutdown_asyncgens()

        self.run(drain())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()
