"""GET /v1/ws: one socket, many concurrent requests, pushed subscription events.

Every client frame runs concurrently with the others, so a slow search never
holds up a ping or a write on the same socket: a search is queued on the
batcher and answered from its future's callback (no task per search, the
commonest frame), every other op runs in its own task. Replies leave through
one writer (frames never interleave) and carry the request's ``id``. A bad frame
gets an error frame, never a closed socket. The server's WebSocket pings
(``ws_ping_interval``) keep idle sockets alive through proxies.

The outbox is bounded in frames and bytes (``max_outbox_frames``,
``max_outbox_bytes``). A socket whose reader lets it fill is a slow
consumer: its queued frames are dropped, its subscriptions end, its
requests are cancelled, and it gets one error frame (``slow_consumer``)
and a 1008 close. A peer that reads nothing at all cannot even take those;
the WebSocket protocol cuts it once it has taken no bytes for
``send_stall_seconds`` (``api/ws_protocol.py``). The writer is a task only
while frames wait, so an idle socket holds no task of its own.

On the node's own WebSocket protocol the session claims the socket once it
runs: frames that parse reach ``take`` from the protocol's ``data_received``
and replies with nothing queued ahead are written at once (the fast path,
``api/ws_protocol.py``); the read loop then sees only what the protocol
passes on (frames that do not parse, the disconnect). Every frame meets
the same checks in ``take`` whichever way it came.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from ruvstream.api.codec import parse_json
from ruvstream.api.state import ServingState
from ruvstream.api.ws_protocol import NodeWebSocketProtocol
from ruvstream.auth import PRINCIPAL, frame_refusal
from ruvstream.engine import Match, Subscription
from ruvstream.error_map import CLOSE_GOING_AWAY, close_code, error_frame
from ruvstream.errors import (
    InvalidParameterError,
    RateLimitedError,
    RuvstreamError,
    SlowConsumerError,
    SubscriptionNotFoundError,
    UnavailableError,
    UnknownOperationError,
)
from ruvstream.service import NodeService, PendingSearch

__all__ = ["WebSocketSession", "websocket_endpoint"]

log = logging.getLogger(__name__)
OPS = ("search", "upsert", "delete", "subscribe", "unsubscribe", "ping")


class WebSocketSession:
    __slots__ = (
        "close_with",
        "closing",
        "limit",
        "max_bytes",
        "max_frames",
        "metrics",
        "outbox",
        "outbox_bytes",
        "protocol",
        "service",
        "state",
        "subscriptions",
        "tasks",
        "writer",
        "ws",
    )

    def __init__(
        self,
        websocket: WebSocket,
        state: ServingState,
        service: NodeService,
        protocol: NodeWebSocketProtocol | None = None,
    ) -> None:
        self.ws = websocket
        self.protocol = protocol
        """The node's protocol under this socket, when nothing stands between (fast path)."""
        self.state = state
        self.service = service
        self.metrics = service.metrics
        limits = state.settings.limits
        self.limit = limits.max_inflight_per_connection
        self.max_frames = limits.max_outbox_frames
        self.max_bytes = limits.max_outbox_bytes
        self.outbox: deque[bytes] | None = None
        """Frames waiting to be written; None when there are none (idle: no deque held)."""
        self.outbox_bytes = 0
        self.writer: asyncio.Task[None] | None = None
        self.close_with: tuple[int, str] | None = None
        """Set once the socket is to close: the writer sends what is queued, then this close."""
        self.tasks: set[asyncio.Future[Any]] = set()
        """Requests in flight: tasks, and the batcher futures of searches."""
        self.subscriptions: dict[str, tuple[Subscription, asyncio.Task[None], Any]] = {}
        """Subscription id to it, the task that waits for its end, and its request id."""
        self.closing = False

    async def run(self) -> None:
        await self.ws.accept()
        if self.protocol is not None:
            self.protocol.claim(self.take)
        try:
            await self._read_loop()
        finally:
            if self.protocol is not None:
                self.protocol.release()
                self.protocol = None
            self._end_work("socket closed")
            self.outbox = None
            self.outbox_bytes = 0
            await asyncio.gather(
                *([self.writer] if self.writer else []), *self.tasks, return_exceptions=True
            )

    def _end_work(self, reason: str) -> None:
        """End every subscription and cancel every request of this socket."""
        for sub, pump, _ in self.subscriptions.values():
            self.service.unsubscribe(sub.id, reason)
            pump.cancel()
        self.subscriptions.clear()
        for task in list(self.tasks):
            task.cancel()

    @property
    def inflight(self) -> int:
        return len(self.tasks)

    async def close_for_shutdown(self) -> None:
        """Finish in-flight requests, then close with 1001 (going away)."""
        self.closing = True
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=self.state.settings.server.drain_seconds)
        self._close_after_outbox(CLOSE_GOING_AWAY, "server shutting down")
        if self.writer is not None:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await self.writer

    def send(self, frame: dict[str, Any]) -> None:
        self._push(orjson.dumps(frame, option=orjson.OPT_SERIALIZE_NUMPY))

    def _push(self, data: bytes) -> None:
        if self.close_with is not None:
            return  # closing: nothing more goes out
        if self.outbox is None:
            if self.writer is None and self.protocol is not None and self.protocol.write_now(data):
                return  # nothing was queued ahead of it: written at once
            self.outbox = deque()
        if len(self.outbox) >= self.max_frames or self.outbox_bytes + len(data) > self.max_bytes:
            self._fell_behind()
            return
        self.outbox.append(data)
        self.outbox_bytes += len(data)
        self._wake_writer()

    def _wake_writer(self) -> None:
        if self.writer is None:
            self.writer = asyncio.create_task(self._write_loop())

    def _close_after_outbox(self, code: int, reason: str) -> None:
        if self.close_with is None:
            self.close_with = (code, reason)
            self._wake_writer()

    def _fell_behind(self) -> None:
        """The reader let the outbox fill: drop it, end the work, say why, close."""
        if self.close_with is not None:
            return  # already closing: nothing more is queued for it
        error = SlowConsumerError(
            f"the socket fell behind: more than {self.max_frames} frames or "
            f"{self.max_bytes} bytes waited to be sent",
            limit=self.max_bytes,
        )
        log.info("closing a slow WebSocket consumer: %s", error.message)
        self.metrics.slow_consumers.labels("websocket", "outbox").inc()
        self._end_work("slow consumer")
        frame = orjson.dumps(error_frame(None, error))
        self.outbox = deque([frame])
        self.outbox_bytes = len(frame)
        self._close_after_outbox(close_code(error), "slow consumer")

    async def _write_loop(self) -> None:
        """Send what is queued, then the close if one is due; ends when the outbox is empty."""
        try:
            while self.outbox:
                data = self.outbox.popleft()
                self.outbox_bytes -= len(data)
                await self.ws.send_text(data.decode())
            self.outbox = None
            if self.close_with is not None:
                code, reason = self.close_with
                await self.ws.close(code=code, reason=reason)
        except (WebSocketDisconnect, RuntimeError):
            self.outbox = None  # the peer is gone: nothing more can leave
            self.outbox_bytes = 0
        finally:
            self.writer = None

    async def _read_loop(self) -> None:
        while True:
            try:
                message = await self.ws.receive()
            except RuntimeError:
                return
            if message["type"] == "websocket.disconnect":
                return
            if self.close_with is not None:
                continue  # closing: frames still in flight are dropped
            raw = message.get("text") or message.get("bytes") or b""
            if self.state.search_paths is not None:
                self.state.search_paths.ws_standard.inc()
            try:
                frame = parse_json(raw)
            except RuvstreamError as exc:
                self.send(error_frame(None, exc))
                continue
            self.take(frame)

    def take(self, frame: dict[str, Any]) -> None:
        """Check one decoded frame and start it (from the read loop or the protocol)."""
        if self.close_with is not None:
            return  # closing: frames still in flight are dropped
        request_id = frame.get("id")
        if (denied := frame_refusal(self.ws.scope.get(PRINCIPAL), frame)) is not None:
            self.send(error_frame(request_id, denied))
            return
        if self.closing:
            self.send(
                error_frame(
                    request_id, UnavailableError("the node is shutting down", retry_after=1.0)
                )
            )
            return
        if len(self.tasks) >= self.limit:
            self._refuse_over_limit(request_id)
            return
        if frame.get("op") == "search":
            self._start_search(request_id, frame)
            return
        task = asyncio.create_task(self._handle(request_id, frame))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _refuse_over_limit(self, request_id: Any) -> None:
        self.send(
            error_frame(
                request_id,
                RateLimitedError(
                    f"at most {self.limit} requests in flight per connection",
                    retry_after=0.05,
                    limit=self.limit,
                ),
            )
        )
        self.metrics.rejected.labels("inflight_per_connection").inc()

    def _start_search(self, request_id: Any, frame: dict[str, Any]) -> None:
        try:
            pending = self.service.start_search(_collection_name(frame), frame)
        except Exception as exc:
            self.metrics.ws_frames.labels("search", "error").inc()
            self.send(error_frame(request_id, exc))
            return

        def reply_when_done(done: PendingSearch) -> None:
            try:
                reply, outcome = {"id": request_id, "type": "result", **done.answer()}, "ok"
            except Exception as exc:
                reply, outcome = error_frame(request_id, exc), "error"
            self.metrics.ws_frames.labels("search", outcome).inc()
            self.send(reply)

        pending.held_in(self.tasks, reply_when_done)

    async def _handle(self, request_id: Any, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        try:
            reply = await self._dispatch(request_id, op, frame)
            outcome = "ok"
        except Exception as exc:
            reply = error_frame(request_id, exc)
            outcome = "error"
        self.metrics.ws_frames.labels(op if op in OPS else "unknown", outcome).inc()
        # Out of the in-flight count before the reply can leave: a reply written at
        # once reaches a client that may answer it before this task's done callback.
        if (me := asyncio.current_task()) is not None:
            self.tasks.discard(me)
        self.send(reply)

    async def _dispatch(self, request_id: Any, op: Any, frame: dict[str, Any]) -> dict[str, Any]:
        """Every op but search, which ``_start_search`` answers without a task."""
        if op == "ping":
            return {"id": request_id, "type": "pong"}
        if op == "unsubscribe":
            return self._unsubscribe(request_id, frame)
        if op not in OPS:
            raise UnknownOperationError(f"unknown op {op!r}; ops are {list(OPS)}", op=op)
        name = _collection_name(frame)
        key = str(frame.get("idempotency_key") or "")
        if op == "upsert":
            written = await self.service.upsert(name, frame, key)
        elif op == "delete":
            written = await self.service.delete(name, frame, key)
        else:
            return await self._subscribe(request_id, name, frame)
        return {"id": request_id, "type": "result", **written.body}

    async def _subscribe(self, request_id: Any, name: str, frame: dict[str, Any]) -> dict[str, Any]:
        sub = await self.service.subscribe(name, frame)
        sub.followed = True
        sub.listener = self
        pump = asyncio.create_task(self._pump(request_id, sub))
        self.subscriptions[sub.id] = (sub, pump, request_id)
        return {"id": request_id, "type": "subscribed", "subscription": sub.id}

    def matched(self, batch: list[tuple[Subscription, Match]]) -> None:
        """A write's matches for this socket's subscriptions: one ``matches`` frame."""
        entries = []
        for sub, match in batch:
            held = self.subscriptions.get(sub.id)
            if held is not None:
                record = {"id": match.id, "score": match.score, "metadata": match.metadata}
                entries.append({"id": held[2], "subscription": sub.id, "record": record})
        if entries:
            self.send({"type": "matches", "matches": entries})

    async def _pump(self, request_id: Any, sub: Subscription) -> None:
        """Waits for the subscription's end (its matches come through ``matched``)."""
        self.metrics.streams.labels("ws_subscription").inc()
        try:
            while (match := await sub.next()) is not None:
                self.matched([(sub, match)])  # queued before the listener was set
            if sub.fell_behind:
                self._fell_behind()
            elif sub.closed_reason not in ("unsubscribed", "socket closed", "slow consumer"):
                self.send(
                    {
                        "id": request_id,
                        "type": "end",
                        "subscription": sub.id,
                        "reason": sub.closed_reason,
                    }
                )
        finally:
            self.metrics.streams.labels("ws_subscription").dec()

    def _unsubscribe(self, request_id: Any, frame: dict[str, Any]) -> dict[str, Any]:
        sub_id = frame.get("subscription")
        if not isinstance(sub_id, str) or sub_id not in self.subscriptions:
            raise SubscriptionNotFoundError(
                f"no subscription {sub_id!r} on this socket", subscription=sub_id
            )
        self.subscriptions.pop(sub_id)
        self.service.unsubscribe(sub_id, "unsubscribed")
        return {"id": request_id, "type": "unsubscribed", "subscription": sub_id}


def _collection_name(frame: dict[str, Any]) -> str:
    name = frame.get("collection")
    if not isinstance(name, str):
        raise InvalidParameterError("collection is required", field="collection")
    return name


async def websocket_endpoint(
    websocket: WebSocket, protocol: NodeWebSocketProtocol | None = None
) -> None:
    """``protocol``: the node's protocol, passed only where the socket's receive and
    send are its own (``api/fastlane.py``), so the fast path skips nothing."""
    state: ServingState = websocket.app.state.serving
    service = state.require_service()
    session = WebSocketSession(websocket, state, service, protocol)
    state.sessions.add(session)
    service.metrics.streams.labels("websocket").inc()
    try:
        await session.run()
    finally:
        state.sessions.discard(session)
        service.metrics.streams.labels("websocket").dec()
