"""The node's WebSocket protocol: uvicorn's sans-I/O one, plus a cut for stalled peers.

A peer that stops reading fills the kernel's send buffer, then the
transport's; uvicorn then holds every send until the transport drains, which
for a peer that never reads is never, and even a close frame cannot leave.
Past ``send_stall_seconds`` of paused writing the transport is aborted
(``api/stall.py``), which ends the session like any disconnect. A peer that
reads, however slowly, resumes writing and stops the timer.

It also holds less per socket, so that 100k idle sockets fit one node:
its inbox and its writable flag are ``lean_sync``'s (nothing allocated while
idle, where asyncio's queue and event hold four deques), and the handshake's
request and response (their header objects, about 3.5 KB) are let go once
the socket is accepted.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from ruvstream.api.lean_sync import LeanEvent, LeanInbox
from ruvstream.api.stall import StallTimer
from ruvstream.api.state import ServingState

__all__ = ["NodeWebSocketProtocol", "node_ws_protocol"]


class NodeWebSocketProtocol(WebSocketsSansIOProtocol):
    # Bound per server by node_ws_protocol().
    state: ServingState

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stall = StallTimer(self.state, "websocket")
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
        self._stall.paused(self.loop, self.transport)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._stall.resumed()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stall.resumed()
        super().connection_lost(exc)


def node_ws_protocol(state: ServingState) -> type[NodeWebSocketProtocol]:
    """The protocol class for one server (the ``ws=`` argument of ``uvicorn.Config``)."""
    return type("BoundNodeWebSocketProtocol", (NodeWebSocketProtocol,), {"state": state})
