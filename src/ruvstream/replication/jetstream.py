"""The NATS JetStream bus: one stream of op records, a durable pull consumer per node.

The stream captures ``<stream>.ops.>``; publishes carry a ``Nats-Msg-Id`` so
a retried publish is stored once (within the stream's duplicate window).
Opening a consumer reads its acknowledged floor, then re-creates it to start
right after that floor: a node that crashed with deliveries in flight gets
them again at once instead of after ``ack_wait``, and the position is always
"the last applied sequence", not "the last delivered one". A consumer keeps a
pull request open, so a fetch costs no round trip, and acks cumulatively: one
ack per applied run instead of one per op. Heartbeats go over
core NATS on ``<stream>.hb.<region>``: they are not history and are not stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig

from ruvstream.core.records import OpRecord, decode_op, encode_op
from ruvstream.replication._bus import Bus, Consumer, HeartbeatHandler, Unsubscribe
from ruvstream.replication._wire import (
    NODE_HEADER,
    Delivery,
    Heartbeat,
    decode_heartbeat,
    encode_heartbeat,
    heartbeat_subject,
    heartbeat_wildcard,
    message_id,
    ops_subject,
    ops_wildcard,
    subject_token,
    validate_stream_name,
)

__all__ = ["JetStreamBus"]

DUPLICATE_WINDOW_SECONDS = 120.0
FOLLOW_UP_WAIT_SECONDS = 2.0
"""Bound on the wait for ops the first one of a fetch said were behind it."""
PULL_EXPIRES_SECONDS = 5.0
"""Life of an open pull request; an idle consumer renews it this often."""


class _JetStreamConsumer(Consumer):
    """Keeps one pull request open on the server, so ops flow into the local
    queue while the previous batch is applied: a fetch takes what has arrived
    and costs no round trip until the request is used up or expires.

    Acks are cumulative (``AckPolicy.ALL``): the replicator applies and acks
    in bus order, so one ack of a run's last delivery acknowledges the run.
    """

    def __init__(self, name: str, subscription: JetStreamContext.PullSubscription) -> None:
        self.name = name
        self._subscription = subscription
        self._pending: dict[int, Msg] = {}
        self._owed = 0
        """Deliveries the open pull request may still bring (0: none open)."""
        self._owed_until = 0.0

    async def _request(self, batch: int) -> None:
        """A pull request of ``batch`` that stays open until filled or expired.
        nats-py's fetch of n lingers for all n before answering; read as they come."""
        sub = self._subscription  # its request subject and inbox: nats-py has no public API
        body = {"batch": batch, "expires": int(PULL_EXPIRES_SECONDS * 1e9)}
        await sub._nc.publish(sub._nms, json.dumps(body).encode(), sub._deliver)
        self._owed = batch
        # Renewed at its expiry, not when the server says so: a request that
        # expires part-filled does not always get its 408 (measured: a 1 s stall).
        self._owed_until = asyncio.get_running_loop().time() + PULL_EXPIRES_SECONDS

    async def _ensure_request(self, batch: int) -> None:
        if self._owed <= 0 or asyncio.get_running_loop().time() >= self._owed_until:
            await self._request(batch)

    def _queued(self) -> Msg | None:
        """A message already received, or None: no wait, no task."""
        queue = self._subscription._sub._pending_queue
        if queue.empty():
            return None
        return self._taken(queue.get_nowait())

    def _taken(self, message: Msg) -> Msg:
        sub = self._subscription._sub
        sub._pending_size -= len(message.data)  # the bookkeeping next_msg does
        sub._pending_queue.task_done()
        return message

    async def _next(self, within: float) -> Msg | None:
        """The next message, waiting up to ``within`` seconds for it; waited on
        here rather than by next_msg, which spends two tasks a call."""
        message = self._queued()
        if message is not None:
            return message
        sub = self._subscription._sub
        if sub._conn.is_closed:
            raise nats.errors.ConnectionClosedError
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.001, within)):
                return self._taken(await sub._pending_queue.get())
        return None

    async def _receive(self, max_messages: int, wait: float) -> list[Msg]:
        """The first op (waiting up to ``wait``), then every op the stream held
        behind it when it was sent (its ``num_pending``), up to ``max_messages``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        messages: list[Msg] = []
        behind = 0
        while len(messages) < max_messages:
            await self._ensure_request(max_messages)
            renew = self._owed_until - loop.time()  # a wait ends there to ask again
            if messages and not behind:
                message = self._queued()
            elif messages:
                message = await self._next(min(FOLLOW_UP_WAIT_SECONDS, renew))
            else:
                message = await self._next(min(deadline - loop.time(), renew))
            if message is None:
                if loop.time() >= deadline or (messages and loop.time() < self._owed_until):
                    break
                continue
            status = JetStreamContext.is_status_msg(message)
            if status is None:
                messages.append(message)
                self._owed -= 1
                behind = min(message.metadata.num_pending, self._owed)
            elif status not in (api.StatusCode.CONTROL_MESSAGE, api.StatusCode.REQUEST_TIMEOUT):
                self._owed = 0  # 409: the request was cut short, ask again
            # A 408 (expired) is not counted: its request was renewed at its expiry
            # already, and the 408 of a request replaced would end the one after it.
        return messages

    async def fetch(self, max_messages: int, wait: float) -> list[Delivery]:
        messages = await self._receive(max_messages, wait)
        await self._ensure_request(max_messages)  # the next ops arrive while these apply
        deliveries = []
        for message in messages:
            meta = message.metadata
            seq = meta.sequence.stream
            self._pending[seq] = message
            node = (message.headers or {}).get(NODE_HEADER, "")
            deliveries.append(Delivery(seq, node, decode_op(message.data), meta.num_delivered > 1))
        return deliveries

    async def ack(self, delivery: Delivery) -> None:
        message = self._pending.pop(delivery.seq, None)
        if message is not None:
            await message.ack()

    async def ack_run(self, run: Sequence[Delivery]) -> None:
        """One cumulative ack, of the last: it covers every earlier delivery."""
        for delivery in run[:-1]:
            self._pending.pop(delivery.seq, None)
        if run:
            await self.ack(run[-1])

    async def close(self) -> None:
        self._pending.clear()
        await self._subscription.unsubscribe()


class JetStreamBus(Bus):
    def __init__(self, client: Client, stream: str, *, ack_wait: float) -> None:
        self._client = client
        self._js = client.jetstream()
        self._stream = stream
        self._ack_wait = ack_wait

    @classmethod
    async def connect(
        cls,
        url: str = "nats://127.0.0.1:4222",
        stream: str = "ruvstream-ops",
        *,
        ack_wait: float = 30.0,
        connect_timeout: float = 2.0,
    ) -> JetStreamBus:
        """Connect (reconnecting for ever after) and make sure the stream exists."""
        validate_stream_name(stream)
        client = await nats.connect(
            url,
            connect_timeout=connect_timeout,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
        )
        bus = cls(client, stream, ack_wait=ack_wait)
        try:
            await bus._ensure_stream()
        except BaseException:
            await client.close()
            raise
        return bus

    async def _ensure_stream(self) -> None:
        try:
            await self._js.stream_info(self._stream)
        except nats.js.errors.NotFoundError:
            await self._js.add_stream(
                StreamConfig(
                    name=self._stream,
                    subjects=[ops_wildcard(self._stream)],
                    storage=StorageType.FILE,
                    duplicate_window=DUPLICATE_WINDOW_SECONDS,
                )
            )

    @property
    def stream(self) -> str:
        return self._stream

    @property
    def jetstream(self) -> JetStreamContext:
        return self._js

    async def publish(self, op: OpRecord, *, node: str) -> int:
        ack = await self._js.publish(
            ops_subject(self._stream, op.origin, op.collection),
            encode_op(op),
            stream=self._stream,
            headers={NODE_HEADER: node, "Nats-Msg-Id": message_id(node, op)},
        )
        return int(ack.seq)

    async def publish_batch(self, ops: Sequence[OpRecord], *, node: str) -> list[int]:
        """Every op sent at once on the one connection (so stored in this order),
        then every ack awaited: one round trip for the batch, not one per op."""
        futures: list[asyncio.Future[Any]] = []
        try:
            for op in ops:
                futures.append(
                    await self._js.publish_async(
                        ops_subject(self._stream, op.origin, op.collection),
                        encode_op(op),
                        # No stall timeout: nats-py spends a task per publish on one;
                        # the caller bounds the whole batch instead.
                        wait_stall=None,
                        stream=self._stream,
                        headers={NODE_HEADER: node, "Nats-Msg-Id": message_id(node, op)},
                    )
                )
            acks = await asyncio.gather(*futures)
        except BaseException:
            for future in futures:  # frees their in-flight slots
                future.cancel()
            raise
        return [int(ack.seq) for ack in acks]

    def reachable(self) -> bool:
        return bool(self._client.is_connected)

    async def consumer(self, name: str, *, start_seq: int = 1, reset: bool = False) -> Consumer:
        durable = subject_token(name).replace("~", "x")
        start = max(1, start_seq)
        try:
            info = await self._js.consumer_info(self._stream, durable)
        except nats.js.errors.NotFoundError:
            pass
        else:
            if not reset and info.ack_floor is not None:
                start = max(start, info.ack_floor.stream_seq + 1)
            await self._js.delete_consumer(self._stream, durable)
        config = ConsumerConfig(
            durable_name=durable,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start,
            ack_policy=AckPolicy.ALL,
            ack_wait=self._ack_wait,
            filter_subject=ops_wildcard(self._stream),
        )
        subscription = await self._js.pull_subscribe(
            ops_wildcard(self._stream), durable=durable, stream=self._stream, config=config
        )
        return _JetStreamConsumer(name, subscription)

    async def head(self) -> int:
        info = await self._js.stream_info(self._stream)
        return int(info.state.last_seq)

    async def publish_heartbeat(self, beat: Heartbeat) -> None:
        await self._client.publish(
            heartbeat_subject(self._stream, beat.region), encode_heartbeat(beat)
        )

    async def on_heartbeat(self, handler: HeartbeatHandler) -> Unsubscribe:
        async def receive(message: Msg) -> None:
            handler(decode_heartbeat(message.data))

        subscription = await self._client.subscribe(heartbeat_wildcard(self._stream), cb=receive)

        async def unsubscribe() -> None:
            await subscription.unsubscribe()

        return unsubscribe

    async def delete_stream(self) -> None:
        """Remove the stream and every consumer of it (tests and ``cluster down``)."""
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await self._js.delete_stream(self._stream)

    async def close(self) -> None:
        if not self._client.is_closed:
            await self._client.close()

    def info(self) -> dict[str, Any]:
        return {"bus": "nats", "stream": self._stream, "connected": self._client.is_connected}
