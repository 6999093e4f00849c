"""The work queue on JetStream: a work-queue stream, a durable pull consumer per queue.

Queue ``q`` is subject ``<root>.q``; the stream's work-queue retention drops
a message once acked, and its duplicate window makes a ``msg_id`` put twice
be stored once. Dead letters go to a separate limits stream, so reading
them consumes nothing. Each queue's consumer is durable, so a taker that
restarts finds its unacked messages again after ``ack_wait``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib

import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StorageType, StreamConfig

from .base import Job, check_queue

__all__ = ["JetStreamWorkQueue"]


class _NatsJob:
    def __init__(self, message: Msg) -> None:
        self._message = message

    @property
    def data(self) -> bytes:
        return self._message.data

    @property
    def deliveries(self) -> int:
        return int(self._message.metadata.num_delivered)

    async def ack(self) -> None:
        await self._message.ack()

    async def nak(self, delay: float = 0.0) -> None:
        await self._message.nak(delay=delay or None)


def _consumer_name(queue: str) -> str:
    digest = hashlib.sha1(queue.encode()).hexdigest()[:10]
    return f"q-{queue.replace('.', '_')[:100]}-{digest}"


class JetStreamWorkQueue:
    def __init__(
        self,
        client: Client,
        stream: str,
        dead_stream: str,
        root: str,
        *,
        ack_wait: float,
        replicas: int = 1,
    ) -> None:
        self._client = client
        self._js: JetStreamContext = client.jetstream()
        self.stream = stream
        self.dead_stream = dead_stream
        self.root = root
        self.ack_wait = ack_wait
        self.replicas = replicas
        self._subscriptions: dict[str, JetStreamContext.PullSubscription] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @classmethod
    async def open(
        cls,
        client: Client,
        stream: str,
        dead_stream: str,
        root: str,
        *,
        ack_wait: float = 30.0,
        replicas: int = 1,
    ) -> JetStreamWorkQueue:
        queue = cls(client, stream, dead_stream, root, ack_wait=ack_wait, replicas=replicas)
        await queue._ensure(stream, f"{root}.q.>", RetentionPolicy.WORK_QUEUE)
        await queue._ensure(dead_stream, f"{root}.dead", RetentionPolicy.LIMITS)
        return queue

    async def _ensure(self, name: str, subject: str, retention: RetentionPolicy) -> None:
        try:
            await self._js.stream_info(name)
        except nats.js.errors.NotFoundError:
            config = StreamConfig(
                name=name,
                subjects=[subject],
                retention=retention,
                storage=StorageType.FILE,
                duplicate_window=120.0,
                num_replicas=self.replicas,
            )
            with contextlib.suppress(nats.js.errors.BadRequestError):  # a racing creator won
                await self._js.add_stream(config)

    def _subject(self, queue: str) -> str:
        return f"{self.root}.q.{check_queue(queue)}"

    async def put(self, queue: str, data: bytes, *, msg_id: str | None = None) -> None:
        headers = {"Nats-Msg-Id": f"{queue}/{msg_id}"} if msg_id else None
        await self._js.publish(self._subject(queue), data, stream=self.stream, headers=headers)

    async def _subscription(self, queue: str) -> JetStreamContext.PullSubscription:
        sub = self._subscriptions.get(queue)
        if sub is None:
            config = ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT, ack_wait=self.ack_wait, max_deliver=-1
            )
            sub = await self._js.pull_subscribe(
                self._subject(queue),
                durable=_consumer_name(queue),
                stream=self.stream,
                config=config,
            )
            self._subscriptions[queue] = sub
        return sub

    async def pull(self, queue: str, *, batch: int = 16, wait: float = 1.0) -> list[Job]:
        # One fetch at a time per subscription: nats-py's pull fetches share one inbox.
        async with self._locks.setdefault(queue, asyncio.Lock()):
            sub = await self._subscription(queue)
            try:
                messages = await sub.fetch(batch, timeout=max(wait, 0.01))
            except (nats.errors.TimeoutError, TimeoutError):
                return []
            except Exception:  # e.g. its consumer was deleted (purged): subscribe anew next time
                self._subscriptions.pop(queue, None)
                raise
        return [_NatsJob(m) for m in messages]

    async def purge(self, queue: str) -> None:
        sub = self._subscriptions.pop(queue, None)
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        await self._js.purge_stream(self.stream, subject=self._subject(queue))
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await self._js.delete_consumer(self.stream, _consumer_name(queue))

    async def bury(self, data: bytes) -> None:
        await self._js.publish(f"{self.root}.dead", data, stream=self.dead_stream)

    async def buried(self) -> list[bytes]:
        info = await self._js.stream_info(self.dead_stream)
        state = info.state
        found: list[bytes] = []
        if not state.messages:
            return found
        for seq in range(state.first_seq, state.last_seq + 1):
            with contextlib.suppress(nats.js.errors.NotFoundError):
                found.append((await self._js.get_msg(self.dead_stream, seq)).data or b"")
        return found

    async def close(self) -> None:
        for sub in self._subscriptions.values():
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        self._subscriptions.clear()

    async def delete(self) -> None:
        """Remove both streams (tests and teardown)."""
        await self.close()
        for name in (self.stream, self.dead_stream):
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await self._js.delete_stream(name)
