"""Admission control as pure ASGI middleware (it never buffers a stream).

Refuses work with 503 + Retry-After while loading, draining or at the
connection limit, and with 413 when a declared body is over the limit, before
any route reads it. Also counts connections and times HTTP requests.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ruvstream.api.errors import error_response
from ruvstream.api.state import ServingState
from ruvstream.error_map import close_code
from ruvstream.errors import PayloadTooLargeError, RuvstreamError, UnavailableError

__all__ = ["AdmissionMiddleware", "refusal"]

_ALWAYS_OPEN = frozenset({"/health", "/ready", "/metrics", "/openapi.json"})


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, state: ServingState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path in _ALWAYS_OPEN:
            await self.app(scope, receive, send)
            return
        refused = refusal(self.state, scope)
        if refused is not None:
            await self._refuse(scope, receive, send, refused)
            return
        protocol = "websocket" if scope["type"] == "websocket" else "http"
        node = self.state.node
        gauge = node.metrics.open_connections[protocol] if node else None
        self.state.active += 1
        if gauge is not None:
            gauge.inc()
        started = time.perf_counter()
        status = [0]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            # A socket has no status to record: its every frame skips the wrapper.
            await self.app(scope, receive, send_wrapper if protocol == "http" else send)
        finally:
            self.state.active -= 1
            if gauge is not None:
                gauge.dec()
            if node is not None and protocol == "http":
                node.metrics.observe_http(
                    _route_of(scope), scope["method"], status[0], time.perf_counter() - started
                )

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, exc: RuvstreamError
    ) -> None:
        node = self.state.node
        if node is not None:
            node.metrics.rejected.labels(exc.code).inc()
        if scope["type"] == "websocket":
            # Refuse the handshake: an HTTP 503 through the denial-response extension
            # where the server supports it, else a close before accept.
            await receive()
            await send({"type": "websocket.close", "code": close_code(exc)})
            return
        await error_response(exc)(scope, receive, send)


def refusal(state: ServingState, scope: Scope) -> RuvstreamError | None:
    """Why this request may not start now, or None."""
    if state.node is None:
        return UnavailableError("the node is still loading", retry_after=1.0)
    if state.draining:
        return UnavailableError("the node is shutting down", retry_after=1.0)
    if state.connections >= state.settings.limits.max_connections:
        return UnavailableError(
            "the node is at its connection limit",
            retry_after=1.0,
            limit=state.settings.limits.max_connections,
        )
    if scope["type"] == "http":
        limit = state.settings.limits.max_payload_bytes
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                return PayloadTooLargeError(
                    f"the body has {int(value)} bytes; the limit is {limit}", limit=limit
                )
    return None


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"
