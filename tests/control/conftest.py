from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from ruvstream.control.names import ControlNames
from ruvstream.control.queue import MemoryWorkQueue, WorkQueue
from ruvstream.control.store import CoordinationStore, MemoryBackend, StoreBackend
from ruvstream.core.clock import ManualClock

if TYPE_CHECKING:
    from ruvstream.control.store.jetstream import NatsBackend

NATS_URL = "nats://127.0.0.1:4222"


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def wait_for(
    condition: Callable[[], Awaitable[bool]], *, within: float = 20.0, every: float = 0.05
) -> None:
    """Poll ``condition`` until it holds; a generous deadline, never a fixed sleep."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(every)


@dataclass
class Backend:
    """A store backend, the buckets a test made on it, and a way to let time pass."""

    kind: str
    store: StoreBackend
    clock: ManualClock | None
    made: list[str] = field(default_factory=list)

    async def bucket(self, ttl: float | None = None) -> CoordinationStore:
        name = unique("kv")
        self.made.append(name)
        return await self.store.bucket(name, ttl=ttl)

    async def after(self, seconds: float, condition: Callable[[], Awaitable[bool]]) -> bool:
        """Let ``seconds`` pass, then: does ``condition`` hold? (NATS polls a while longer,
        so a busy server cannot fail the test.)"""
        if self.clock is not None:
            self.clock.advance(seconds)
            return await condition()
        await asyncio.sleep(seconds)
        try:
            await wait_for(condition, within=15.0)
        except AssertionError:
            return False
        return True


@pytest.fixture(params=["memory", pytest.param("nats", marks=pytest.mark.nats)])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "memory":
        clock = ManualClock()
        yield Backend("memory", MemoryBackend(clock), clock)
        return
    from ruvstream.control.store.jetstream import NatsBackend

    made = Backend("nats", await NatsBackend.connect(NATS_URL), None)
    try:
        yield made
    finally:
        for name in made.made:
            await made.store.drop(name)
        await made.store.close()


@pytest.fixture
async def plane() -> AsyncIterator[tuple[ControlNames, NatsBackend]]:
    """A control plane namespace of the test's own on the real NATS, removed afterwards."""
    from ruvstream.control.store.jetstream import NatsBackend

    names = ControlNames(unique("cp"))
    backend = await NatsBackend.connect(NATS_URL)
    try:
        yield names, backend
    finally:
        for bucket in names.buckets:
            await backend.drop(bucket)
        js = backend.client.jetstream()
        for stream in (names.queue_stream, names.dead_stream):
            with contextlib.suppress(Exception):
                await js.delete_stream(stream)
        await backend.close()


@dataclass
class Queues:
    """A work queue and a way to let its clock pass (memory) or wait for real (NATS)."""

    kind: str
    queue: WorkQueue
    clock: ManualClock | None

    async def pass_time(self, seconds: float) -> None:
        if self.clock is not None:
            self.clock.advance(seconds)
        else:
            await asyncio.sleep(seconds)


@pytest.fixture(params=["memory", pytest.param("nats", marks=pytest.mark.nats)])
async def queues(request: pytest.FixtureRequest) -> AsyncIterator[Queues]:
    if request.param == "memory":
        clock = ManualClock()
        yield Queues("memory", MemoryWorkQueue(ack_wait=2.0, clock=clock), clock)
        return
    from ruvstream.control.queue.jetstream import JetStreamWorkQueue
    from ruvstream.control.store.jetstream import connect_nats

    client = await connect_nats(NATS_URL)
    name = unique("work")
    queue = await JetStreamWorkQueue.open(
        client, name, name + "-dead", name.replace("-", "_"), ack_wait=2.0
    )
    try:
        yield Queues("nats", queue, None)
    finally:
        await queue.delete()
        await client.drain()
