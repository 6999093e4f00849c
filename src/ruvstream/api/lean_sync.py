"""The two asyncio primitives a WebSocket holds for its whole life, in less memory.

An ``asyncio.Queue`` allocates three deques when it is made (about 2.3 KB)
and an ``asyncio.Event`` one (about 0.8 KB); uvicorn's WebSocket protocol
keeps one of each per socket, idle or not, which at 100k sockets is about
300 MB. These hold nothing while idle: a deque only while items wait, a
waiter only while someone waits. Each does exactly what the protocol uses.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

__all__ = ["LeanEvent", "LeanInbox"]

T = TypeVar("T")


class LeanInbox(Generic[T]):
    """``put_nowait``, ``get`` and ``empty`` of ``asyncio.Queue``, for one consumer.

    One consumer (the ASGI app's ``receive``) at a time: a second concurrent
    ``get`` would share the first one's wake-up.
    """

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: deque[T] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: T) -> None:
        if self._items is None:
            self._items = deque()
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    async def get(self) -> T:
        while not self._items:
            if self._waiter is None or self._waiter.done():
                self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        item = self._items.popleft()
        if not self._items:
            self._items = None  # idle again: hold no deque
        return item


class LeanEvent:
    """``set``, ``clear``, ``is_set`` and ``wait`` of ``asyncio.Event``."""

    __slots__ = ("_flag", "_waiters")

    def __init__(self) -> None:
        self._flag = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        self._flag = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._flag = False

    async def wait(self) -> bool:
        if self._flag:
            return True
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        await waiter
        return True
