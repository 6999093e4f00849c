"""The in-memory work queue: redelivery deadlines follow an injected clock."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from dataclasses import dataclass, field

from ruvstream.core.clock import Clock, SystemClock

from .base import Job, check_queue

__all__ = ["MemoryWorkQueue"]


@dataclass(slots=True)
class _Held:
    data: bytes
    number: int
    deliveries: int = 0
    available_at: float = 0.0


@dataclass(slots=True)
class _Queue:
    ready: deque[_Held] = field(default_factory=deque)
    taken: dict[int, tuple[_Held, float]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)


class _MemoryJob:
    def __init__(self, owner: MemoryWorkQueue, queue: _Queue, held: _Held) -> None:
        self._owner = owner
        self._queue = queue
        self._held = held

    @property
    def data(self) -> bytes:
        return self._held.data

    @property
    def deliveries(self) -> int:
        return self._held.deliveries

    async def ack(self) -> None:
        self._queue.taken.pop(self._held.number, None)

    async def nak(self, delay: float = 0.0) -> None:
        if self._queue.taken.pop(self._held.number, None) is not None:
            self._held.available_at = self._owner.clock.monotonic() + delay
            self._queue.ready.append(self._held)
            self._owner.wake()


class MemoryWorkQueue:
    def __init__(self, *, ack_wait: float = 30.0, clock: Clock | None = None) -> None:
        self.ack_wait = ack_wait
        self.clock = clock or SystemClock()
        self._queues: dict[str, _Queue] = {}
        self._dead: list[bytes] = []
        self._numbers = itertools.count(1)
        self._event = asyncio.Event()

    def _queue(self, name: str) -> _Queue:
        return self._queues.setdefault(check_queue(name), _Queue())

    def wake(self) -> None:
        self._event.set()

    async def put(self, queue: str, data: bytes, *, msg_id: str | None = None) -> None:
        q = self._queue(queue)
        if msg_id is not None:
            if msg_id in q.seen:
                return
            q.seen.add(msg_id)
        q.ready.append(_Held(bytes(data), next(self._numbers)))
        self.wake()

    def _take(self, q: _Queue, batch: int) -> list[Job]:
        now = self.clock.monotonic()
        for number, (held, deadline) in sorted(q.taken.items()):
            if deadline <= now:
                del q.taken[number]
                q.ready.append(held)
        due = sorted((h for h in q.ready if h.available_at <= now), key=lambda h: h.number)
        jobs: list[Job] = []
        for held in due[:batch]:
            q.ready.remove(held)
            held.deliveries += 1
            q.taken[held.number] = (held, now + self.ack_wait)
            jobs.append(_MemoryJob(self, q, held))
        return jobs

    async def pull(self, queue: str, *, batch: int = 16, wait: float = 1.0) -> list[Job]:
        q = self._queue(queue)
        jobs = self._take(q, batch)
        if jobs or wait <= 0:
            return jobs
        self._event.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout=wait)
        return self._take(q, batch)

    async def purge(self, queue: str) -> None:
        q = self._queue(queue)
        q.ready.clear()
        q.taken.clear()

    async def bury(self, data: bytes) -> None:
        self._dead.append(bytes(data))

    async def buried(self) -> list[bytes]:
        return list(self._dead)

    async def close(self) -> None:
        return None
