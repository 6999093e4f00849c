"""The router's HTTP/1.1 protocol: uvicorn's httptools one, plain searches relayed without a task.

uvicorn runs every request as an asyncio task through the ASGI app; for a
plain JSON search that walk costs the router more than the search's bytes.
As the node does (``api/http_protocol.py``), the protocol stops such a
request where uvicorn would start its task and, once its body is in, hands
it to ``SearchRelay`` (``routing/relay.py``), which admits and relays it
on callbacks. Plain means: ``POST`` to a collection's ``search`` or
``search/batch``, a ``Content-Length`` body small enough to be read without
pausing, no ``Expect``, no event stream asked for, in front of the
router's own app (not wrapped for tracing) whose limits this process
decides (no Redis) and that does not hedge. Everything else, and every
request on a router in ``standard`` mode, takes uvicorn's way unchanged.

Its connections also get a ``CoalescingTransport``, which sends what one
loop pass wrote at the end of that pass (an answer's head and body in one
segment); an upgraded WebSocket gets the plain transport back.

uvicorn arms a keep-alive timer after each answer and cancels it at the next
request's first byte: two timer calls a search. Here the idle deadline is
only marked, and one timer per connection, when it fires, closes the
connection if it has been idle that long, sets itself for the rest if a
later answer moved the deadline, or lapses while a request is in.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from ruvstream import tracing
from ruvstream.api.coalesce import CoalescingTransport

from .app import RouterApp
from .relay import SearchRelay

__all__ = ["RouterHttpProtocol", "plain_search"]

_PLAIN = re.compile(r"/v1/collections/[^/]+/search(?:/batch)?")


class RouterHttpProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        coalescing: Any = CoalescingTransport(transport, self.loop)
        super().connection_made(coalescing)
        self._held: SearchRelay | None = None
        self._idle_due: float | None = None
        """When an idle connection is closed; None while a request is in."""

    def _unset_keepalive_if_required(self) -> None:
        self._idle_due = None  # the timer lapses when it fires

    def on_response_complete(self) -> None:
        """uvicorn's, with the keep-alive deadline marked instead of a timer set."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self._idle_due = None
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        self._idle_due = self.loop.time() + self.timeout_keep_alive
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self._check_idle
            )

    def _check_idle(self) -> None:
        self.timeout_keep_alive_task = None
        if self._idle_due is None:
            return
        left = self._idle_due - self.loop.time()
        if left > 0:
            self.timeout_keep_alive_task = self.loop.call_later(left, self._check_idle)
        else:
            self.timeout_keep_alive_handler()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.timeout_keep_alive_task is not None:
            self.timeout_keep_alive_task.cancel()
            self.timeout_keep_alive_task = None

    def handle_websocket_upgrade(self) -> None:
        if isinstance(self.transport, CoalescingTransport):
            self.transport = self.transport.unwrap()
        super().handle_websocket_upgrade()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        if not isinstance(app, RouterApp) or not plain_search(app, cycle):
            super()._start_asgi_task(cycle, app)
            return
        self._held = SearchRelay(app, cycle, self.tasks)
        if not cycle.more_body:  # pipelined: its body was read while the last one ran
            self._relay_held()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        held = self._held
        if held is not None and held.cycle is self.cycle and not self.cycle.more_body:
            self._relay_held()

    def _relay_held(self) -> None:
        held, self._held = self._held, None
        assert held is not None
        held.start()


def plain_search(app: RouterApp, cycle: RequestResponseCycle) -> bool:
    """Can ``SearchRelay`` take this request (see the module's docstring)?"""
    router = app.router
    scope: Any = cycle.scope
    if router is None or scope["method"] != "POST" or cycle.waiting_for_100_continue:
        return False
    if _PLAIN.fullmatch(scope["path"]) is None or not router.admits_now:
        return False
    if router.settings.hedge_after_ms or tracing.enabled():
        return False
    length = None
    for name, value in scope["headers"]:
        if name == b"content-length":
            length = value
        elif name in (b"transfer-encoding", b"expect") or (
            name == b"accept" and b"text/event-stream" in value
        ):
            return False
    limit = min(HIGH_WATER_LIMIT, router.settings.max_payload_bytes)
    return length is not None and length.isdigit() and int(length) <= limit
