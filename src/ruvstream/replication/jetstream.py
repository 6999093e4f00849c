"""The NATS JetStream bus: one stream of op records, a durable pull consumer per node.

The stream captures ``<stream>.ops.>``; publishes carry a ``Nats-Msg-Id`` so
a retried publish is stored once (within the stream's duplicate window).
Opening a consumer reads its acknowledged floor, then re-creates it to start
right after that floor: a node that crashed with deliveries in flight gets
them again at once instead of after ``ack_wait``, and the position is always
"the last applied sequence", not "the last delivered one". Heartbeats go over
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
"""Bound on the no-wait pull after a first op (the server answers it at once)."""


class _JetStreamConsumer(Consumer):
    def __init__(self, name: str, subscription: JetStreamContext.PullSubscription) -> None:
        self.name = name
        self._subscription = subscription
        self._pending: dict[int, Msg] = {}

    async def _pull(self, batch: int, wait: float) -> list[Msg]:
        try:
            return list(await self._subscription.fetch(batch, timeout=wait))
        except (nats.errors.TimeoutError, TimeoutError):  # nats-py raises either
            return []

    async def _available(self, batch: int, wait: float) -> list[Msg]:
        """A no-wait pull: what the stream holds now (at most ``batch``), in one
        round trip. nats-py's fetch of n, once the stream is caught up, lingers
        for all n or its timeout, which would add that timeout to every op's lag."""
        sub = self._subscription  # its request subject and inbox: nats-py has no public no-wait
        request = json.dumps({"batch": batch, "no_wait": True}).encode()
        await sub._nc.publish(sub._nms, request, sub._deliver)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        messages: list[Msg] = []
        while len(messages) < batch:
            try:
                message = await sub._sub.next_msg(timeout=max(0.001, deadline - loop.time()))
            except (nats.errors.TimeoutError, TimeoutError):
                break
            status = JetStreamContext.is_status_msg(message)
            if status is None:
                messages.append(message)
            elif status != api.StatusCode.CONTROL_MESSAGE:
                break  # 404 no more messages, 408 an old request expired: done for now
        return messages

    async def fetch(self, max_messages: int, wait: float) -> list[Delivery]:
        messages = await self._pull(1, wait)  # waits for the first op alone
        if messages and max_messages > 1:
            messages += await self._available(max_messages - 1, FOLLOW_UP_WAIT_SECONDS)
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
            ack_policy=AckPolicy.EXPLICIT,
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
