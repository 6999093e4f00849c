"""The embedded bus: an in-process log shared by the nodes of one process.

It is the default for ``serve`` and ``cluster up --bus embedded`` and the
fast path of the contract suite. Ops are stored encoded, exactly as they
travel on NATS, so a value that would not survive the wire fails here too.
Buses are shared by stream name within a process (``EmbeddedBus.shared``),
so a node that restarts in the same process finds its durable position.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from ruvstream.core.records import OpRecord, decode_op, encode_op
from ruvstream.replication._bus import Bus, Consumer, HeartbeatHandler, Unsubscribe
from ruvstream.replication._wire import Delivery, Heartbeat, validate_stream_name

__all__ = ["EmbeddedBus"]


class _Cursor:
    """Durable state of one consumer: the acknowledged floor and acks above it."""

    def __init__(self) -> None:
        self.floor = 0
        self.acked_above: set[int] = set()

    def ack(self, seq: int) -> None:
        if seq <= self.floor:
            return
        self.acked_above.add(seq)
        while self.floor + 1 in self.acked_above:
            self.floor += 1
            self.acked_above.discard(self.floor)


class _EmbeddedConsumer(Consumer):
    def __init__(self, bus: EmbeddedBus, name: str, cursor: _Cursor, start: int) -> None:
        self.name = name
        self._bus = bus
        self._cursor = cursor
        self._next = start
        self._closed = False

    async def fetch(self, max_messages: int, wait: float) -> list[Delivery]:
        if self._closed:
            raise RuntimeError(f"consumer {self.name!r} is closed")
        if self._next > len(self._bus._log):
            await self._bus._wait_beyond(self._next - 1, wait)
        end = min(len(self._bus._log), self._next - 1 + max_messages)
        deliveries = []
        for seq in range(self._next, end + 1):
            node, payload = self._bus._log[seq - 1]
            deliveries.append(Delivery(seq, node, decode_op(payload)))
        self._next = end + 1
        return deliveries

    async def ack(self, delivery: Delivery) -> None:
        self._cursor.ack(delivery.seq)

    async def close(self) -> None:
        self._closed = True


class EmbeddedBus(Bus):
    _shared: ClassVar[dict[str, EmbeddedBus]] = {}

    def __init__(self, stream: str = "ruvstream-ops") -> None:
        self._stream = validate_stream_name(stream)
        self._log: list[tuple[str, bytes]] = []
        self._cursors: dict[str, _Cursor] = {}
        self._handlers: list[HeartbeatHandler] = []
        self._waiters: list[asyncio.Future[None]] = []

    @classmethod
    def shared(cls, stream: str) -> EmbeddedBus:
        """The process-wide bus of this name (created on first use)."""
        bus = cls._shared.get(stream)
        if bus is None:
            bus = cls._shared[stream] = cls(stream)
        return bus

    @classmethod
    def discard(cls, stream: str) -> None:
        cls._shared.pop(stream, None)

    @property
    def stream(self) -> str:
        return self._stream

    async def publish(self, op: OpRecord, *, node: str) -> int:
        self._log.append((node, encode_op(op)))
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        return len(self._log)

    async def _wait_beyond(self, seq: int, wait: float) -> None:
        if len(self._log) > seq:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, wait)
        except TimeoutError:
            return

    async def consumer(self, name: str, *, start_seq: int = 1, reset: bool = False) -> Consumer:
        cursor = None if reset else self._cursors.get(name)
        if cursor is None:
            cursor = self._cursors[name] = _Cursor()
            cursor.floor = max(0, start_seq - 1)
        return _EmbeddedConsumer(self, name, cursor, max(cursor.floor + 1, start_seq))

    async def head(self) -> int:
        return len(self._log)

    async def publish_heartbeat(self, beat: Heartbeat) -> None:
        for handler in list(self._handlers):
            handler(beat)

    async def on_heartbeat(self, handler: HeartbeatHandler) -> Unsubscribe:
        self._handlers.append(handler)

        async def unsubscribe() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)

        return unsubscribe

    async def close(self) -> None:
        """Nothing to release: the log outlives any one node in the process."""
