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

And it takes the commonest frames the short way (``FrameSink``): once the
session is running and has claimed the socket, a complete frame that parses
as a JSON object goes from ``data_received`` straight to the session's
handler, without the ASGI message, the queue, the pause of reading or the
wake of the session's task; and a reply with nothing queued before it is
written as a frame at once (one encode, no writer task). Anything else takes
uvicorn's way unchanged: a frame that does not parse (the session answers
it as before), frames behind one still queued, and replies while writing is
paused or the socket is closing. ``--http standard`` turns it off with
the HTTP shortcut (``fast=False``): every frame then takes uvicorn's way.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from ruvstream.api.codec import parse_json
from ruvstream.api.lean_sync import LeanEvent, LeanInbox
from ruvstream.api.stall import StallTimer
from ruvstream.api.state import ServingState
from ruvstream.errors import RuvstreamError

__all__ = ["FrameSink", "NodeWebSocketProtocol", "node_ws_protocol"]

FrameSink = Callable[[dict[str, Any]], None]
"""Takes one decoded client frame (the session's handler)."""


class NodeWebSocketProtocol(WebSocketsSansIOProtocol):
    # Bound per server by node_ws_protocol().
    state: ServingState
    fast: bool = True
    frame_sink: FrameSink | None = None
    """Set by the session once it runs (``claim``): frames then skip the ASGI queue."""

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

    def claim(self, sink: FrameSink) -> None:
        """Hand every later frame that parses to ``sink`` (see the module docstring)."""
        if self.fast:
            self.frame_sink = sink

    def release(self) -> None:
        """The session has ended: frames and replies take uvicorn's way again."""
        self.frame_sink = None

    def send_receive_event_to_app(self) -> None:
        sink = self.frame_sink
        frames = self.frames
        if sink is None or self.close_sent or len(frames) != 1 or not self.queue.empty():
            super().send_receive_event_to_app()
            return
        try:
            # orjson refuses bytes that are not UTF-8, as the text frame's decode would.
            frame = parse_json(frames[0])
        except RuvstreamError:
            super().send_receive_event_to_app()  # the session answers it the usual way
            return
        self.frames = []
        if self.state.search_paths is not None:
            self.state.search_paths.ws_fast.inc()
        sink(frame)

    def write_now(self, data: bytes) -> bool:
        """Write ``data`` as one text frame now, if the socket is open and writable;
        False: it must go the ASGI way (``websocket.send``)."""
        conn = self.conn
        if (
            self.frame_sink is None
            or self.close_sent
            or conn.state is not State.OPEN
            or not self.writable.is_set()
            or self.transport.is_closing()
        ):
            return False
        if conn.extensions:  # e.g. a compressor: it must see every frame
            conn.send_text(data)
            self.transport.write(b"".join(conn.data_to_send()))
        else:
            self.transport.write(_text_head(len(data)) + data)
        return True

    def pause_writing(self) -> None:
        super().pause_writing()
        self._stall.paused(self.loop, self.transport)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._stall.resumed()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stall.resumed()
        super().connection_lost(exc)


def _text_head(length: int) -> bytes:
    """A final, unmasked text frame's head (RFC 6455 5.2), as the server sends it."""
    if length < 126:
        return bytes((0x81, length))
    if length < 1 << 16:
        return struct.pack("!BBH", 0x81, 126, length)
    return struct.pack("!BBQ", 0x81, 127, length)


def node_ws_protocol(state: ServingState, *, fast: bool = True) -> type[NodeWebSocketProtocol]:
    """The protocol class for one server (the ``ws=`` argument of ``uvicorn.Config``);
    ``fast=False``: frames and replies always take uvicorn's way."""
    bound = {"state": state, "fast": fast}
    return type("BoundNodeWebSocketProtocol", (NodeWebSocketProtocol,), bound)
