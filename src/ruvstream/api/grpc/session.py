"""``Session``: one bidirectional stream, many requests at once, pushed matches.

The gRPC twin of the WebSocket session (``api/websocket.py``), over the same
service calls: a search is queued on the batcher and answered from its
future's callback, every other request runs in its own task, replies leave
in completion order through one outbox, each tagged with its request's id.
A bad request gets an ``Error`` reply; the stream stays open. When the
client half-closes, requests in flight are answered, then the stream ends
and its subscriptions close. Draining answers what is in flight, then ends
the stream with UNAVAILABLE so the client reconnects elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from ruvstream.api.grpc import codec
from ruvstream.api.grpc.auth import check_op
from ruvstream.api.grpc.v1 import vector_search_pb2 as pb
from ruvstream.api.state import ServingState
from ruvstream.auth import Principal
from ruvstream.engine import Subscription
from ruvstream.errors import (
    ForbiddenError,
    InvalidParameterError,
    RateLimitedError,
    SubscriptionNotFoundError,
    UnavailableError,
)
from ruvstream.service import NodeService, PendingSearch

__all__ = ["GrpcSession"]

_END = object()
_CLOSED_HERE = ("unsubscribed", "stream closed")
_CHECKED_OPS = ("search", "upsert", "delete", "subscribe")
"""Ops that name a collection, checked against the key (unsubscribe: the stream's own)."""


class GrpcSession:
    def __init__(
        self, state: ServingState, service: NodeService, principal: Principal | None = None
    ) -> None:
        self.state = state
        self.service = service
        self.principal = principal
        """Whose key opened the stream: each request is checked against its scopes."""
        self.limit = state.settings.limits.max_inflight_per_connection
        self.outbox: asyncio.Queue[pb.SessionReply | object] = asyncio.Queue()
        self.tasks: set[asyncio.Future[Any]] = set()
        """Requests in flight: tasks, and the batcher futures of searches."""
        self.subscriptions: dict[str, tuple[Subscription, asyncio.Task[None]]] = {}
        self.closing = False
        self.drained = False
        """The stream ended because the node drains (not because the client left)."""

    @property
    def inflight(self) -> int:
        return len(self.tasks)

    async def replies(self, requests: AsyncIterable[pb.SessionRequest]) -> AsyncIterator[Any]:
        """Every reply, until the client half-closes (and in flight is answered) or drain."""
        reader = asyncio.create_task(self._read(requests))
        try:
            while (reply := await self.outbox.get()) is not _END:
                yield reply
        finally:
            reader.cancel()
            for sub, pump in self.subscriptions.values():
                self.service.unsubscribe(sub.id, "stream closed")
                pump.cancel()
            for task in list(self.tasks):
                task.cancel()
            await asyncio.gather(reader, *self.tasks, return_exceptions=True)

    async def close_for_shutdown(self) -> None:
        """Answer what is in flight, then end the stream (the servicer says UNAVAILABLE)."""
        self.closing = True
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=self.state.settings.server.drain_seconds)
        self.drained = True
        self.outbox.put_nowait(_END)

    def send(self, reply: pb.SessionReply) -> None:
        self.outbox.put_nowait(reply)

    def _error(self, request_id: str, exc: BaseException) -> None:
        self.send(pb.SessionReply(request_id=request_id, error=codec.error_message(exc)))

    async def _read(self, requests: AsyncIterable[pb.SessionRequest]) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            async for request in requests:
                self._accept(request)
            # Half-closed: answer what is in flight, then end.
            while self.tasks:
                await asyncio.wait(list(self.tasks))
            self.outbox.put_nowait(_END)

    def _accept(self, request: pb.SessionRequest) -> None:
        request_id = request.request_id
        if self.closing:
            self._error(request_id, UnavailableError("the node is shutting down", retry_after=1.0))
            return
        if len(self.tasks) >= self.limit:
            self.service.metrics.rejected.labels("inflight_per_connection").inc()
            self._error(
                request_id,
                RateLimitedError(
                    f"at most {self.limit} requests in flight per stream",
                    retry_after=0.05,
                    limit=self.limit,
                ),
            )
            return
        op = request.WhichOneof("op")
        if op in _CHECKED_OPS:
            try:
                check_op(self.principal, op, getattr(request, op).collection)
            except ForbiddenError as exc:
                self._error(request_id, exc)
                return
        if op == "search":
            self._start_search(request_id, request.search)
        elif op == "unsubscribe":
            self._unsubscribe(request_id, request.unsubscribe.subscription)
        elif op is None:
            self._error(
                request_id,
                InvalidParameterError(
                    "a request names one op: search, upsert, delete, subscribe or unsubscribe",
                    field="op",
                ),
            )
        else:
            task = asyncio.create_task(self._handle(request_id, request))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    def _start_search(self, request_id: str, search: pb.SearchRequest) -> None:
        try:
            pending = self.service.start_search(search.collection, codec.search_fields(search))
        except Exception as exc:
            self._error(request_id, exc)
            return

        def reply_when_done(done: PendingSearch) -> None:
            try:
                reply = pb.SessionReply(
                    request_id=request_id, search=codec.search_reply(done.answer())
                )
            except Exception as exc:
                self._error(request_id, exc)
                return
            self.send(reply)

        pending.held_in(self.tasks, reply_when_done)

    async def _handle(self, request_id: str, request: pb.SessionRequest) -> None:
        try:
            self.send(await self._dispatch(request_id, request))
        except Exception as exc:
            self._error(request_id, exc)

    async def _dispatch(self, request_id: str, request: pb.SessionRequest) -> pb.SessionReply:
        if request.HasField("upsert"):
            up = request.upsert
            written = await self.service.upsert(
                up.collection, codec.upsert_fields(up), up.idempotency_key
            )
            return pb.SessionReply(request_id=request_id, upsert=codec.upsert_reply(written.body))
        if request.HasField("delete"):
            de = request.delete
            written = await self.service.delete(
                de.collection, codec.delete_fields(de), de.idempotency_key
            )
            return pb.SessionReply(request_id=request_id, delete=codec.delete_reply(written.body))
        sub_request = request.subscribe
        sub = await self.service.subscribe(
            sub_request.collection, codec.subscribe_fields(sub_request)
        )
        sub.followed = True
        pump = asyncio.create_task(self._pump(request_id, sub))
        self.subscriptions[sub.id] = (sub, pump)
        return pb.SessionReply(request_id=request_id, subscribed=pb.Subscribed(subscription=sub.id))

    async def _pump(self, request_id: str, sub: Subscription) -> None:
        metrics = self.service.metrics
        metrics.streams.labels("grpc_subscription").inc()
        try:
            while (match := await sub.next()) is not None:
                self.send(codec.match_reply(request_id, match))
            if sub.closed_reason not in _CLOSED_HERE:
                end = pb.SubscriptionEnd(subscription=sub.id, reason=sub.closed_reason or "")
                self.send(pb.SessionReply(request_id=request_id, end=end))
        finally:
            metrics.streams.labels("grpc_subscription").dec()

    def _unsubscribe(self, request_id: str, sub_id: str) -> None:
        if sub_id not in self.subscriptions:
            error = SubscriptionNotFoundError(
                f"no subscription {sub_id!r} on this stream", subscription=sub_id
            )
            self._error(request_id, error)
            return
        self.subscriptions.pop(sub_id)
        self.service.unsubscribe(sub_id, "unsubscribed")
        self.send(
            pb.SessionReply(
                request_id=request_id, unsubscribed=pb.Unsubscribed(subscription=sub_id)
            )
        )
