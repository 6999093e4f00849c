"""The guard as pure ASGI middleware, and the WebSocket Origin rule.

A refused HTTP request gets the error table's answer (401 with its
``WWW-Authenticate`` challenge, or 403); a refused WebSocket upgrade gets an
HTTP 401/403 through the ASGI denial-response extension where the server has
it (uvicorn does), else a close before accept. The principal rides on in
``scope["ruvstream.principal"]`` for what checks each WebSocket frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from ruvstream.error_map import close_code, http_error
from ruvstream.errors import ForbiddenError, RuvstreamError

from .guard import Guard

__all__ = ["PRINCIPAL", "AuthMiddleware", "OriginPolicy", "refuse"]

PRINCIPAL = "ruvstream.principal"


class OriginPolicy:
    """Which browser origins may open a WebSocket (cross-site WebSocket hijacking).

    A request without ``Origin`` is not from a browser page and passes. With
    an allow list, the origin must be on it (``*`` allows any); without one,
    only a page from the node's own host (the ``Host`` header) may.
    """

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.allowed = frozenset(o.rstrip("/") for o in allowed)

    def check(self, headers: Iterable[tuple[bytes, bytes]]) -> None:
        origin = host = None
        for name, value in headers:
            if name == b"origin":
                origin = value.decode("latin-1").rstrip("/")
            elif name == b"host":
                host = value.decode("latin-1")
        if origin is None or "*" in self.allowed or origin in self.allowed:
            return
        if not self.allowed and host is not None and origin.split("://", 1)[-1] == host:
            return
        raise ForbiddenError(f"origin {origin!r} may not open a WebSocket here", origin=origin)


class AuthMiddleware:
    """Every HTTP request and WebSocket upgrade passes ``guard.check`` first."""

    def __init__(
        self,
        app: ASGIApp,
        guard: Guard | None,
        origins: OriginPolicy,
        on_refusal: Callable[[RuvstreamError], None] | None = None,
    ) -> None:
        """``on_refusal`` sees every refused request (the node counts them by code)."""
        self.app = app
        self.guard = guard
        self.origins = origins
        self.on_refusal = on_refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        try:
            if scope["type"] == "websocket":
                self.origins.check(scope["headers"])
            if self.guard is not None:
                scope[PRINCIPAL] = self.guard.check(scope)
        except RuvstreamError as exc:
            if self.on_refusal is not None:
                self.on_refusal(exc)
            await refuse(scope, receive, send, exc)
            return
        await self.app(scope, receive, send)


async def refuse(scope: Scope, receive: Receive, send: Send, exc: RuvstreamError) -> None:
    """Answer a refused request or upgrade with the error's status and body."""
    answer = http_error(exc)
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", answer.media_type.encode()),
        (b"content-length", str(len(answer.body)).encode()),
        *((k.encode(), v.encode()) for k, v in answer.headers),
    ]
    start: dict[str, Any] = {"status": answer.status, "headers": headers}
    if scope["type"] == "websocket":
        if "websocket.http.response" not in scope.get("extensions", {}):
            await receive()
            await send({"type": "websocket.close", "code": close_code(exc)})
            return
        await send({"type": "websocket.http.response.start", **start})
        await send({"type": "websocket.http.response.body", "body": answer.body})
        return
    await send({"type": "http.response.start", **start})
    await send({"type": "http.response.body", "body": answer.body})
