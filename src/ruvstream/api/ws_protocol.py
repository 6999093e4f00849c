"""The node's WebSocket protocol: uvicorn's sans-I/O one, plus a cut for stalled peers.

A peer that stops reading fills the kernel's send buffer, then the
transport's; uvicorn then holds every send until the transport drains, which
for a peer that never reads is never, and even a close frame cannot leave
(asyncio's ``close`` waits for the buffer to flush). So once the transport
has asked the protocol to pause writing, a timer starts; if the peer takes
nothing (writing never resumes) for ``send_stall_seconds`` the transport is
aborted, which frees its buffer and ends the session like any disconnect.
A peer that reads, however slowly, resumes writing and stops the timer.

It also holds less per socket, so that 100k idle sockets fit one node:
its inbox and its writable flag are ``lean_sync``'s (nothing allocated while
idle, where asyncio's queue and event hold four deques), and the handshake's
request and response (their header objects, about 3.5 KB) are let go once
the socket is accepted.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from ruvstream.api.lean_sync import LeanEvent, LeanInbox
from ruvstream.api.state import ServingState

__all__ = ["NodeWebSocketProtocol", "node_ws_protocol"]

log = logging.getLogger(__name__)


class NodeWebSocketProtocol(WebSocketsSansIOProtocol):
    # Bound per server by node_ws_protocol().
    state: ServingState

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stall: asyncio.TimerHandle | None = None
        self.queue = LeanInbox()  # type: ignore[assignment]
        self.writable = LeanEvent()  # type: ignore[assignment]
        self.writable.set()

    def start_keepalive(self) -> None:
        # Called once, as the accept goes out: the handshake's objects are done with.
        super().start_keepalive()
        self.__dict__.pop("request", None)
        self.__dict__.pop("response", None)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._stall is None:
            seconds = self.state.settings.limits.send_stall_seconds
            self._stall = self.loop.call_later(seconds, self._cut_stalled_peer)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._cancel_stall()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_stall()
        super().connection_lost(exc)

    def _cancel_stall(self) -> None:
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None

    def _cut_stalled_peer(self) -> None:
        self._stall = None
        seconds = self.state.settings.limits.send_stall_seconds
        log.info("cutting a WebSocket whose peer took no bytes for %.0fs", seconds)
        if self.state.node is not None:
            self.state.node.metrics.slow_consumers.labels("websocket", "stall").inc()
        self.transport.abort()


def node_ws_protocol(state: ServingState) -> type[NodeWebSocketProtocol]:
    """The protocol class for one server (the ``ws=`` argument of ``uvicorn.Config``)."""
    return type("BoundNodeWebSocketProtocol", (NodeWebSocketProtocol,), {"state": state})
