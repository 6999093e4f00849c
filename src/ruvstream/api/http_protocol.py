"""The node's HTTP/1.1 protocol: uvicorn's, plus searches answered without a task.

uvicorn runs every request as an asyncio task that walks the ASGI stack,
and for a JSON search that walk costs the event loop more than the search's
own parsing and answer do. ``NodeHttpProtocol`` answers the plain case of a
search where uvicorn would start that task: once the body is in, it decodes
the JSON, hands it to the service layer (``NodeService.start_search``) and
writes the answer from the batcher's callback, with the same status line,
headers and bytes the ASGI route would send, and the same metrics.
``--http fast`` (or ``auto``) chooses it, see ``api/http_mode.py``.

Anything else takes uvicorn's usual way, unchanged: other routes, SSE
searches, bodies that are large, chunked or wait for ``100-continue``,
requests that admission would refuse, and every search that fails, which
the ASGI route then answers (or refuses) as it answers any other.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

import orjson
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from ruvstream.api.admission import refusal
from ruvstream.api.coalesce import CoalescingTransport
from ruvstream.api.codec import JSON, media_type, parse_json
from ruvstream.api.http_guard import GuardedHttpProtocol
from ruvstream.api.state import ServingState
from ruvstream.api.whole_answer import write_whole
from ruvstream.errors import RuvstreamError
from ruvstream.service import PendingSearch

__all__ = ["NodeHttpProtocol", "node_http_protocol"]

log = logging.getLogger(__name__)
SEARCH_ROUTE = "/v1/collections/{name}/search"
_SEARCH = re.compile(r"/v1/collections/([^/]+)/search")


class NodeHttpProtocol(GuardedHttpProtocol):
    """uvicorn's httptools protocol with read deadlines (``api/http_guard.py``) and the
    search shortcut.

    The shortcut engages only in front of the ASGI stack it stands in for:
    the node's own app (a plain Starlette app whose middleware is exactly
    AdmissionMiddleware, AuthMiddleware and FastLane, CORS aside, with the
    search route first; the shortcut makes admission's and the key's checks
    itself), as
    ``http_mode.unknown_stack`` checks it. Three facts guarantee that.
    ``http_protocol_for`` binds this class only to an app that passed the
    check. The first connection checks again (``stack_known``), once the app
    has started and Starlette refuses more middleware: that uvicorn serves
    that very app object, not a layer of its own around it (proxy headers,
    trace logging), and that the stack is still the node's; if not, the
    shortcut is off for good, with one log line. And a request takes the
    shortcut only when uvicorn hands it that app, not its own "service
    unavailable" app.
    """

    # Bound per server by node_http_protocol() (with ``state``).
    node_app: Any
    stack_known: bool | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        coalescing: Any = CoalescingTransport(transport, self.loop)
        super().connection_made(coalescing)
        self._held: tuple[RequestResponseCycle, str] | None = None
        if self.stack_known is None:
            type(self).stack_known = _stack_still_known(self.app, self.node_app)

    def handle_websocket_upgrade(self) -> None:
        if isinstance(self.transport, CoalescingTransport):
            self.transport = self.transport.unwrap()
        super().handle_websocket_upgrade()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        known = app is self.node_app and self.stack_known
        name = self._plain_search(cycle) if known else None
        if name is None:
            super()._start_asgi_task(cycle, app)
            return
        self._held = (cycle, name)
        if not cycle.more_body:  # pipelined: its body was read while the last one ran
            self._submit_held()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        if self._held is not None and self._held[0] is self.cycle and not self.cycle.more_body:
            self._submit_held()

    def _plain_search(self, cycle: RequestResponseCycle) -> str | None:
        """The collection name if this is a search the fast way can answer."""
        scope: Any = cycle.scope
        if scope["method"] != "POST" or cycle.waiting_for_100_continue:
            return None
        match = _SEARCH.fullmatch(scope["path"])
        if match is None:
            return None
        length = None
        for name, value in scope["headers"]:
            if name == b"accept" and b"text/event-stream" in value:
                return None
            if name == b"content-length":
                length = value
            if name == b"content-type" and media_type(value.decode("latin-1")) != JSON:
                return None  # the route answers 415
        # The body must fit below uvicorn's read-pause mark: nothing here resumes reading.
        if length is None or not length.isdigit() or int(length) > HIGH_WATER_LIMIT:
            return None
        if refusal(self.state, scope) is not None or not _key_check_passes(self.state, scope):
            return None  # admission, CORS or the key check answers it the usual way
        return match.group(1)

    def _submit_held(self) -> None:
        assert self._held is not None
        cycle, name = self._held
        self._held = None
        service = self.state.service
        assert service is not None  # refusal() checked the node is open
        try:
            pending = service.start_search(name, parse_json(bytes(cycle.body)))
        except Exception:
            self._run_asgi(cycle)  # the route gives bad input its error, and counts it
            return
        self.state.active += 1
        service.metrics.open_connections["http"].inc()
        pending.then(lambda done: self._answer(cycle, done))

    def _answer(self, cycle: RequestResponseCycle, done: PendingSearch) -> None:
        service = self.state.service
        assert service is not None
        metrics = service.metrics
        self.state.active -= 1
        metrics.open_connections["http"].dec()
        if cycle.disconnected:
            return
        try:
            payload = orjson.dumps(done.answer(), option=orjson.OPT_SERIALIZE_NUMPY)
        except (Exception, asyncio.CancelledError):
            # E.g. the collection was dropped meanwhile, or the node is shutting
            # down: the route answers the same request as it answers any other.
            self._run_asgi(cycle)
            return
        json_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(payload)),
        ]
        write_whole(cycle, 200, json_headers, payload)
        assert self.state.search_paths is not None  # set with the service
        self.state.search_paths.fast.inc()
        metrics.observe_http(SEARCH_ROUTE, "POST", 200, time.perf_counter() - done.started)

    def _run_asgi(self, cycle: RequestResponseCycle) -> None:
        super()._start_asgi_task(cycle, self.app)


def _key_check_passes(state: ServingState, scope: Any) -> bool:
    """The check every entry makes (``auth.Guard.check``), and no Origin when CORS is on."""
    if state.settings.auth.cors_origins and any(n == b"origin" for n, _ in scope["headers"]):
        return False  # CORSMiddleware adds its headers to the answer
    if state.guard is None:
        return True
    try:
        state.guard.check(scope)
    except RuvstreamError:
        return False
    return True


def _stack_still_known(served: Any, node_app: Any) -> bool:
    """Checked once the app has started: is uvicorn serving the app checked at start-up?"""
    from ruvstream.api.http_mode import unknown_stack  # http_mode imports this module

    if served is not node_app:
        reason: str | None = f"uvicorn wraps the app in {type(served).__name__}"
    else:
        reason = unknown_stack(node_app)
    if reason is not None:
        log.warning("the fast HTTP path is off: %s", reason)
    return reason is None


def node_http_protocol(app: Any) -> type[NodeHttpProtocol]:
    """The protocol class for one server, bound to its app and serving state.

    Call it through ``http_mode.http_protocol_for``, which checks the app first.
    """
    bound = {"state": app.state.serving, "node_app": app}
    return type("BoundNodeHttpProtocol", (NodeHttpProtocol,), bound)
