"""The in-memory coordination store: one process, an injected clock, the same contract.

Expiry follows the clock (``clock.monotonic``), so a test moves a
``ManualClock`` past the bucket's TTL instead of sleeping. Like JetStream
2.9, expiry is silent to watchers: readers judge liveness from values.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from ruvstream.core.clock import Clock, SystemClock

from .base import (
    Change,
    CoordinationStore,
    Entry,
    KeyExistsError,
    RevisionMismatchError,
    check_key,
)

__all__ = ["MemoryBackend", "MemoryStore"]


@dataclass(slots=True)
class _Slot:
    entry: Entry
    written: float


class MemoryStore:
    def __init__(self, name: str, *, ttl: float | None = None, clock: Clock | None = None) -> None:
        self._name = name
        self._ttl = ttl
        self._clock = clock or SystemClock()
        self._slots: dict[str, _Slot] = {}
        self._revision = 0
        self._watchers: set[asyncio.Queue[Change]] = set()

    @property
    def name(self) -> str:
        return self._name

    @property
    def ttl(self) -> float | None:
        return self._ttl

    def _expire(self) -> None:
        if self._ttl is None:
            return
        now = self._clock.monotonic()
        for key in [k for k, s in self._slots.items() if now - s.written >= self._ttl]:
            del self._slots[key]

    def _write(self, key: str, value: bytes | None) -> int:
        self._revision += 1
        if value is None:
            self._slots.pop(key, None)
        else:
            entry = Entry(key, bytes(value), self._revision)
            self._slots[key] = _Slot(entry, self._clock.monotonic())
        change = Change(key, None if value is None else bytes(value), self._revision)
        for queue in self._watchers:
            queue.put_nowait(change)
        return self._revision

    async def get(self, key: str) -> Entry | None:
        check_key(key)
        self._expire()
        slot = self._slots.get(key)
        return None if slot is None else slot.entry

    async def put(self, key: str, value: bytes) -> int:
        check_key(key)
        self._expire()
        return self._write(key, value)

    async def create(self, key: str, value: bytes) -> int:
        check_key(key)
        self._expire()
        if key in self._slots:
            raise KeyExistsError(key, "already present")
        return self._write(key, value)

    async def update(self, key: str, value: bytes, revision: int) -> int:
        check_key(key)
        self._expire()
        slot = self._slots.get(key)
        current = None if slot is None else slot.entry.revision
        if current != revision:
            raise RevisionMismatchError(key, f"expected revision {revision}, found {current}")
        return self._write(key, value)

    async def delete(self, key: str, revision: int | None = None) -> None:
        check_key(key)
        self._expire()
        slot = self._slots.get(key)
        if revision is not None and (slot is None or slot.entry.revision != revision):
            raise RevisionMismatchError(key, f"expected revision {revision}")
        if slot is not None:
            self._write(key, None)

    async def keys(self) -> list[str]:
        self._expire()
        return sorted(self._slots)

    async def entries(self) -> dict[str, Entry]:
        self._expire()
        return {k: s.entry for k, s in sorted(self._slots.items())}

    @contextlib.asynccontextmanager
    async def watch(self) -> AsyncIterator[AsyncIterator[Change]]:
        self._expire()
        queue: asyncio.Queue[Change] = asyncio.Queue()
        for slot in sorted(self._slots.values(), key=lambda s: s.entry.revision):
            queue.put_nowait(Change(slot.entry.key, slot.entry.value, slot.entry.revision))
        self._watchers.add(queue)
        try:
            yield _Changes(queue)
        finally:
            self._watchers.discard(queue)


class _Changes:
    """The iterator side of one watch: an endless read of its queue."""

    def __init__(self, queue: asyncio.Queue[Change]) -> None:
        self._queue = queue

    def __aiter__(self) -> _Changes:
        return self

    async def __anext__(self) -> Change:
        return await self._queue.get()


class MemoryBackend:
    """Buckets in this process, all on one clock."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self._buckets: dict[str, MemoryStore] = {}

    async def bucket(self, name: str, *, ttl: float | None = None) -> CoordinationStore:
        store = self._buckets.get(name)
        if store is None:
            store = self._buckets[name] = MemoryStore(name, ttl=ttl, clock=self.clock)
        return store

    async def find(self, name: str) -> CoordinationStore | None:
        return self._buckets.get(name)

    async def drop(self, name: str) -> None:
        self._buckets.pop(name, None)

    async def close(self) -> None:
        return None
