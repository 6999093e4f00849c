"""Read deadlines for HTTP/1.1 connections, and connections counted while they wait.

uvicorn's httptools protocol times out only an idle keep-alive connection:
one that sends its headers or its body a byte at a time (slowloris) holds
its socket forever, and is not counted anywhere until its headers are in.
``GuardedHttpProtocol`` adds two deadlines:

    headers   ``header_timeout_seconds`` from the connection's start (for its
              first request) or from the first byte of a later request, until
              the whole head is in
    body      ``body_timeout_seconds`` from the end of the head until the whole
              body is in

And a peer that takes no bytes of an answer (an SSE stream, a large
body) for ``send_stall_seconds`` is cut (``api/stall.py``).

A connection past a deadline gets ``408`` with the JSON error body
(``client_timeout``) if no answer has started, and is closed; a request
whose body stalled is ended for the app as a disconnect. A connection
waiting for a request's head counts in ``ServingState.waiting``, which the
connection limit adds to the work in progress, so half-open connections
count against ``max_connections``: a new connection from its start, a
kept-alive one from the first byte of its next request. An idle kept-alive
connection does not count (routers hold pools of them; uvicorn's keep-alive
timeout closes them).

The deadlines share one timer per connection that is moved only when a
deadline comes sooner than it: a request's phases set the deadline, and the
timer, when it fires, cuts the connection if that deadline has passed, sets
itself for it if not, and lapses if no phase is timed. A search whose head
and body come in one read then costs no timer calls at all once the
connection's timer is set.
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from ruvstream.api.stall import StallTimer
from ruvstream.api.state import ServingState
from ruvstream.error_map import http_error
from ruvstream.errors import ClientTimeoutError

__all__ = ["GuardedHttpProtocol", "guarded_http_protocol"]

log = logging.getLogger(__name__)


class GuardedHttpProtocol(HttpToolsProtocol):
    # Bound per server (see ``http_protocol.node_http_protocol``).
    state: ServingState

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._stall = StallTimer(self.state, "http")
        self._deadline: asyncio.TimerHandle | None = None
        self._fires_at = 0.0
        self._phase: str | None = None
        """The phase being timed ("headers", "body"), None between requests."""
        self._due = 0.0
        self._waiting = False
        self._await_head(arm=True)

    def _await_head(self, *, arm: bool) -> None:
        if not self._waiting:
            self._waiting = True
            self.state.waiting += 1
        if arm:
            self._arm("headers", self.state.settings.limits.header_timeout_seconds)

    def _head_is_in(self) -> None:
        if self._waiting:
            self._waiting = False
            self.state.waiting -= 1

    def _arm(self, phase: str, seconds: float) -> None:
        self._phase = phase
        self._due = self.loop.time() + seconds
        if self._deadline is None or self._fires_at > self._due:
            self._set_timer(seconds)

    def _set_timer(self, seconds: float) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._fires_at = self.loop.time() + seconds
        self._deadline = self.loop.call_later(seconds, self._check_deadline)

    def _disarm(self) -> None:
        """Nothing is timed now; the timer lapses when it fires."""
        self._phase = None

    def _stop_timer(self) -> None:
        self._phase = None
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _check_deadline(self) -> None:
        self._deadline = None
        if self._phase is None:
            return
        left = self._due - self.loop.time()
        if left > 0:
            self._set_timer(left)
        else:
            self._too_slow(self._phase)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        # A later request on a kept-alive connection: counted and timed from its first byte.
        self._await_head(arm=self._phase is None)

    def on_headers_complete(self) -> None:
        self._head_is_in()
        self._arm("body", self.state.settings.limits.body_timeout_seconds)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        self._stall.resumed()
        self._stop_timer()
        self._head_is_in()
        super().handle_websocket_upgrade()

    def pause_writing(self) -> None:
        super().pause_writing()
        self._stall.paused(self.loop, self.transport)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._stall.resumed()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stall.resumed()
        self._stop_timer()
        self._head_is_in()
        super().connection_lost(exc)

    def _too_slow(self, phase: str) -> None:
        self._phase = None
        if self.transport.is_closing():
            return
        limits = self.state.settings.limits
        seconds = (
            limits.header_timeout_seconds if phase == "headers" else limits.body_timeout_seconds
        )
        if self.state.node is not None:
            self.state.node.metrics.read_timeouts.labels(phase).inc()
        cycle = self.cycle if phase == "body" else None
        if cycle is None or not cycle.response_started:
            self.transport.write(_timeout_answer(f"the request's {phase} took over {seconds:g}s"))
        if cycle is not None:  # the app sees a disconnect instead of the rest of the body
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()


def guarded_http_protocol(state: ServingState) -> type[GuardedHttpProtocol]:
    """The deadlines alone, without the search shortcut (``--http standard``)."""
    return type("BoundGuardedHttpProtocol", (GuardedHttpProtocol,), {"state": state})


def _timeout_answer(message: str) -> bytes:
    error = http_error(ClientTimeoutError(message))
    head = [STATUS_LINE[error.status]]
    for name, value in error.headers:
        head.append(f"{name}: {value}\r\n".encode("latin-1"))
    head.append(b"content-type: %s\r\n" % error.media_type.encode())
    head.append(b"content-length: %d\r\nconnection: close\r\n\r\n" % len(error.body))
    return b"".join(head) + error.body
